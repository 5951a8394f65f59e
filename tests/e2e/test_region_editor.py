"""Editing a regions result's map on the page, and painting the photo again along it.

Real photo, the real worker, Chromium. The maps are read as the API reads them: PNG pixel values,
with Pillow. The map the page sent is read back through the job's answer, which links to it.
"""

from __future__ import annotations

import io
import json
import re
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image
from playwright.sync_api import expect
from scipy import ndimage
from skimage.measure import label

from tests.support.accessibility import assert_accessible
from tests.support.browser import PHONE
from tests.support.pageflow import (
    JOB_TIMEOUT_MS,
    choose_photo,
    error_text,
    horizontal_overflow,
    in_viewport,
    job_in_address,
    open_site,
    owner_answer,
    pick_preset,
    submit_and_wait,
    wait_for_outcome,
)
from tests.support.paths import testdata_path

if TYPE_CHECKING:
    from stylemixer.local.process import ServedStack


PHOTO = ("photos", "golden_gate.jpg")
STYLES = ("swirling-night", "grey-ink")
NAMES = ["Swirling night", "Grey ink"]


class Sent:
    """The page's POSTs: the API's upload and job requests (JSON bodies), and where files were sent."""

    def __init__(self, page: Any, stack: ServedStack) -> None:
        self.site = stack.url
        self.uploads: list[dict[str, Any]] = []
        self.jobs: list[dict[str, Any]] = []
        self.files: list[str] = []
        page.on("request", self._seen)

    def _seen(self, request: Any) -> None:
        if request.method != "POST":
            return
        if not request.url.startswith(self.site):
            self.files.append(request.url)
        elif request.url.endswith("/api/uploads"):
            self.uploads.append(json.loads(request.post_data))
        elif request.url.endswith("/api/jobs"):
            self.jobs.append(json.loads(request.post_data))


def read_map(url: str, modes: tuple[str, ...] = ("P", "L")) -> np.ndarray:
    """A region map's pixel values, fetched from its (presigned, loopback) link."""
    with (
        urllib.request.urlopen(url, timeout=30) as response,
        Image.open(io.BytesIO(response.read())) as image,
    ):
        assert image.mode in modes
        return np.asarray(image)


def regions_result(page: Any, stack: ServedStack) -> str:
    """A regions job of two presets on the test photo at 512 px, on screen; returns its id."""
    open_site(page, stack)
    choose_photo(page, testdata_path(*PHOTO))
    for preset in STYLES:
        pick_preset(page, preset)
    page.get_by_test_id("mix-mode").select_option("regions")
    page.locator("#max-size").select_option("512")
    assert submit_and_wait(page, JOB_TIMEOUT_MS) == "result", error_text(page)
    page.get_by_test_id("regions-image").wait_for(state="visible")
    return job_in_address(page)


def open_editor(page: Any) -> tuple[int, int]:
    """Press "Edit regions"; returns the size of the map being edited."""
    page.get_by_test_id("edit-regions").click()
    page.get_by_test_id("map-editor").wait_for(state="visible")
    return tuple(page.get_by_test_id("map-canvas").evaluate("c => [c.width, c.height]"))


