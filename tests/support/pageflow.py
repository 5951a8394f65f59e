"""What a person does on the page, as small steps the end-to-end tests share.

Elements are found only through the page's ``data-testid`` contract (and ids for the options
that have no test id), so these steps also pin that contract.
"""

from __future__ import annotations

import io
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from PIL import Image
from playwright.sync_api import expect

from tests.support.paths import ROOT, testdata_path

if TYPE_CHECKING:
    from pathlib import Path

    from stylemixer.local.process import ServedStack

#: Screenshots and the service's log, kept as test artefacts (git-ignored).
ARTIFACTS = ROOT / "artifacts" / "e2e"
#: A job on a 512-pixel photo takes a few seconds; the machine is shared, so allow plenty.
JOB_TIMEOUT_MS = 180_000

OUTCOME = """() => {
  const result = document.getElementById('result-panel');
  const error = document.querySelector('[data-testid=error]');
  if (result && !result.hidden) return 'result';
  if (error && !error.hidden && error.textContent.trim()) return 'error';
  return false;
}"""

WATCH_PROGRESS = """() => {
  window.__progress = [];
  const bar = document.querySelector('[data-testid=progress]');
  new MutationObserver(() => window.__progress.push(Number(bar.getAttribute('aria-valuenow'))))
    .observe(bar, { attributes: true, attributeFilter: ['aria-valuenow'] });
}"""


def open_site(page: Any, stack: ServedStack, query: str = "") -> None:
    """Load the page and wait until the preset gallery is drawn."""
    page.goto(stack.url + query)
    page.wait_for_selector("[data-testid=style-option]")


def choose_photo(page: Any, path: Path) -> None:
    page.get_by_test_id("content-input").set_input_files(str(path))
    page.wait_for_selector("#content-preview:not([hidden])")


def add_painting(page: Any, path: Path) -> None:
    before = page.locator("#chosen li").count()
    page.get_by_test_id("custom-style-input").set_input_files(str(path))
    page.wait_for_function(f"() => document.querySelectorAll('#chosen li').length > {before}")


def pick_preset(page: Any, preset_id: str) -> None:
    option = page.locator(f"[data-testid=style-option][data-style-id='{preset_id}']")
    option.click()
    expect(option).to_have_attribute("aria-pressed", "true")


def submit_and_wait(page: Any, timeout_ms: int) -> str:
    """Press the button; returns "result" or "error", whichever the page shows first."""
    page.evaluate(WATCH_PROGRESS)
    page.get_by_test_id("submit").click()
    handle = page.wait_for_function(OUTCOME, timeout=timeout_ms)
    return handle.json_value()


#: The photo a first job is sent with unless a test names another.
FIRST_PHOTO = ("photos", "sailboat.jpg")


def first_result(
    page: Any, stack: ServedStack, preset: str = "tapestry", photo: tuple[str, ...] = FIRST_PHOTO
) -> str:
    """A first job from a fresh page: ``photo`` (under the test data) with ``preset``, at most 512 px;
    its id."""
    open_site(page, stack)
    choose_photo(page, testdata_path(*photo))
    pick_preset(page, preset)
    page.locator("#max-size").select_option("512")
    assert submit_and_wait(page, JOB_TIMEOUT_MS) == "result", error_text(page)
    return job_in_address(page)


def wait_for_outcome(page: Any, timeout_ms: int) -> str:
    return page.wait_for_function(OUTCOME, timeout=timeout_ms).json_value()


def progress_seen(page: Any) -> list[float]:
    return page.evaluate("() => window.__progress || []")


def natural_size(page: Any, test_id: str) -> tuple[int, int]:
    locator = page.get_by_test_id(test_id)
    return tuple(locator.evaluate("img => [img.naturalWidth, img.naturalHeight]"))


def fetch_image(page: Any, test_id: str) -> Image.Image:
    """The picture an <img> shows, fetched again from its (presigned, loopback) URL."""
    src = page.get_by_test_id(test_id).get_attribute("src")
    with urllib.request.urlopen(src, timeout=30) as response:
        return Image.open(io.BytesIO(response.read())).convert("RGB")


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when nothing scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def error_text(page: Any) -> str:
    """The sentence in the page's message box (without its "Send again" button)."""
    return page.locator("#error-text").inner_text().strip()


