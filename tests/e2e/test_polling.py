"""How the page polls a job, so that many people watching cost little: the pacing rules
(polling.js) run in the browser, a hidden tab asks nothing, and a refusal's Retry-After is obeyed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from stylemixer.page import site_config
from tests.support.pageflow import open_site

if TYPE_CHECKING:
    from stylemixer.local.process import ServedStack

pytestmark = pytest.mark.e2e

JOB_ID = "ab" * 16

PACING = """async (config) => {
  const { nextDelay, pacing, troubleDelay } = await import(new URL('js/polling.js', location.href));
  const pace = pacing(config);
  const queued = { status: 'queued', stage: 'queued', progress: 0 };
  const waits = { queued: [], stuck: [], moving: [] };
  let delay = pace.interval, before = null;
  for (let i = 0; i < 8; i += 1) {
    delay = nextDelay(pace, queued, before, delay); before = queued; waits.queued.push(delay);
  }
  const stuck = { status: 'running', stage: 'stylize', progress: 40 };
  delay = pace.interval; before = stuck;
  for (let i = 0; i < 6; i += 1) { delay = nextDelay(pace, stuck, before, delay); waits.stuck.push(delay); }
  delay = 4000; before = stuck;
  for (let p = 41; p < 45; p += 1) {
    const moving = { status: 'running', stage: 'stylize', progress: p };
    delay = nextDelay(pace, moving, before, delay); before = moving; waits.moving.push(delay);
  }
  return {
    ...waits,
    told: troubleDelay(pace, { retryAfter: 7 }, 1000),
    untold: [1000, 2000, 8000, 15000].map((d) => troubleDelay(pace, {}, d)),
  };
}"""


def test_polls_back_off_while_queued_and_move_fast_while_progress_moves(
    page: Any, stack: ServedStack
) -> None:
    config = site_config("/api")
    open_site(page, stack)
    waits = page.evaluate(PACING, config)
    interval, slow, queued = config["poll_interval_ms"], config["poll_slow_ms"], config["poll_queued_ms"]
    # A queued job: from twice the interval, growing by half, to at most poll_queued_ms
    assert waits["queued"][0] == 2 * interval
    assert waits["queued"] == sorted(waits["queued"])
    assert waits["queued"][-1] == queued
    # A running job whose progress stands still: growing to poll_slow_ms
    assert waits["stuck"] == sorted(waits["stuck"])
    assert waits["stuck"][-1] == slow
    # A running job whose progress moves: the interval again, at once
    assert set(waits["moving"]) == {interval}
    # Trouble: the server's Retry-After when it sent one, else doubling up to 15 s
    assert waits["told"] == 7000
    assert waits["untold"] == [2000, 4000, 15000, 15000]


def _queued_answer() -> str:
    return json.dumps(
        {
            "job_id": JOB_ID,
            "status": "queued",
            "stage": "queued",
            "progress": 0,
            "created_at": "2031-01-01T00:00:00.000Z",
            "updated_at": "2031-01-01T00:00:00.000Z",
            "owner": False,
            "links_expire_at": "2031-01-01T00:15:00.000Z",
            "request": {
                "content": None,
                "styles": [{"preset": "tapestry", "name": "Tapestry", "thumbnail_url": ""}],
            },
        }
    )


def _set_hidden(page: Any, hidden: bool) -> None:
    page.evaluate(
        """(hidden) => {
          Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
          const state = hidden ? 'hidden' : 'visible';
          Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
          document.dispatchEvent(new Event('visibilitychange'));
        }""",
        hidden,
    )


def test_a_hidden_tab_asks_nothing_and_asks_at_once_when_shown(page: Any, stack: ServedStack) -> None:
    # Given a job that stays queued (the API's answers, stood in for), followed by the page
    polls: list[str] = []

    def answer(route: Any) -> None:
        polls.append(route.request.url)
        route.fulfill(status=200, content_type="application/json", body=_queued_answer())

    page.route(f"**/api/jobs/{JOB_ID}", answer)
    page.goto(f"{stack.url}?job={JOB_ID}")
    page.wait_for_function("() => !document.getElementById('progress-panel').hidden")
    page.wait_for_timeout(100)
    # When the tab is hidden for longer than a queued job's longest wait
    _set_hidden(page, True)
    asked_while_visible = len(polls)
    page.wait_for_timeout(site_config("/api")["poll_queued_ms"] + 2000)
    # Then nothing more was asked (at most one poll already on its way when it was hidden)
    assert len(polls) <= asked_while_visible + 1
    hidden_count = len(polls)
    # When it is shown again, the page asks again (the wait was over while it was hidden)
    with page.expect_request(f"**/api/jobs/{JOB_ID}", timeout=30_000) as asked:
        _set_hidden(page, False)
    assert asked.value.url.endswith(JOB_ID)
    assert hidden_count >= 1


def test_a_busy_answer_is_obeyed_and_said(page: Any, stack: ServedStack) -> None:
    # Given the API answers polls with 503 Busy and Retry-After: 4
    refusal = {"error": {"code": "Busy", "message": "StyleMixer is busy: try again in about a minute."}}
    page.route(
        f"**/api/jobs/{JOB_ID}",
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            headers={"Retry-After": "4"},
            body=json.dumps(refusal),
        ),
    )
    page.goto(f"{stack.url}?job={JOB_ID}")
    # Then the page says it is busy and when it asks again: the server's figure, not its own
    expect(page.locator("#stage")).to_have_text("StyleMixer is busy; trying again in 4 s.")
