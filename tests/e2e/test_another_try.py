"""Another try on the same photo, and the visit's pictures: what a person does after a first result.

Real photos, the real worker, Chromium. Requests are counted at the browser: a picture sent is one
``POST /api/uploads`` and one POST to storage, so "not sent again" is both counts unchanged.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import numpy as np
from playwright.sync_api import expect

from tests.support.pageflow import (
    JOB_TIMEOUT_MS,
    PostLog,
    error_text,
    fetch_image,
    first_result,
    job_in_address,
    natural_size,
    owner_answer,
    submit_and_wait,
    try_other_styles,
)

if TYPE_CHECKING:
    from stylemixer.local.process import ServedStack


PHOTO = ("photos", "golden_gate.jpg")
WATCH_STAGE = """() => {
  window.__stages = [];
  const stage = document.getElementById('stage');
  new MutationObserver(() => window.__stages.push(stage.textContent))
    .observe(stage, { childList: true, characterData: true, subtree: true });
}"""


def toggle_preset(page: Any, preset_id: str, pressed: bool) -> None:
    option = page.locator(f"[data-testid=style-option][data-style-id='{preset_id}']")
    option.click()
    expect(option).to_have_attribute("aria-pressed", str(pressed).lower())


def pressed_presets(page: Any) -> list[str]:
    return page.locator("[data-testid=style-option][aria-pressed=true]").evaluate_all(
        "els => els.map(e => e.dataset.styleId)"
    )


def another_try(page: Any, swap: tuple[str, str]) -> str:
    """ "Try other styles", swap one preset for another, send; returns the new job's id."""
    try_other_styles(page)
    toggle_preset(page, swap[0], pressed=False)
    toggle_preset(page, swap[1], pressed=True)
    outcome = submit_and_wait(page, JOB_TIMEOUT_MS)
    assert outcome == "result", error_text(page)
    return job_in_address(page)


def strip_jobs(page: Any) -> list[str]:
    return page.get_by_test_id("strip-item").evaluate_all("els => els.map(e => e.dataset.jobId)")


def test_another_try_paints_the_same_photo_without_uploading_it_again(page: Any, stack: ServedStack) -> None:
    posts = PostLog(page, stack)

    # Given a first result: the photo sent once (one POST /uploads, one POST to storage)
    first = first_result(page, stack, "swirling-night", PHOTO)
    assert posts.counts() == (1, 1, 1)
    first_picture = fetch_image(page, "result-image")

    # When the person presses "Try other styles"
    try_other_styles(page)

    # Then the form is back with the photo and every choice as they were
    expect(page.locator("#content-preview-img")).to_be_visible()
    assert pressed_presets(page) == ["swirling-night"]
    assert page.locator("#max-size").input_value() == "512"
    assert "job=" not in page.url

    # When they swap the style and send again
    toggle_preset(page, "swirling-night", pressed=False)
    toggle_preset(page, "grey-ink", pressed=True)
    page.get_by_test_id("submit").click()
    # Then while it runs, the panel shows the photo and the style chosen
    expect(page.get_by_test_id("asked-photo")).to_be_visible()
    expect(page.get_by_test_id("asked-styles")).to_have_text("Grey ink")
    assert page.wait_for_function(
        "() => !document.getElementById('result-panel').hidden", timeout=JOB_TIMEOUT_MS
    )
    second = job_in_address(page)

    # And a second result comes, painted from the same upload: no second upload request of either kind
    assert second != first
    assert posts.counts() == (1, 1, 2), (posts.uploads, posts.storage)
    second_picture = fetch_image(page, "result-image")
    assert second_picture.size == first_picture.size
    difference = np.abs(np.asarray(first_picture, np.float32) - np.asarray(second_picture, np.float32)).mean()
    assert difference > 10, "the second style painted the same picture as the first"
    # And both pictures of the visit are in the strip, newest first, each labelled with its style
    assert strip_jobs(page) == [second, first]
    assert page.get_by_test_id("strip-label").all_inner_texts() == [
        "Picture 2: Grey ink",
        "Picture 1: Swirling night",
    ]


