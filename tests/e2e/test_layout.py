"""The page as a person sees it at 1280 x 900 and on a 390 x 844 phone: what is in view, and the
before/after that is the picture itself.

Boxes are read from the browser as laid out (CSS pixels, nothing scrolled by the test unless said).
Real photos and paintings, the real worker, Chromium.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.accessibility import assert_accessible
from tests.support.browser import DESKTOP, PHONE, open_page
from tests.support.pageflow import (
    JOB_TIMEOUT_MS,
    boxes,
    choose_photo,
    error_text,
    horizontal_overflow,
    in_viewport,
    open_site,
    pick_preset,
    submit_and_wait,
    touch_drag,
    wait_for_outcome,
)
from tests.support.paths import testdata_path
from tests.support.previewflow import after_change

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from stylemixer.local.process import ServedStack


#: The issue's portrait case: what a phone takes upright, 1050 x 1680.
PORTRAIT = (1050, 1680)


@pytest.fixture(scope="module")
def portrait_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real photo cut to a portrait and brought to 1050 x 1680 (5:8), as a JPEG."""
    path = tmp_path_factory.mktemp("portrait") / "portrait.jpg"
    with Image.open(testdata_path("photos", "golden_gate.jpg")) as image:
        height = image.height
        cut = image.convert("RGB").crop((0, 0, round(height * PORTRAIT[0] / PORTRAIT[1]), height))
        cut.resize(PORTRAIT, Image.Resampling.LANCZOS).save(path, quality=92)
    return path


@pytest.fixture
def touch_phone_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A phone-sized page with a touch screen."""
    yield from open_page(browser, request, PHONE, has_touch=True)


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def sized_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page at 1280 x 900, then one at 390 x 844."""
    yield from open_page(browser, request, request.param)


def photo_for(shape: str, portrait_photo: Path) -> Path:
    return portrait_photo if shape == "portrait" else testdata_path("photos", "chicago.jpg")


@pytest.mark.parametrize("shape", ["portrait", "landscape"])
def test_once_a_photo_and_a_style_are_chosen_the_preview_and_the_button_are_in_view(
    sized_page: Any, stack: ServedStack, portrait_photo: Path, shape: str
) -> None:
    page = sized_page
    # Given the page, a photo chosen
    open_site(page, stack)
    choose_photo(page, photo_for(shape, portrait_photo))

    # When a style is picked in the gallery (the click scrolls to it, as a person would)
    after_change(page, lambda: pick_preset(page, "swirling-night"))

    # Then what you will get and the button to get it are both in view, without scrolling
    assert in_viewport(page, "preview"), boxes(page, "preview")
    assert in_viewport(page, "submit"), boxes(page, "submit")
    assert horizontal_overflow(page) == 0
    # And the form, photo and style chosen, has no accessibility violation
    assert_accessible(page)


def assert_lines_up(page: Any, ratio: float) -> None:
    """Frame, result and original in the same box (within 2 px), of the picture's aspect (within 1 %)."""
    found = boxes(page, "compare", "result-image", "before-image")
    frame = found["compare"]
    for name in ("result-image", "before-image"):
        layer = found[name]
        for key in ("x", "y", "width", "height"):
            assert abs(layer[key] - frame[key]) <= 2, (name, key, found)
    assert abs(frame["width"] / frame["height"] / ratio - 1) <= 0.01, (frame, ratio)


def position(page: Any) -> int:
    return int(page.get_by_test_id("compare").get_attribute("data-position"))


def at(page: Any, fraction: float) -> tuple[float, float]:
    """The point at ``fraction`` of the picture's width, half way down."""
    frame = page.get_by_test_id("compare").bounding_box()
    return frame["x"] + fraction * frame["width"], frame["y"] + frame["height"] / 2


@pytest.mark.parametrize("shape", ["portrait", "landscape"])
def test_the_before_and_after_is_the_picture_at_both_sizes_and_follows_a_drag(
    page: Any, stack: ServedStack, portrait_photo: Path, shape: str
) -> None:
    photo = photo_for(shape, portrait_photo)
    with Image.open(photo) as image:
        ratio = image.width / image.height

    # Given a result at 1280 x 900 (the portrait at its own 1050 x 1680)
    open_site(page, stack)
    choose_photo(page, photo)
    pick_preset(page, "swirling-night")
    page.locator("#stroke").select_option("coarse")
    if shape == "landscape":
        page.locator("#max-size").select_option("512")
    assert submit_and_wait(page, JOB_TIMEOUT_MS) == "result", error_text(page)
    page.wait_for_function("() => document.querySelector('[data-testid=before-image]').naturalWidth > 0")

    # Then the original and the result lie in the frame's box, which has the picture's shape, and
    # Download and "Try other styles" are in view with it
    assert_lines_up(page, ratio)
    assert in_viewport(page, "download")
    assert in_viewport(page, "try-other")
    assert in_viewport(page, "compare")
    assert position(page) == 50

    # When the divider is dragged with the mouse from the middle to a fifth of the way across
    page.mouse.move(*at(page, 0.5))
    page.mouse.down()
    page.mouse.move(*at(page, 0.2), steps=10)
    page.mouse.up()

    # Then it follows, and the arrow keys move it on
    assert abs(position(page) - 20) <= 3, position(page)
    dragged = position(page)
    page.get_by_test_id("compare").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert position(page) == dragged + 2
    page.keyboard.press("End")
    assert position(page) == 100
    page.keyboard.press("Home")
    assert position(page) == 0

    # And pressing and holding shows the original alone, until let go
    compare = page.get_by_test_id("compare")
    page.mouse.move(*at(page, 0.6))
    page.mouse.down()
    expect(compare).to_have_class("compare compare-on compare-holding")
    assert page.get_by_test_id("before-image").evaluate("img => getComputedStyle(img).clipPath") == "none"
    page.mouse.up()
    expect(compare).not_to_have_class("compare compare-on compare-holding")
    assert position(page) == 0
    assert_accessible(page, "#result-panel")
    job_url = page.url

    # When the same result is opened on a phone with a touch screen (this browser's own job, so its
    # original is there)
    phone = page.context.new_page()
    try:
        phone.set_viewport_size(PHONE)
        phone.goto(job_url)
        assert wait_for_outcome(phone, JOB_TIMEOUT_MS) == "result", error_text(phone)
        phone.wait_for_function("() => document.querySelector('[data-testid=before-image]').naturalWidth > 0")

        # Then it lines up there too, fits the screen, with its actions in view
        assert_lines_up(phone, ratio)
        assert horizontal_overflow(phone) == 0
        assert in_viewport(phone, "compare")
        assert in_viewport(phone, "download")
        assert in_viewport(phone, "try-other")
    finally:
        phone.close()


