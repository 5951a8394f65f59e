"""Fixtures and helpers shared by the test folders (and the benchmarks), one module per concern.

``paths`` (the project's root, the real test pictures beside it), ``pictures`` (pictures the project
may carry), ``imagefiles`` (odd picture files made at test time), ``environment`` (the handlers'
environment, fresh interpreters), ``aws`` (the handlers in-process against moto: loaded as a plugin
by the root ``conftest.py``), ``aws_calls``, ``catalogue`` and ``reliability_doc`` (the bad-input
catalogue and the page it writes), ``browser``, ``pageflow`` and ``previewflow`` (the page in
Chromium), ``cfn`` (synthesised templates), ``onnx_reference``, ``strokes``, ``stack_child``.
"""
