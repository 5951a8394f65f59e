"""Fixtures shared by every test folder: the real test pictures and the real weights."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT.parent / "shared" / "testdata"

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


def testdata_path(*parts: str) -> Path:
    """A file under ../shared/testdata, or skip the test with the reason when it is not there."""
    path = TESTDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"test picture {path} is absent (the shared test data lives beside the project)")
    return path


@pytest.fixture(scope="session")
def weights_path() -> Path:
    """The converted weight file, built once if this machine has not built it yet."""
    from stylemixer.weights import build_weights, default_weights_path

    path = default_weights_path()
    if not path.exists():
        build_weights(path)
    return path


@pytest.fixture(scope="session")
def engine(weights_path: Path):  # noqa: ANN201 - the type needs torch, imported lazily
    """The real engine with the real weights, loaded once for the whole session."""
    from stylemixer.engine import Engine

    return Engine.default(weights_path)
