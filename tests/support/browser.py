"""The browser the page tests (and ``bench/preview.py``) drive: Debian's Chromium through Playwright.

Playwright's own browser download cannot work here, so the browser is the system's Chromium
(``apt-get install -y chromium``), launched by path. A page opened with :func:`open_page` leaves a
screenshot in ``artifacts/e2e/`` and fails on an uncaught script error or a Content-Security-Policy
violation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.pageflow import ARTIFACTS

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pytest

CHROMIUM = Path(os.environ.get("STYLEMIXER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Chromium's own fake camera (a moving test pattern) granted without asking: the Camera control's tests.
CAMERA_ARGS = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class PageProblems:
    """What the browser reported that no page should produce."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.csp: list[str] = []

    def console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp.append(message.text)

    def page_error(self, error: Any) -> None:
        self.errors.append(str(error))


def open_page(
    browser: Any, request: pytest.FixtureRequest, viewport: dict[str, int], **options: Any
) -> Iterator[Any]:
    """A page of ``browser`` for one test; its screenshot is saved as artifacts/e2e/<test>.png at the end.

    ``options`` go to the browser context (``has_touch=True`` for a touch screen).
    """
    context = browser.new_context(viewport=viewport, device_scale_factor=1, **options)
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems = PageProblems()
    page.on("console", problems.console)
    page.on("pageerror", problems.page_error)
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert problems.errors == [], f"uncaught errors in the page: {problems.errors}"
    assert problems.csp == [], f"Content-Security-Policy violations: {problems.csp}"
