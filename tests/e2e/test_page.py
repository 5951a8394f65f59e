"""The page before any job: the test-id contract, labels, keyboard use, refusals in plain words."""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

import pytest

from stylemixer.limits import MAX_STYLES, MAX_UPLOAD_BYTES
from stylemixer.options import MIXED_KINDS_MESSAGE
from stylemixer.page import site_config
from stylemixer.presets import PRESETS
from tests.support.accessibility import axe_violations
from tests.support.pageflow import choose_photo, error_text, horizontal_overflow, in_viewport, open_site
from tests.support.paths import testdata_path

if TYPE_CHECKING:
    from pathlib import Path

    from stylemixer.local.process import ServedStack


#: The data-testid values the issue lists as a contract for automated tests.
CONTRACT = (
    "content-input",
    "style-option",
    "custom-style-input",
    "mix-mode",
    "strength",
    "submit",
    "progress",
    "result-image",
    "compare",
    "before-image",
    "regions-image",
    "download",
    "error",
    "try-other",
    "strip",
    "preview",
    "edit-regions",
    "map-editor",
    "map-canvas",
    "map-styles",
    "map-tool-fill",
    "map-tool-brush",
    "map-brush",
    "map-undo",
    "map-reset",
    "paint-again",
    "map-close",
)
STATUS_CODE = re.compile(r"\b[45]\d\d\b")


def test_every_contract_hook_exists_and_the_gallery_lists_every_preset(page: Any, stack: ServedStack) -> None:
    # When the page has loaded
    open_site(page, stack)

    # Then each data-testid of the contract is present
    for test_id in CONTRACT:
        assert page.locator(f"[data-testid={test_id}]").count() >= 1, test_id
    # And the gallery shows one option per preset, each with its id and name
    options = page.get_by_test_id("style-option")
    assert options.count() == len(PRESETS)
    ids = options.evaluate_all("els => els.map(e => e.dataset.styleId)")
    assert ids == [p.id for p in PRESETS]
    assert page.locator("[data-style-id='swirling-night']").inner_text() == "Swirling night"
    # And the progress bar exposes its value to assistive technology
    assert page.get_by_test_id("progress").get_attribute("aria-valuenow") == "0"


