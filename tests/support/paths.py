"""Helpers any test may import: where the shared test pictures are."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTDATA = ROOT.parent / "shared" / "testdata"


def testdata_path(*parts: str) -> Path:
    """A file under ../shared/testdata, or skip the test with the reason when it is not there."""
    path = TESTDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"test picture {path} is absent (the shared test data lives beside the project)")
    return path


testdata_path.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test, despite its name
