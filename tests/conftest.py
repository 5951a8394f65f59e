"""Fixtures shared by every test folder: the real test pictures and the real weights."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

# The handlers-against-moto harness is one plugin for every folder that uses it (functional,
# reliability): fixtures imported into two conftests would be two session fixtures, two mocks.
pytest_plugins = ["tests.functional.harness"]


@pytest.fixture(scope="session")
def weights_path() -> Path:
    """The converted weight file, built once if this machine has not built it yet."""
    from stylemixer.weights import build_weights, default_weights_path

    path = default_weights_path()
    if not path.exists():
        build_weights(path)
    return path


@pytest.fixture(scope="session")
def engine(weights_path: Path):  # the Engine type needs torch, imported lazily
    """The real engine with the real weights, loaded once for the whole session."""
    from stylemixer.engine import Engine

    return Engine.default(weights_path)