def test_a_finger_swipe_across_the_picture_moves_the_divider(
    touch_phone_page: Any, stack: ServedStack
) -> None:
    page = touch_phone_page
    # Given a result on a phone with a touch screen
    open_site(page, stack)
    choose_photo(page, testdata_path("photos", "brad_pitt.jpg"))
    pick_preset(page, "grey-ink")
    page.locator("#stroke").select_option("coarse")
    assert submit_and_wait(page, JOB_TIMEOUT_MS) == "result", error_text(page)

    # When a finger swipes across the picture from the middle to a fifth of the way
    touch_drag(page, at(page, 0.5), at(page, 0.2))

    # Then the divider follows the finger
    assert abs(position(page) - 20) <= 3, position(page)
    assert horizontal_overflow(page) == 0


def test_the_gallery_is_part_of_the_page_and_one_tab_stop_moved_by_arrow_keys(
    page: Any, stack: ServedStack
) -> None:
    open_site(page, stack)
    gallery = page.locator("#gallery")

    # Then the gallery is no scroll box of its own: the page scrolls it
    assert gallery.evaluate("g => getComputedStyle(g).overflowY") == "visible"
    assert gallery.evaluate("g => g.scrollHeight <= g.clientHeight + 1")
    # And it is one tab stop
    tabbable = gallery.evaluate("g => [...g.querySelectorAll('button')].filter(b => b.tabIndex >= 0).length")
    assert tabbable == 1
    # (one Tab from the photo's last control, the Camera button, reaches the gallery)
    page.get_by_test_id("camera").focus()
    page.keyboard.press("Tab")
    first = page.get_by_test_id("style-option").first
    expect(first).to_be_focused()

    # When the arrow keys are pressed inside it
    options = page.get_by_test_id("style-option")
    page.keyboard.press("ArrowRight")
    expect(options.nth(1)).to_be_focused()
    below = options.nth(1).bounding_box()
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("() => document.activeElement.getBoundingClientRect().toJSON()")

    # Then focus moves to the style beside, then to the one below it
    assert abs(focused["x"] - below["x"]) <= 2
    assert focused["y"] > below["y"]
    page.keyboard.press("End")
    expect(options.last).to_be_focused()
    page.keyboard.press("Home")
    expect(first).to_be_focused()
    # And Tab leaves the gallery in one press
    page.keyboard.press("Tab")
    assert page.evaluate("() => !document.getElementById('gallery').contains(document.activeElement)")


def test_on_a_phone_the_gallery_is_a_row_that_swipes_sideways(phone_page: Any, stack: ServedStack) -> None:
    open_site(phone_page, stack)
    gallery = phone_page.locator("#gallery")

    # Then its styles scroll sideways inside it, never the page, and all can be reached
    assert gallery.evaluate("g => getComputedStyle(g).overflowX") == "auto"
    assert gallery.evaluate("g => g.scrollWidth > g.clientWidth")
    assert horizontal_overflow(phone_page) == 0
    pick_preset(phone_page, "moss-shadow")  # the last: reached by scrolling the row
    assert horizontal_overflow(phone_page) == 0


def test_four_styles_share_a_blend_and_each_slider_sits_at_its_share(page: Any, stack: ServedStack) -> None:
    open_site(page, stack)
    for preset in ("tapestry", "grey-ink", "amber-glow", "moss-shadow"):
        pick_preset(page, preset)
    sliders = page.locator("#chosen .chosen-weight")

    # Then with four styles each has a quarter, and its slider sits a quarter of the way
    assert [sliders.nth(i).input_value() for i in range(4)] == ["25"] * 4
    assert page.locator("#chosen .chosen-share").all_inner_texts() == ["25%"] * 4

    # When one is moved to 55%
    sliders.nth(0).fill("55")

    # Then the others share the rest, and the shares still add up to 100
    values = [int(sliders.nth(i).input_value()) for i in range(4)]
    assert values[0] == 55
    assert sum(values) == 100
    assert values[1:] == [15, 15, 15]
