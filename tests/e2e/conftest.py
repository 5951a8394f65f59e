"""End-to-end fixtures: `stylemixer serve` in a child process and Debian's Chromium driven by Playwright.

Every page test leaves a screenshot in ``artifacts/e2e/`` and fails on an uncaught script error or a
Content-Security-Policy violation (:mod:`tests.support.browser`).
"""

from __future__ import annotations

import shutil
import sys
from typing import TYPE_CHECKING, Any

import pytest

from stylemixer.local.process import served_stack
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, open_page
from tests.support.environment import STARTUP_PATIENCE_SECONDS
from tests.support.pageflow import ARTIFACTS
from tests.support.paths import ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from stylemixer.local.process import ServedStack


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of this folder is an end-to-end test: marked here, once (``make e2e`` selects by it)."""
    here = ROOT / "tests" / "e2e"
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def site_built() -> None:
    """The page's vendored packages and the preview's web models must be built (`make setup` does it)."""
    vendored = ROOT / "static_site" / "vendor"
    if not (vendored / "bootstrap.min.css").exists() or not (vendored / "onnxruntime").is_dir():
        pytest.fail(
            "static_site/vendor/ is not built: run `make setup` (npm ci and npm run build in static_site/)."
        )
    if not (ROOT / "static_site" / "models" / "manifest.json").exists():
        pytest.fail("static_site/models/ is not built: run `make setup` (stylemixer weights web).")


@pytest.fixture(scope="session")
def stack(weights_path: Path, site_built: None) -> Iterator[ServedStack]:
    """One `stylemixer serve` for the whole session, with the real weights built beforehand."""
    log = ARTIFACTS / "serve.log"
    with served_stack(log, python=sys.executable, timeout=STARTUP_PATIENCE_SECONDS) as served:
        yield served
    # Nothing the tests do should make the service itself fail (a refused file is not a failure).
    output = log.read_text(encoding="utf-8")
    assert "Traceback" not in output, f"`stylemixer serve` logged a failure; see {log}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    # A check that waits (``expect``) gives the page as long as its actions get (30 s, where
    # Playwright's default is 5 s): on a busy machine a page's turn can take seconds
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A desktop-sized page; screenshot saved as artifacts/e2e/<test>.png when the test ends."""
    yield from open_page(browser, request, DESKTOP)


@pytest.fixture
def phone_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A phone-sized page (390 x 844 CSS pixels)."""
    yield from open_page(browser, request, PHONE)