def test_every_control_has_a_label(page: Any, stack: ServedStack) -> None:
    open_site(page, stack)

    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, button, textarea')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !el.getAttribute('aria-labelledby') && !el.textContent.trim())
            .map(el => el.id || el.outerHTML.slice(0, 80))"""
    )

    assert unlabelled == []
    assert page.locator("[aria-live]").count() >= 1
    assert page.locator("h1").count() == 1


def test_a_photo_can_be_dropped_on_the_page(page: Any, stack: ServedStack) -> None:
    photo = testdata_path("photos", "brad_pitt.jpg")
    open_site(page, stack)

    # When a person drags the photo onto the drop zone and lets go
    page.evaluate(
        """([name, data]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: 'image/jpeg' }));
            const zone = document.getElementById('dropzone');
            const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
            zone.dispatchEvent(new DragEvent('dragover', init));
            zone.dispatchEvent(new DragEvent('drop', init));
        }""",
        [photo.name, base64.b64encode(photo.read_bytes()).decode()],
    )

    # Then it is previewed, with its size, and the file input holds it
    page.wait_for_selector("#content-preview:not([hidden])")
    assert "512 × 512 pixels" in page.locator("#content-preview-caption").inner_text()
    assert page.get_by_test_id("content-input").evaluate("input => input.files[0].name") == photo.name


def test_presets_can_be_chosen_with_the_keyboard(page: Any, stack: ServedStack) -> None:
    open_site(page, stack)
    option = page.locator("[data-style-id='tapestry']")

    # When a person focuses a preset and presses Space, then Enter on another
    option.focus()
    page.keyboard.press("Space")
    page.locator("[data-style-id='grey-ink']").focus()
    page.keyboard.press("Enter")

    # Then both are chosen and listed in the mix, and two styles enable the mix mode
    assert option.get_attribute("aria-pressed") == "true"
    assert page.locator("[data-style-id='grey-ink']").get_attribute("aria-pressed") == "true"
    assert page.locator("#chosen li").count() == 2
    assert page.get_by_test_id("mix-mode").is_enabled()

    # And pressing again removes it
    option.focus()
    page.keyboard.press("Space")
    assert option.get_attribute("aria-pressed") == "false"
    assert not page.get_by_test_id("mix-mode").is_enabled()


def test_more_than_the_style_limit_is_refused_with_a_sentence(page: Any, stack: ServedStack) -> None:
    open_site(page, stack)
    options = page.get_by_test_id("style-option")

    # When one more preset than allowed is pressed
    for index in range(MAX_STYLES + 1):
        options.nth(index).click()

    # Then only the allowed number is chosen and the page says why
    assert page.locator("[data-testid=style-option][aria-pressed=true]").count() == MAX_STYLES
    assert f"at most {MAX_STYLES} styles" in page.locator("#gallery-status").inner_text()


def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "holiday.jpg"  # the name lies; the bytes decide
    path.write_text("Dear diary, today we went to the beach.\n" * 20, encoding="utf-8")
    return path


def huge_file(tmp_path: Path) -> Path:
    path = tmp_path / "huge.jpg"
    with path.open("wb") as f:
        f.write(b"\xff\xd8\xff\xe0")
        f.truncate(MAX_UPLOAD_BYTES + 1)
    return path


@pytest.mark.parametrize(
    ("make_file", "expected"),
    [
        (text_file, "is not a JPEG, PNG, WebP, HEIC or AVIF picture"),
        (huge_file, "the largest photo we accept is 64 MB"),
    ],
    ids=["not-an-image", "too-large"],
)
def test_a_file_that_cannot_be_a_photo_is_refused_at_once(
    page: Any, stack: ServedStack, tmp_path: Path, make_file: Any, expected: str
) -> None:
    open_site(page, stack)
    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if "/api/uploads" in r.url else None)

    # When a person picks the file as their photo
    page.get_by_test_id("content-input").set_input_files(str(make_file(tmp_path)))

    # Then a sentence says what is wrong, without status codes, and nothing was uploaded
    error = page.get_by_test_id("error")
    error.wait_for(state="visible")
    message = error_text(page)
    assert expected in message
    assert not STATUS_CODE.search(message)
    assert page.locator("#content-preview").is_hidden()
    assert api_calls == []

    # And pressing the button asks for a photo instead of sending anything
    page.locator("[data-style-id='tapestry']").click()
    page.get_by_test_id("submit").click()
    assert error_text(page) == "Choose a photo first."
    assert api_calls == []


def test_a_painting_added_to_a_preset_is_mixed_by_regions_and_the_page_says_why_there(
    page: Any, stack: ServedStack
) -> None:
    open_site(page, stack)
    uploads: list[str] = []
    page.on("request", lambda r: uploads.append(r.url) if "/api/uploads" in r.url else None)
    choose_photo(page, testdata_path("photos", "sailboat.jpg"))
    page.locator("[data-style-id='tapestry']").click()
    mix = page.get_by_test_id("mix-mode")

    # When a painting of the person's own joins the preset (the two cannot be blended)
    page.get_by_test_id("custom-style-input").set_input_files(str(testdata_path("styles", "sketch.png")))
    page.wait_for_function("() => document.querySelectorAll('#chosen li').length === 2")

    # Then the mix goes by regions, blending is not offered, and the note beside the choice says why
    # in the API's own words, before anything is pressed or uploaded
    assert mix.input_value() == "regions"
    assert mix.locator("option[value=blend]").is_disabled()
    rule = page.get_by_test_id("mix-rule")
    assert rule.is_visible()
    assert MIXED_KINDS_MESSAGE in rule.inner_text()
    assert "regions" in rule.inner_text()
    assert page.get_by_test_id("error").is_hidden()
    assert uploads == []

    # And once the painting is removed, blending is offered again and the note goes
    page.get_by_role("button", name="Remove sketch.png").click()
    assert not mix.locator("option[value=blend]").is_disabled()
    assert rule.is_hidden()


def test_an_unknown_job_link_shows_the_api_sentence_not_a_status(page: Any, stack: ServedStack) -> None:
    # When a person opens a link to a job that does not exist
    open_site(page, stack, "?job=0123456789abcdef0123456789abcdef")

    # Then the page says so in words and offers the form again
    error = page.get_by_test_id("error")
    error.wait_for(state="visible")
    message = error_text(page)
    assert len(message.split()) >= 4
    assert not STATUS_CODE.search(message)
    assert page.locator("#job-form").is_visible()


@pytest.mark.parametrize(
    "job_id",
    [
        "0123456789ABCDEF0123456789ABCDEF",
        "0123456789abcdef",
        "0123456789abcdef0123456789abcdef0",
        "x%2F..%2Fstyles",
    ],
    ids=["upper-case", "short", "long", "path"],
)
def test_a_job_link_the_api_would_refuse_is_refused_without_asking_it(
    page: Any, stack: ServedStack, job_id: str
) -> None:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/jobs" in r.url else None)

    # When a person opens a link whose job id breaks the id rule of config.json
    open_site(page, stack, f"?job={job_id}")

    # Then the page says the link is not valid, offers the form, and never asked the API about it
    assert error_text(page) == "The job link in the address bar is not valid. Start a new job below."
    assert page.locator("#job-form").is_visible()
    assert asked == []


def _choices(page: Any, select_id: str) -> list[tuple[str, str]]:
    pairs = page.locator(f"#{select_id} option").evaluate_all("os => os.map(o => [o.value, o.textContent])")
    return [(value, label) for value, label in pairs]


def test_the_choices_are_built_from_the_request_rules_of_config_json(page: Any, stack: ServedStack) -> None:
    # Given a config.json whose rules differ from today's (fewer formats, other defaults and bounds)
    config = site_config("/api")
    options = config["request"]["options"]
    options["format"].update(enum=["png", "webp"], default="webp")
    options["stroke"].update(
        enum=["fine", "coarse"], labels={"fine": "Thin", "coarse": "Thick"}, default="fine"
    )
    options["max_size"].update(maximum=1024)
    options["strength"].update(default=0.75)
    options["preserve_color"].update(default=True)
    options["mix"]["labels"]["regions"] = "By region"
    config["request"]["max_styles"] = 2
    page.route("**/config.json", lambda route: route.fulfill(json=config))

    # When the page loads
    open_site(page, stack)

    # Then each control offers exactly what the rules allow, under their labels, set to the defaults
    assert _choices(page, "format") == [("png", "PNG"), ("webp", "WebP")]
    assert page.locator("#format").input_value() == "webp"
    assert _choices(page, "stroke") == [("fine", "Thin"), ("coarse", "Thick")]  # no null: not the default
    assert page.locator("#stroke").input_value() == "fine"
    assert _choices(page, "max-size") == [
        ("", "Same as the photo"),
        ("1024", "At most 1024 px"),
        ("512", "At most 512 px"),
    ]
    assert _choices(page, "mix-mode") == [("blend", "Blend, by weight"), ("regions", "By region")]
    strength = page.get_by_test_id("strength")
    assert (strength.get_attribute("min"), strength.get_attribute("max"), strength.input_value()) == (
        "0",
        "100",
        "75",
    )
    assert page.locator("#strength-value").inner_text() == "75%"
    assert page.locator("#preserve-color").is_checked()
    assert page.locator("[data-limit=max_styles]").inner_text() == "2"
    # And the style limit is the rules' too
    for index in range(3):
        page.get_by_test_id("style-option").nth(index).click()
    assert page.locator("[data-testid=style-option][aria-pressed=true]").count() == 2


def test_the_page_offers_todays_choices_with_their_labels(page: Any, stack: ServedStack) -> None:
    open_site(page, stack)
    options = site_config("/api")["request"]["options"]

    # Then each choice is an allowed value under its label, and null ("the service decides") is offered
    # where it is the default
    for select_id, name in (("format", "format"), ("stroke", "stroke"), ("mix-mode", "mix")):
        offered = [(value, label) for value, label in _choices(page, select_id) if value]
        assert offered == list(options[name]["labels"].items()), name
    assert _choices(page, "stroke")[0] == ("", "Automatic")
    assert _choices(page, "max-size")[0] == ("", "Same as the photo")
    # And the controls start at the defaults
    assert page.locator("#format").input_value() == "jpeg"
    assert page.get_by_test_id("mix-mode").input_value() == "blend"
    assert page.get_by_test_id("strength").input_value() == "100"
    assert not page.locator("#preserve-color").is_checked()
    # And the photo's help and file chooser name the accepted types of config.json
    assert page.locator("#content-help").inner_text() == (
        "JPEG, PNG, WebP, HEIC or AVIF, up to 64 MB; or a clip (MP4 or MOV) up to 60 s."
    )
    accept = page.get_by_test_id("content-input").get_attribute("accept") or ""
    assert set(accept.split(",")) >= {"image/jpeg", "image/heic", "image/avif", ".heic"}


def test_the_form_fits_a_phone_screen(phone_page: Any, stack: ServedStack) -> None:
    # Given a phone-width screen with a photo and two styles chosen
    open_site(phone_page, stack)
    choose_photo(phone_page, testdata_path("photos", "chicago.jpg"))
    phone_page.locator("[data-style-id='tapestry']").click()
    phone_page.locator("[data-style-id='grey-ink']").click()

    # Then nothing scrolls sideways and the button is in view, a thumb's size at least
    assert horizontal_overflow(phone_page) == 0
    assert in_viewport(phone_page, "submit")
    box = phone_page.get_by_test_id("submit").bounding_box()
    assert box is not None
    assert box["width"] >= 150
    assert box["height"] >= 44


def test_the_accessibility_check_finds_a_control_without_a_label(page: Any, stack: ServedStack) -> None:
    # Given the page, to which an input without any label is added
    open_site(page, stack)
    assert axe_violations(page) == []
    page.evaluate(
        "() => document.getElementById('styles-help').after(Object.assign(document.createElement('input'),"
        " { type: 'text', id: 'unlabelled' }))"
    )

    # Then axe-core, as the suite runs it, reports it
    found = axe_violations(page)
    assert any(line.startswith("label") and "#unlabelled" in line for line in found), found
