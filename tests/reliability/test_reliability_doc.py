"""docs/reliability.md agrees with the code: its generated tables are current, its tests exist."""

from __future__ import annotations

import re

from tests.support.catalogue import all_cases
from tests.support.paths import ROOT
from tests.support.reliability_doc import DOC, blocks, render


def test_the_catalogue_has_thirty_distinct_cases_or_more() -> None:
    names = [case.name for case in all_cases()]
    assert len(names) == len(set(names))
    assert len(names) >= 30


def test_the_generated_tables_match_the_catalogue_and_the_last_load_run() -> None:
    # Given the page as committed
    text = DOC.read_text()
    # Then regenerating its tables changes nothing (run make reliability-doc if this fails)
    assert render(text, blocks()) == text


def test_every_test_the_page_names_exists() -> None:
    text = DOC.read_text()
    named = set(re.findall(r"(tests/[\w/]+\.py)::(\w+)", text))
    assert len(named) > 20
    missing = [
        f"{path}::{name}"
        for path, name in sorted(named)
        if not (ROOT / path).is_file() or f"def {name}(" not in (ROOT / path).read_text()
    ]
    assert missing == []
