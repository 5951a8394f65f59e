"""Clips and the camera in a real browser against the local stack.

A clip is chosen as a photo is; the painted clip plays on the result, with a download. The Camera
control paints Chromium's fake camera live on the preview's networks and counts its frames; a
still is painted at the camera's full resolution through the usual job. Frame rates are written to
``artifacts/e2e/camera.json`` and ``make bench`` (bench/camera.py), never asserted: the machine is
shared.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from tests.support.browser import CAMERA_ARGS, CHROMIUM, DESKTOP, open_page
from tests.support.clips import pan_clip
from tests.support.pageflow import (
    ARTIFACTS,
    JOB_TIMEOUT_MS,
    choose_photo,
    natural_size,
    open_site,
    pick_preset,
    submit_and_wait,
    wait_for_outcome,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from stylemixer.local.process import ServedStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def camera_browser(browser: Any) -> Iterator[Any]:
    """Chromium with its fake camera, allowed without a prompt."""
    launched = browser.browser_type.launch(executable_path=str(CHROMIUM), args=CAMERA_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def camera_page(camera_browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from open_page(camera_browser, request, DESKTOP)


def test_a_clip_is_chosen_like_a_photo_and_its_painting_plays(page: Any, stack: ServedStack) -> None:
    # Given a phone's clip with sound (turned a quarter), chosen as a photo is
    clip = pan_clip(size=(160, 96), frames=12, quarter_turn=True)
    open_site(page, stack)
    choose_photo(page, clip)
    expect(page.locator("#content-preview-caption")).to_contain_text("a clip")
    pick_preset(page, "tapestry")
    # When it is sent
    assert submit_and_wait(page, JOB_TIMEOUT_MS) == "result"
    # Then the painted clip plays in the picture's place, upright, and the comparison is not shown
    video = page.get_by_test_id("result-video")
    expect(video).to_be_visible()
    expect(page.get_by_test_id("compare")).to_be_hidden()
    size = page.evaluate(
        "() => { const v = document.querySelector('[data-testid=result-video]'); "
        "return [v.videoWidth, v.videoHeight, v.readyState]; }"
    )
    assert size[:2] == [96, 160]
    assert size[2] >= 2
    expect(page.locator("#result-caption")).to_contain_text("MP4")
    # And the download saves the MP4
    download = page.get_by_test_id("download")
    expect(download).to_have_attribute("download", re.compile(r"^stylemixer-[0-9a-f]{32}\.mp4$"))


def test_regions_are_refused_for_a_clip_before_anything_is_sent(page: Any, stack: ServedStack) -> None:
    open_site(page, stack)
    choose_photo(page, pan_clip(size=(160, 120), frames=12))
    pick_preset(page, "tapestry")
    pick_preset(page, "swirling-night")
    page.get_by_test_id("mix-mode").select_option("regions")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("error")).to_contain_text("a clip is painted in one style or a blend")
    expect(page.locator("#progress-panel")).to_be_hidden()


def test_the_camera_is_painted_live_and_a_still_is_painted_through_the_job(
    camera_page: Any, stack: ServedStack
) -> None:
    page = camera_page
    # Given a style chosen and the camera turned on
    open_site(page, stack)
    pick_preset(page, "swirling-night")
    page.get_by_test_id("camera").click()
    canvas = page.get_by_test_id("camera-preview")
    expect(canvas).to_be_visible()
    # When it has run a while
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=camera-preview]').dataset.frames) >= 3",
        timeout=120_000,
    )
    first = int(canvas.get_attribute("data-frames"))
    started = time.monotonic()
    page.wait_for_timeout(5_000)
    frames = int(canvas.get_attribute("data-frames")) - first
    seconds = time.monotonic() - started
    # Then it keeps drawing painted frames, 256 px across, not the camera's own picture
    assert frames > 0
    width, height = page.evaluate(
        "() => { const c = document.querySelector('[data-testid=camera-preview]'); "
        "return [c.width, c.height]; }"
    )
    assert max(width, height) == 256
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    figures = {
        "frames": frames,
        "seconds": round(seconds, 2),
        "fps": round(frames / seconds, 2),
        "size": [width, height],
        "ms_per_frame": canvas.get_attribute("data-ms"),
    }
    (ARTIFACTS / "camera.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print("camera:", figures)
    # When a still is taken
    page.get_by_test_id("camera-still").click()
    # Then the camera's full frame is the photo, painted through the usual job
    assert wait_for_outcome(page, JOB_TIMEOUT_MS) == "result"
    still = page.evaluate(
        "() => { const i = document.getElementById('content-preview-img'); "
        "return [i.naturalWidth, i.naturalHeight]; }"
    )
    assert natural_size(page, "result-image") == tuple(still)
    assert max(still) > 256
    expect(canvas).to_be_hidden()