def on_canvas(page: Any, x: float, y: float) -> tuple[float, float]:
    """Where map pixel (x, y) is on the screen, the canvas scrolled into view first (a click or a tap
    outside the viewport reaches nothing, and the page's height changes as its pictures load)."""
    canvas = page.get_by_test_id("map-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    width, height = canvas.evaluate("c => [c.width, c.height]")
    return box["x"] + (x + 0.5) * box["width"] / width, box["y"] + (y + 0.5) * box["height"] / height


def choose_style(page: Any, index: int) -> None:
    page.get_by_test_id("map-style").nth(index).check()


def becomes_enabled(control: Any) -> None:
    """Wait for ``control`` to be enabled: an edit is applied on the pointer event's turn."""
    expect(control).to_be_enabled()


def deepest_point(mask: np.ndarray) -> tuple[int, int, float]:
    """The (x, y) of `mask` farthest from its edge, and that distance in pixels."""
    distance = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return int(x), int(y), float(distance[y, x])


def test_a_region_reassigned_and_a_brush_stroke_are_painted_again_without_sending_the_photo_again(
    page: Any, stack: ServedStack
) -> None:
    sent = Sent(page, stack)

    # Given a regions result of two styles, its map as painted
    first = regions_result(page, stack)
    before = read_map(page.get_by_test_id("regions-image").get_attribute("src"))
    assert set(np.unique(before)) == {0, 1}, "both styles should have regions"
    assert [u["purpose"] for u in sent.uploads] == ["content"]

    # When Edit regions is opened, the map is shown at its own size with one choice per style
    assert open_editor(page) == (before.shape[1], before.shape[0])
    assert page.locator("#map-styles label").all_inner_texts() == NAMES
    # And the page, editor open, has no accessibility violation
    assert_accessible(page)

    # And the largest region of the first style is clicked with the second style chosen
    parts = label(before == 0, connectivity=1)
    biggest = parts == np.argmax(np.bincount(parts.ravel())[1:]) + 1
    fill_x, fill_y, _ = deepest_point(biggest)
    choose_style(page, 1)
    page.get_by_test_id("map-tool-fill").check()
    page.mouse.click(*on_canvas(page, fill_x, fill_y))
    becomes_enabled(page.get_by_test_id("map-undo"))

    # And a brush stroke of the first style is drawn inside the second style's area, away from it
    after_fill = before.copy()
    after_fill[biggest] = 1
    yy, xx = np.mgrid[: before.shape[0], : before.shape[1]]
    away = (after_fill == 1) & (np.hypot(xx - fill_x, yy - fill_y) > before.shape[1] / 4)
    brush_x, brush_y, room = deepest_point(away)
    page.get_by_test_id("map-tool-brush").check()
    page.get_by_test_id("map-brush").fill("6")  # 6% of 512 px across: a radius of about 15 px
    radius = 0.06 * max(before.shape) / 2
    reach = min(10.0, max(0.0, room - radius - 2))
    choose_style(page, 0)
    page.mouse.move(*on_canvas(page, brush_x - reach, brush_y))
    page.mouse.down()
    page.mouse.move(*on_canvas(page, brush_x + reach, brush_y), steps=8)
    page.mouse.up()

    # And Paint again is pressed
    page.get_by_test_id("paint-again").click()
    page.wait_for_function(f"() => !location.search.includes('{first}')", timeout=JOB_TIMEOUT_MS)
    assert wait_for_outcome(page, JOB_TIMEOUT_MS) == "result", error_text(page)
    second = job_in_address(page)

    # Then the map sent (as the job shows it back) holds the edits exactly: the region is the second
    # style, the stroke the first
    answer = owner_answer(page, second)
    edited = read_map(answer["request"]["regions_map"]["url"], modes=("P",))
    assert edited.shape == before.shape
    assert (edited[biggest] == 1).all()
    assert edited[brush_y, brush_x] == 0
    changed = edited != after_fill
    stroke_reach = np.hypot(np.clip(np.abs(xx - brush_x) - reach, 0, None), yy - brush_y)
    assert changed.any()
    assert (stroke_reach[changed] <= radius + 1.5).all()

    # And only the map was uploaded: the photo upload is named again, with the same styles and options
    assert [u["purpose"] for u in sent.uploads] == ["content", "map"]
    assert len(sent.files) == 2
    assert len(sent.jobs) == 2
    again = sent.jobs[1]
    assert again["content"] == sent.jobs[0]["content"]
    assert again["styles"] == sent.jobs[0]["styles"]
    assert (again["mix"], again["max_size"]) == ("regions", 512)
    assert again["regions_map"] != again["content"]

    # And the new result's map shows the reassigned style at the clicked spot and the stroke's style
    # under it, and follows the sent map (edges refined along the photo)
    page.get_by_test_id("regions-image").wait_for(state="visible")
    after = read_map(answer["result"]["regions_url"])
    assert after.shape == before.shape
    assert after[fill_y, fill_x] == 1
    assert after[brush_y, brush_x] == 0
    assert (after[biggest] == 1).mean() > 0.9
    assert (after == edited).mean() > 0.9
    # And the strip holds both pictures, the new one first
    strip = page.get_by_test_id("strip-item").evaluate_all("els => els.map(e => e.dataset.jobId)")
    assert strip[:2] == [second, first]


def test_the_editor_opens_from_a_jobs_link_on_a_phone_and_works_by_touch_and_keyboard(
    page: Any, stack: ServedStack
) -> None:
    # Given a regions result opened from its link on a phone (a touch screen), nothing of the visit
    # in hand
    first = regions_result(page, stack)
    other = page.context.browser.new_context(viewport=PHONE, has_touch=True)
    try:
        elsewhere = other.new_page()
        elsewhere.goto(f"{stack.url}?job={first}")
        assert wait_for_outcome(elsewhere, JOB_TIMEOUT_MS) == "result", error_text(elsewhere)

        # When Edit regions is opened there
        size = open_editor(elsewhere)

        # Then the editor fills the screen, the map and "Paint again" in view, nothing to undo yet
        assert elsewhere.get_by_test_id("map-editor").bounding_box() == {
            "x": 0,
            "y": 0,
            "width": PHONE["width"],
            "height": PHONE["height"],
        }
        assert in_viewport(elsewhere, "map-canvas")
        assert in_viewport(elsewhere, "paint-again")
        tools = elsewhere.locator(".map-tools").bounding_box()
        canvas = elsewhere.get_by_test_id("map-canvas").bounding_box()
        assert canvas["y"] + canvas["height"] <= tools["y"] + 1, (canvas, tools)  # the tools hide no map
        assert horizontal_overflow(elsewhere) == 0
        assert_accessible(elsewhere)
        assert size == tuple(
            elsewhere.get_by_test_id("regions-image").evaluate("i => [i.naturalWidth, i.naturalHeight]")
        )
        assert elsewhere.locator("#map-styles label").all_inner_texts() == NAMES
        expect(elsewhere.get_by_test_id("map-undo")).to_be_disabled()
        expect(elsewhere.get_by_test_id("map-reset")).to_be_disabled()

        # When the other style is chosen and the keyboard fills the region under the cross
        elsewhere.get_by_test_id("map-style").nth(0).focus()
        elsewhere.keyboard.press("ArrowDown")  # a radio group: the arrow chooses the next style
        expect(elsewhere.get_by_test_id("map-style").nth(1)).to_be_checked()
        centre = read_map(elsewhere.get_by_test_id("regions-image").get_attribute("src"))
        under_cross = int(centre[size[1] // 2, size[0] // 2])
        elsewhere.get_by_test_id("map-canvas").focus()
        if under_cross == 1:  # the cross starts in the middle: go where the first style is
            target_x, target_y, _ = deepest_point(centre == 0)
            step = max(size) / 100
            for key, count in (
                (
                    "ArrowRight" if target_x > size[0] // 2 else "ArrowLeft",
                    round(abs(target_x - size[0] // 2) / step),
                ),
                (
                    "ArrowDown" if target_y > size[1] // 2 else "ArrowUp",
                    round(abs(target_y - size[1] // 2) / step),
                ),
            ):
                for _ in range(count):
                    elsewhere.keyboard.press(key)
        elsewhere.keyboard.press("Enter")

        # Then there is something to undo and to reset; undo takes it back
        becomes_enabled(elsewhere.get_by_test_id("map-undo"))
        becomes_enabled(elsewhere.get_by_test_id("map-reset"))
        elsewhere.get_by_test_id("map-undo").click()
        expect(elsewhere.get_by_test_id("map-undo")).to_be_disabled()
        expect(elsewhere.get_by_test_id("map-reset")).to_be_disabled()

        # And a finger's tap on a region of the first style fills it too (pointer events from touch)
        tap_x, tap_y, _ = deepest_point(centre == 0)
        elsewhere.touchscreen.tap(*on_canvas(elsewhere, tap_x, tap_y))
        becomes_enabled(elsewhere.get_by_test_id("map-undo"))

        # And every control of the editor has a label, and Close puts the button back in focus
        unlabelled = elsewhere.locator("#map-editor").evaluate(
            """el => [...el.querySelectorAll('input, select, button')]
                .filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')
                             && !c.textContent.trim())
                .map(c => c.id)"""
        )
        assert unlabelled == []
        elsewhere.get_by_test_id("map-close").click()
        expect(elsewhere.get_by_test_id("map-editor")).to_be_hidden()
        expect(elsewhere.locator("#edit-regions")).to_be_focused()
    finally:
        other.close()


def test_a_refused_map_leaves_the_result_and_the_edit_in_place(page: Any, stack: ServedStack) -> None:
    # Given a regions result with its map edited
    first = regions_result(page, stack)
    open_editor(page)
    width, height = page.get_by_test_id("map-canvas").evaluate("c => [c.width, c.height]")
    choose_style(page, 1)
    page.mouse.click(*on_canvas(page, width // 2, height // 2))
    choose_style(page, 0)
    page.mouse.click(*on_canvas(page, width // 2, height // 2))
    refusal = {"error": {"code": "InvalidRegionsMap", "message": "That map does not fit the photo's shape."}}

    def refuse(route: Any) -> None:
        if route.request.method == "POST":
            route.fulfill(status=400, content_type="application/json", body=json.dumps(refusal))
        else:
            route.continue_()

    page.route(re.compile(r"/api/jobs$"), refuse)

    # When Paint again is pressed and the API refuses the job
    page.get_by_test_id("paint-again").click()
    page.get_by_test_id("error").wait_for(state="visible")

    # Then the API's sentence is shown as the page shows refusals, and the result is back as it was,
    # with the editor open on the edited map and the job's link in the address bar
    assert error_text(page) == refusal["error"]["message"]
    expect(page.locator("#result-panel")).to_be_visible()
    expect(page.get_by_test_id("map-editor")).to_be_visible()
    becomes_enabled(page.get_by_test_id("map-undo"))
    becomes_enabled(page.get_by_test_id("paint-again"))
    assert job_in_address(page) == first
    assert urllib.parse.urlparse(page.url).query == f"job={first}"


def test_a_map_larger_than_the_api_takes_is_refused_before_anything_is_sent(
    page: Any, stack: ServedStack
) -> None:
    # Given a page told (config.json) that a map may have at most 100 bytes
    def small_maps(route: Any) -> None:
        config = route.fetch().json()
        config["regions_map"]["max_bytes"] = 100
        route.fulfill(status=200, content_type="application/json", body=json.dumps(config))

    page.route(re.compile(r"/config\.json$"), small_maps)
    sent = Sent(page, stack)
    first = regions_result(page, stack)

    # When the map is edited and Paint again is pressed
    open_editor(page)
    painted = read_map(page.get_by_test_id("regions-image").get_attribute("src"))
    choose_style(page, 1 - int(painted[40, 40]))  # the style that is not there yet
    page.get_by_test_id("map-tool-brush").check()
    page.mouse.click(*on_canvas(page, 40, 40))
    page.get_by_test_id("paint-again").click()
    page.get_by_test_id("error").wait_for(state="visible")

    # Then the page says why, sends nothing, and the result and the edit are as they were
    assert "too many small specks" in error_text(page)
    assert [u["purpose"] for u in sent.uploads] == ["content"]
    assert len(sent.jobs) == 1
    expect(page.get_by_test_id("map-editor")).to_be_visible()
    becomes_enabled(page.get_by_test_id("map-undo"))
    assert job_in_address(page) == first