def test_the_strip_of_results_survives_a_reload(page: Any, stack: ServedStack) -> None:
    # Given two results of this visit, the second on screen
    first = first_result(page, stack, "tapestry", PHOTO)
    second = another_try(page, ("tapestry", "moss-shadow"))
    assert strip_jobs(page) == [second, first]
    stored = page.evaluate("() => localStorage.getItem('stylemixer.visit')")

    # When the page is reloaded
    page.reload()
    # (the strip is drawn as each job's answer comes back: wait for both, not the first)
    page.wait_for_function("() => document.querySelectorAll('[data-testid=strip-item] img').length >= 2")

    # Then the strip shows both pictures again, newest first, from the ids alone
    assert {entry["id"] for entry in json.loads(stored)} == {first, second}
    assert set(json.loads(stored)[0]) == {"id", "at"}
    assert strip_jobs(page) == [second, first]
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=strip-item] img')].every(i => i.naturalWidth > 0)"
    )
    assert page.locator("[data-testid=strip-view][aria-current=true]").count() == 1
    # each from its small copy (400 x 400 of the 512 x 512 picture), not the picture itself (its
    # size waited for: the strip draws its tiles again as answers come, each loading anew)
    names = page.locator("[data-testid=strip-item] img").evaluate_all(
        "els => els.map(i => new URL(i.src).pathname.split('/').pop())"
    )
    assert names == [f"{job}.thumb.jpg" for job in (second, first)], names
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=strip-item] img')]"
        ".every(i => i.naturalWidth === 400 && i.naturalHeight === 400)"
    )

    # When the older one is chosen
    page.get_by_test_id("strip-view").nth(1).click()
    page.wait_for_url(re.compile(f"job={first}"))
    page.wait_for_function(
        "(id) => !document.getElementById('result-panel').hidden"
        " && document.getElementById('result-image').src.includes(id)",
        arg=first,
    )

    # Then it is on screen, with the before/after on the photo the API links to
    assert page.get_by_test_id("result-image").is_visible()
    assert natural_size(page, "result-image") == (512, 512)
    assert page.get_by_test_id("compare").get_attribute("role") == "slider"
    page.wait_for_function("() => document.getElementById('before-image').naturalWidth === 512")

    # And its download button saves that picture under its job's name
    with page.expect_download() as download_info:
        page.get_by_test_id("strip-download").nth(1).click()
    assert download_info.value.suggested_filename == f"stylemixer-{first}.jpg"


def test_after_a_reload_another_try_restores_the_choices_and_resends_a_photo_no_longer_kept(
    page: Any, stack: ServedStack
) -> None:
    # Given a result, and the page reloaded (the photo in hand is gone)
    first = first_result(page, stack, "indigo-brush", PHOTO)
    page.reload()
    page.wait_for_selector("#result-panel:not([hidden])")
    posts = PostLog(page, stack)
    page.evaluate(WATCH_STAGE)
    refused: list[str] = []

    def as_if_expired(route: Any) -> None:
        # The first job sent after the reload meets an upload past its window, as the next day.
        if route.request.method == "POST" and not refused:
            refused.append(route.request.post_data or "")
            body = {"error": {"code": "UploadExpired", "message": "The photo was uploaded too long ago."}}
            route.fulfill(status=410, content_type="application/json", body=json.dumps(body))
        else:
            route.continue_()

    page.route(re.compile(r"/api/jobs$"), as_if_expired)

    # When "Try other styles" is pressed
    try_other_styles(page)

    # Then the photo, the style and the options of that result are back in the form
    page.wait_for_function("() => document.getElementById('content-preview-img').naturalWidth === 512")
    assert pressed_presets(page) == ["indigo-brush"]
    assert page.locator("#max-size").input_value() == "512"

    # When another style is sent: the first attempt names the old upload, which the API says is gone
    toggle_preset(page, "amber-glow", pressed=True)
    assert submit_and_wait(page, JOB_TIMEOUT_MS) == "result", error_text(page)

    # Then that attempt named the first job's photo upload, not a new one
    first_content = owner_answer(page, first)["request"]["content"]["upload"]
    assert json.loads(refused[0])["content"] == first_content
    # And the page said so, sent the photo again, once, and the new job used the new upload
    stages = page.evaluate("() => window.__stages")
    assert any("no longer kept" in stage for stage in stages), stages
    assert posts.counts() == (1, 1, 2)
    second = owner_answer(page, job_in_address(page))
    assert second["job_id"] != first
    assert second["request"]["content"]["upload"] != first_content
    assert [s.get("preset") for s in second["request"]["styles"]] == ["indigo-brush", "amber-glow"]
