"""The page inserts server text as text: HTML in an error message or a style name stays literal.

The service's own messages never carry markup (ids are checked hex, sentences are fixed), so the
hostile answers are put on the wire by the browser: Playwright answers ``GET /api/styles`` and
``GET /api/jobs/<id>`` in place of the local stack. The page itself, its scripts and its content
security policy are the real ones, served by `stylemixer serve`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import browser, page, site_built, stack
from tests.e2e.pageflow import open_site

if TYPE_CHECKING:
    from stylemixer.local.process import ServedStack

__all__ = ["browser", "page", "site_built", "stack"]

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


@pytest.mark.e2e
def test_html_in_a_job_error_and_a_style_name_shows_as_literal_text(page: Any, stack: ServedStack) -> None:
    # Given an API whose job error and first style name are HTML
    def styles(route: Any) -> None:
        _json(
            route, {"styles": [{"id": "tapestry", "name": ATTACK, "thumbnail_url": "/presets/tapestry.jpg"}]}
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
