"""The page inserts server text as text: HTML in an error message or a style name stays literal.

The service's own messages never carry markup (ids are checked hex, sentences are fixed), so the
hostile answers are put on the wire by the browser: Playwright answers ``GET /api/styles`` and
``GET /api/jobs/<id>`` in place of the local stack. The page itself, its scripts and its content
security policy are the real ones, served by `stylemixer serve`.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
from typing import TYPE_CHECKING, Any

import pytest

from stylemixer.local.process import served_stack
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PageProblems
from tests.support.environment import STARTUP_PATIENCE_SECONDS
from tests.support.pageflow import ARTIFACTS, open_site
from tests.support.paths import ROOT

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from stylemixer.local.process import ServedStack

JOB_ID = "0123456789abcdef0123456789abcdef"
ATTACK = '<img src=x onerror="window.__injected = true"><b id=injected>bold</b>'


def _json(route: Any, body: Any) -> None:
    route.fulfill(status=200, content_type="application/json", body=json.dumps(body))


def _injected(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => ({
        ran: window.__injected === true,
        images: document.querySelectorAll('img[src="x"]').length,
        bold: document.querySelectorAll('#injected').length,
    })"""
    )


@pytest.fixture(scope="module")
def stack() -> Iterator[ServedStack]:
    if not (ROOT / "static_site" / "vendor" / "bootstrap.min.css").exists():
        pytest.fail("static_site/vendor/ is not built: run `make setup`.")
    log = ARTIFACTS / "injection-serve.log"
    with served_stack(log, python=sys.executable, timeout=STARTUP_PATIENCE_SECONDS) as served:
        yield served
    assert "Traceback" not in log.read_text(encoding="utf-8")


def in_browser(steps: Callable[[Any], None], screenshot: str) -> PageProblems:
    """Run ``steps`` on a fresh Chromium page, in a thread of its own.

    Playwright's sync API allows one instance per thread, and the end-to-end suite keeps one open on
    the main thread for its whole session; this test must run beside it.
    """
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium")
    problems = PageProblems()
    failure: list[BaseException] = []

    def run() -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                page = browser.new_page(viewport=DESKTOP)
                page.set_default_timeout(30_000)
                page.on("console", problems.console)
                page.on("pageerror", problems.page_error)
                try:
                    steps(page)
                finally:
                    ARTIFACTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
                    browser.close()
        except BaseException as exc:  # re-raised in the test's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="browser")
    thread.start()
    thread.join(300)
    if failure:
        raise failure[0]
    assert not thread.is_alive(), "the browser did not finish within 300 s"
    return problems


@pytest.mark.e2e
def test_html_in_a_job_error_and_a_style_name_shows_as_literal_text(stack: ServedStack) -> None:
    def steps(page: Any) -> None:
        # Given an API whose job error and first style name are HTML
        def styles(route: Any) -> None:
            _json(
                route,
                {"styles": [{"id": "tapestry", "name": ATTACK, "thumbnail_url": "/presets/tapestry.jpg"}]},
            )

        def job(route: Any) -> None:
            _json(
                route,
                {
                    "job_id": JOB_ID,
                    "status": "failed",
                    "stage": "failed",
                    "progress": 10,
                    "created_at": "2026-01-01T00:00:00.000Z",
                    "updated_at": "2026-01-01T00:00:01.000Z",
                    "error": {"code": "<i>Code</i>", "message": ATTACK},
                },
            )

        page.route("**/api/styles", styles)
        page.route(f"**/api/jobs/{JOB_ID}", job)
        document = page.goto(stack.url)
        assert document is not None
        csp = document.header_value("content-security-policy") or ""
        # When the page shows that job (a link to it) and the gallery
        open_site(page, stack, f"?job={JOB_ID}")
        error = page.get_by_test_id("error")
        error.wait_for(state="visible")
        # Then the markup is shown as the characters it is made of, and no element or script came of it
        assert ATTACK in error.inner_text()
        assert ATTACK in page.locator("[data-testid=style-option]").first.inner_text()
        assert _injected(page) == {"ran": False, "images": 0, "bold": 0}
        # And the page was served with its content security policy (no inline script could run anyway)
        assert "script-src 'self'" in csp
        assert "'unsafe-inline'" not in csp

    problems = in_browser(steps, "test_html_injection.png")
    assert problems.errors == []
    assert problems.csp == []


@pytest.mark.e2e
def test_html_in_the_names_a_job_asked_for_shows_as_literal_text(stack: ServedStack) -> None:
    picture = "/presets/tapestry.jpg"

    def steps(page: Any) -> None:
        # Given a finished regions job whose answer names its two styles with HTML
        def job(route: Any) -> None:
            _json(
                route,
                {
                    "job_id": JOB_ID,
                    "status": "succeeded",
                    "stage": "done",
                    "progress": 100,
                    "created_at": "2026-01-01T00:00:00.000Z",
                    "updated_at": "2026-01-01T00:00:01.000Z",
                    "request": {
                        "content": {"upload": JOB_ID, "url": picture},
                        "styles": [
                            {"preset": "tapestry", "name": ATTACK, "thumbnail_url": picture},
                            {"upload": JOB_ID, "name": f"{ATTACK}.jpg", "thumbnail_url": picture},
                        ],
                        "mix": "regions",
                    },
                    "result": {
                        "url": picture,
                        "width": 256,
                        "height": 256,
                        "format": "jpeg",
                        "regions_url": picture,
                        "expires_at": "2026-01-01T01:00:00.000Z",
                    },
                },
            )

        page.route(f"**/api/jobs/{JOB_ID}", job)
        # (a job of this browser's visit: only those join its strip)
        page.add_init_script(
            f"localStorage.setItem('stylemixer.visit', JSON.stringify([{{id: '{JOB_ID}', at: Date.now()}}]))"
        )
        # When the page shows that job from its link (the legend, the panel of what it asked, the strip)
        page.goto(f"{stack.url}?job={JOB_ID}")
        page.wait_for_selector("#result-panel:not([hidden])")
        page.wait_for_selector("[data-testid=strip-item]")
        # Then the names are shown as the characters they are made of, and nothing came of them
        assert page.locator("#regions-legend li").all_inner_texts() == [ATTACK, f"{ATTACK}.jpg"]
        assert ATTACK in page.get_by_test_id("asked-styles").evaluate("el => el.textContent")
        assert ATTACK in (page.get_by_test_id("strip-view").get_attribute("aria-label") or "")
        assert ATTACK in page.get_by_test_id("strip-label").inner_text()
        assert _injected(page) == {"ran": False, "images": 0, "bold": 0}

    problems = in_browser(steps, "test_html_injection_names.png")
    assert problems.errors == []
    assert problems.csp == []