SCROLL_SETTLED = """() => new Promise((resolve) => {
  let last = -1, still = 0;
  const look = () => {
    still = scrollY === last ? still + 1 : 0;
    last = scrollY;
    if (still >= 3) resolve(true); else requestAnimationFrame(look);
  };
  look();
})"""


def settle(page: Any) -> None:
    """Wait until the page has stopped scrolling (Bootstrap scrolls smoothly where motion is welcome)."""
    page.evaluate(SCROLL_SETTLED)


def in_viewport(page: Any, test_id: str) -> bool:
    """Whether the element is shown whole inside the viewport, once the page stands still."""
    settle(page)
    return page.get_by_test_id(test_id).evaluate(
        """el => { const b = el.getBoundingClientRect();
                   return b.width > 0 && b.height > 0 && b.top >= 0 && b.left >= 0
                       && b.bottom <= innerHeight && b.right <= innerWidth; }"""
    )


def boxes(page: Any, *test_ids: str) -> dict[str, dict[str, float]]:
    """The on-screen boxes ({x, y, width, height}) of elements, by test id, read together once the
    page stands still."""
    settle(page)
    return page.evaluate(
        """(ids) => Object.fromEntries(ids.map((id) => {
            const b = document.querySelector(`[data-testid="${id}"]`).getBoundingClientRect();
            return [id, { x: b.x, y: b.y, width: b.width, height: b.height }];
        }))""",
        list(test_ids),
    )


class PostLog:
    """The POSTs a page makes, sorted by where they go: the API's uploads and jobs, and storage.

    A picture sent is one ``POST /uploads`` (the presigned POST asked for) and one POST to storage
    (the file itself); a job is one ``POST /jobs``.
    """

    def __init__(self, page: Any, stack: ServedStack) -> None:
        self.site = stack.url
        self.uploads: list[str] = []
        self.storage: list[str] = []
        self.jobs: list[str] = []
        page.on("request", self._seen)

    def _seen(self, request: Any) -> None:
        if request.method != "POST":
            return
        path = urllib.parse.urlparse(request.url).path
        if not request.url.startswith(self.site):
            self.storage.append(request.url)
        elif path.endswith("/api/uploads"):
            self.uploads.append(request.url)
        elif path.endswith("/api/jobs"):
            self.jobs.append(request.url)

    def counts(self) -> tuple[int, int, int]:
        """(POST /uploads, POSTs to storage, POST /jobs) so far."""
        return len(self.uploads), len(self.storage), len(self.jobs)


def try_other_styles(page: Any) -> None:
    """Press "Try other styles" on a result and wait for the form."""
    page.get_by_test_id("try-other").click()
    page.wait_for_selector("#job-form:not([hidden])")


def job_in_address(page: Any) -> str:
    """The job id of ``?job=`` in the page's address."""
    (job_id,) = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["job"]
    return job_id


#: ``GET /jobs/{id}`` from the page, with the owner token the page keeps for the job (if any): the
#: answer the browser that sent the job sees, its photo and the map it was given included.
_OWNER_FETCH = """async (id) => {
  const tokens = JSON.parse(localStorage.getItem('stylemixer.owners') || '{}');
  const headers = tokens[id] ? { Authorization: `Bearer ${tokens[id]}` } : {};
  return (await fetch(`api/jobs/${id}`, { headers })).json();
}"""


def owner_answer(page: Any, job_id: str) -> dict[str, Any]:
    """What the API answers the page's browser about ``job_id``, as its owner when it holds the token."""
    return page.evaluate(_OWNER_FETCH, job_id)


def touch_drag(page: Any, start: tuple[float, float], end: tuple[float, float], steps: int = 8) -> None:
    """A finger's swipe from ``start`` to ``end`` (CSS pixels), as the touch screen sends it.

    Playwright's touch screen only taps; the swipe goes through the browser's own input protocol, on
    a page whose context was opened with ``has_touch=True``.
    """
    session = page.context.new_cdp_session(page)
    try:

        def touch(kind: str, x: float, y: float) -> None:
            points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1}]
            session.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        touch("touchStart", *start)
        for step in range(1, steps + 1):
            fraction = step / steps
            touch(
                "touchMove",
                start[0] + (end[0] - start[0]) * fraction,
                start[1] + (end[1] - start[1]) * fraction,
            )
        touch("touchEnd", *end)
    finally:
        session.detach()
