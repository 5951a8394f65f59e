"""Fixtures shared by every test folder: the real weights, and the engine that runs them.

(The AWS harness is loaded for the folders that use it by the project's root ``conftest.py``.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path


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
