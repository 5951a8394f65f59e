"""Fixtures shared by every test folder: the real test pictures and the real weights."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

#: Folders whose tests call the handlers in-process against moto (:mod:`tests.support.aws`).
AWS_HARNESS_FOLDERS = frozenset({"functional", "reliability"})
TESTS = Path(__file__).resolve().parent


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Load the AWS harness as a plugin when, and only when, a folder that uses it is collected.

    The harness sets the handlers' environment and imports both handlers, so it must be loaded
    before those folders' modules are imported, once per session (fixtures imported into two
    conftests would be two session fixtures, two mocks), and never for a run of the unit tests.
    """
    path = getattr(collector, "path", None)
    folder = path.relative_to(TESTS).parts[:1] if path is not None and path.is_relative_to(TESTS) else ()
    if folder and folder[0] in AWS_HARNESS_FOLDERS:
        manager = collector.config.pluginmanager
        if not manager.has_plugin("tests.support.aws"):
            manager.import_plugin("tests.support.aws")


@pytest.fixture(scope="session")
def weights_path() -> Path:
    """The converted weight file, built once if this machine has not built it yet."""
    from stylemixer.neural.weights import build_weights, default_weights_path

    path = default_weights_path()
    if not path.exists():
        build_weights(path)
    return path


@pytest.fixture(scope="session")
def engine(weights_path: Path):  # the Engine type needs torch, imported lazily
    """The real engine with the real weights, loaded once for the whole session."""
    from stylemixer.neural.engine import Engine

    return Engine.default(weights_path)
