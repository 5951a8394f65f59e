"""What every pytest run here shares: the AWS harness where it is needed, and the docstring examples' setting.

``pytest`` runs the tests under ``tests/`` and the examples in the docstrings of ``stylemixer/`` and
``functions/`` (``--doctest-modules``, see pyproject.toml). The examples run as written, with:

- the handlers' environment (:data:`tests.support.environment.HANDLER_ENV`) where a handler module is
  imported: ``functions/`` (through the AWS harness, which sets it before the handlers load) and the
  examples of :mod:`stylemixer.local.stack`;
- moto's in-process AWS, holding the stack's bucket, table and queues, with that environment, for
  the examples of :mod:`stylemixer.aws` and :mod:`stylemixer.local.poller`;
- for the examples of :mod:`stylemixer.neural`: ``nets`` (the networks with the real weights),
  ``photo`` (a 512 px photo) and ``painting_a``, ``painting_b`` (two style pictures), from
  :mod:`tests.support.pictures`.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

ROOT = Path(__file__).resolve().parent
#: Folders whose tests or examples call the handlers in-process against moto (:mod:`tests.support.aws`).
AWS_HARNESS_FOLDERS = frozenset({("tests", "functional"), ("tests", "reliability"), ("functions",)})
#: Modules whose examples run against moto's in-process AWS.
MOTO_EXAMPLES = ("stylemixer.aws.", "stylemixer.local.poller.")
#: Modules whose examples run with the handlers' environment (those against moto too).
HANDLER_EXAMPLES = (*MOTO_EXAMPLES, "stylemixer.local.stack.")


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Load the AWS harness as a plugin when, and only when, a folder that uses it is collected.

    The harness sets the handlers' environment and imports the three handlers, so it must be loaded
    before those folders' modules are imported, once per session (fixtures imported into two
    conftests would be two session fixtures, two mocks), and never for a run of the unit tests.
    """
    path = getattr(collector, "path", None)
    if path is None or not path.is_relative_to(ROOT):
        return
    parts = path.relative_to(ROOT).parts
    if any(parts[: len(folder)] == folder for folder in AWS_HARNESS_FOLDERS):
        manager = collector.config.pluginmanager
        if not manager.has_plugin("tests.support.aws"):
            manager.import_plugin("tests.support.aws")


@pytest.fixture(autouse=True)
def _example_setting(
    request: pytest.FixtureRequest, doctest_namespace: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The setting a docstring example runs in (see the module's docstring); nothing for a test."""
    example = getattr(request.node, "dtest", None)  # pytest's DoctestItem holds the doctest
    name = example.name if example is not None else ""
    if name.startswith("stylemixer.neural."):
        doctest_namespace.update(_neural_names())
    if not name.startswith(HANDLER_EXAMPLES):
        yield
        return
    from moto import mock_aws

    from tests.support.environment import HANDLER_ENV, create_stack_resources

    for key, value in HANDLER_ENV.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    if not name.startswith(MOTO_EXAMPLES):
        yield
        return
    with mock_aws():
        import boto3

        buckets = boto3.client("s3").list_buckets()["Buckets"]
        if not buckets:  # (the functional tests' harness may hold them already: moto is one per process)
            create_stack_resources()
        yield


@functools.cache
def _neural_names() -> dict[str, Any]:
    from stylemixer.neural.weights import load_networks
    from tests.support.pictures import sample_painting, sample_photo

    return {
        "nets": load_networks(),
        "photo": sample_photo("astronaut"),
        "painting_a": sample_painting("swirling-night"),
        "painting_b": sample_painting("delft-engraving"),
    }
