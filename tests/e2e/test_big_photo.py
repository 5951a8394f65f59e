"""A photo past the largest size painted, through the page: brought down before it is sent, painted,
and said painted smaller wherever the job is opened again (a reload, a shared link, another try)."""

from __future__ import annotations

import io
import urllib.request
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from stylemixer.limits import MAX_SIDE
from stylemixer.photosize import painted_size
from tests.support.pageflow import (
    JOB_TIMEOUT_MS,
    PostLog,
    choose_photo,
    error_text,
    job_in_address,
    natural_size,
    open_site,
    owner_answer,
    pick_preset,
    submit_and_wait,
    try_other_styles,
    wait_for_outcome,
)
from tests.support.pictures import phone_photo

if TYPE_CHECKING:
    from pathlib import Path

    from stylemixer.local.process import ServedStack

pytestmark = pytest.mark.e2e

#: The photo as stored: 10000 x 1000, longer than the longest side painted, turned a quarter by its
#: EXIF orientation (6) as a phone held upright stores it: upright it is 1000 x 10000.
STORED = (MAX_SIDE + 1808, 1000)


def _upright_photo(tmp_path: Path) -> tuple[Path, Image.Image]:
    stored = phone_photo(*STORED, name="coffee")
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "tall-panorama.jpg"
    stored.save(path, format="JPEG", quality=90, exif=exif.tobytes())
    return path, stored.transpose(Image.Transpose.ROTATE_270)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def test_a_photo_past_the_cap_is_brought_down_upright_sent_and_painted(
    page: Any, stack: ServedStack, tmp_path: Path
) -> None:
    # Given a photo past the longest side painted, stored turned a quarter
    path, upright = _upright_photo(tmp_path)
    want = painted_size(*upright.size)
    assert want == (819, MAX_SIDE)
    posts = PostLog(page, stack)
    open_site(page, stack)
    # When the person chooses it, the page brings it down at once and says so
    choose_photo(page, path)
    caption = page.locator("#content-preview-caption").inner_text()
    assert f"{upright.width} × {upright.height} pixels, brought down to {want[0]} × {want[1]}" in caption
    # and a preset job is sent and runs
    pick_preset(page, "swirling-night")
    outcome = submit_and_wait(page, JOB_TIMEOUT_MS)
    # Then the result is shown at the size painted, beside a note that says why
    assert outcome == "result", error_text(page)
    assert natural_size(page, "result-image") == want
    note = page.get_by_test_id("painting-note").inner_text()
    assert f"painted at {want[0]} × {want[1]}, the largest size accepted" in note
    # and the result itself says so where the person sees it
    result_caption = page.locator("#result-caption")
    expect(result_caption).to_be_visible()
    assert f"painted at {want[0]} × {want[1]}, the largest size accepted" in result_caption.inner_text()
    # and what was sent was one JPEG of that size, upright, with the photo's colours
    assert posts.counts() == (1, 1, 1)
    job = owner_answer(page, job_in_address(page))  # the photo sent is its owner's to see
    sent = Image.open(io.BytesIO(_get(job["request"]["content"]["url"])))
    assert sent.format == "JPEG"
    assert sent.size == want
    expected = np.asarray(upright.resize(want, Image.Resampling.BOX), np.float32)
    got = np.asarray(sent.convert("RGB"), np.float32)
    assert np.abs(got - expected).mean() < 6.0  # upright (turned the wrong way it would be far off)
    assert np.abs(got.mean(axis=(0, 1)) - expected.mean(axis=(0, 1))).max() < 3.0  # colours kept
    assert (job["result"]["width"], job["result"]["height"]) == want
    # And the job itself keeps that it was painted smaller than the photo (the page told it the size)
    painting = {"width": want[0], "height": want[1], "reduced": True}
    assert job["painting"] == {**painting, "photo_width": upright.width, "photo_height": upright.height}

    # When the page is reloaded, with nothing of the job in memory
    page.reload()
    expect(result_caption).to_be_visible()
    # Then the result's caption still says it was painted smaller
    assert natural_size(page, "result-image") == want
    words = f"Your photo is {upright.width} × {upright.height} pixels; it is painted at {want[0]} × {want[1]}"
    expect(result_caption).to_contain_text(words)
    # And so does it for someone the job's link was shared with, who is not its owner
    other = page.context.browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        elsewhere = other.new_page()
        elsewhere.goto(page.url)
        assert wait_for_outcome(elsewhere, JOB_TIMEOUT_MS) == "result", error_text(elsewhere)
        expect(elsewhere.locator("#result-caption")).to_contain_text(words)
    finally:
        other.close()

    # When another try is made from the reloaded result (the photo fetched back, as it was sent)
    try_other_styles(page)
    # Then the photo is said brought down from its own size again, and will be sent so
    preview = page.locator("#content-preview-caption")
    expect(preview).to_contain_text(
        f"{upright.width} × {upright.height} pixels, brought down to {want[0]} × {want[1]}"
    )
    # And the job sent from it names the same upload and says it is painted smaller too
    assert submit_and_wait(page, JOB_TIMEOUT_MS) == "result", error_text(page)
    second = owner_answer(page, job_in_address(page))
    assert second["job_id"] != job["job_id"]
    assert second["request"]["content"]["upload"] == job["request"]["content"]["upload"]
    assert second["painting"] == job["painting"]
