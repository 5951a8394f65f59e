"""Benchmarks, run as modules from the project's root: ``make bench``, or ``python -m bench.<name>``.

What they share lives here: the project's root, the real photos and paintings in ``../shared/testdata``
that the published figures were measured on, and the OpenMP setting of the Lambda image. A benchmark
drives the system as the tests do, so it may import the tests' helpers (:mod:`tests.support`: the
page's steps, the browser, the stroke measure); it never imports a test module or a conftest.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT.parent / "shared" / "testdata"


def use_lambda_openmp() -> None:
    """torch's OpenMP settings as the Lambda image sets them (unless set); call before torch is imported."""
    from stylemixer.neural import OPENMP_ENV

    for key, value in OPENMP_ENV.items():
        os.environ.setdefault(key, value)


@contextmanager
def served_page(name: str, *, timeout: float, args: Sequence[str]) -> Iterator[tuple[Any, Any]]:
    """The local stack served (its log in ``artifacts/bench-<name>-serve.log``) and Chromium launched
    with ``args``, for a benchmark of the page: ``(stack, browser)``, both ended afterwards."""
    from playwright.sync_api import sync_playwright

    from stylemixer.local.process import served_stack
    from tests.support.browser import CHROMIUM

    log = ROOT / "artifacts" / f"bench-{name}-serve.log"
    with served_stack(log, timeout=timeout) as stack, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(args))
        try:
            yield stack, browser
        finally:
            browser.close()


def write_results(path: Path, results: dict[str, Any], load_before: Sequence[float]) -> None:
    """``results`` with the machine's CPUs and its load average before and after the run, written to
    ``path`` as JSON and printed."""
    results = results | {
        "cpus": os.cpu_count(),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
