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


def module_file(name: str) -> Path | None:
    """The project's source file of the module ``name`` (``a.b``: ``a/b.py`` or ``a/b/__init__.py``),
    or None (a name imported from a module, say, or a module from elsewhere)."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None
