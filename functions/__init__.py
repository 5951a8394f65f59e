"""The Lambda entry points: thin handlers over :mod:`stylemixer.jobs`.

``functions.api.handler.handler`` answers the HTTP API; ``functions.worker.handler.handler`` consumes
the jobs queue and ``functions.dead_letters.handler.handler`` its dead-letter queue. What the worker
and the dead-letter consumer share (reading a message, metrics, the tracer) is in ``messages.py`` and
``observability.py``.
"""
