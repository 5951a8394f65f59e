"""Nothing dropped: an upload that storage refuses or fails, or that the network cuts, is told at
once, is never followed by a job, and goes again with the photo and the choices as they were.

Storage's answers are made by the browser's request routing (the embedded S3 itself accepts every
upload the API signs); the API, the worker and the job that follows a second try are real.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from tests.support.pageflow import (
    JOB_TIMEOUT_MS,
    PostLog,
    choose_photo,
    error_text,
    open_site,
    pick_preset,
    wait_for_outcome,
)
from tests.support.paths import testdata_path

if TYPE_CHECKING:
    from stylemixer.local.process import ServedStack


STATUS_CODE = re.compile(r"\b[45]\d\d\b")


def refuse(route: Any) -> None:
    route.fulfill(status=403, body="<Error><Code>AccessDenied</Code></Error>")


def fail(route: Any) -> None:
    route.fulfill(status=503, body="<Error><Code>SlowDown</Code></Error>")


def cut(route: Any) -> None:
    route.abort("connectionreset")


def storage_route(page: Any, stack: ServedStack, handler: Any) -> None:
    """Route the page's POSTs to storage (any address but the page's own) through ``handler``."""

    def route(route: Any) -> None:
        if route.request.method == "POST" and not route.request.url.startswith(stack.url):
            handler(route)
        else:
            route.continue_()

    page.route(re.compile(r"^http://127\.0\.0\.1:\d+/"), route)


def ready_to_send(page: Any, stack: ServedStack) -> None:
    open_site(page, stack)
    choose_photo(page, testdata_path("photos", "brad_pitt.jpg"))
    pick_preset(page, "scarlet-blaze")
    page.locator("#stroke").select_option("coarse")


def assert_form_as_it_was(page: Any) -> None:
    """The form is back with the photo and the style chosen, ready to send again."""
    expect(page.locator("#job-form")).to_be_visible()
    expect(page.locator("#content-preview-img")).to_be_visible()
    expect(page.locator("[data-style-id='scarlet-blaze']")).to_have_attribute("aria-pressed", "true")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [(refuse, "refused"), (fail, "could not take"), (cut, "connection")],
    ids=["refused-403", "failing-503", "network-cut"],
)
def test_an_upload_storage_does_not_take_is_told_at_once_and_nothing_is_queued(
    page: Any, stack: ServedStack, answer: Any, expected: str
) -> None:
    posts = PostLog(page, stack)
    ready_to_send(page, stack)
    storage_route(page, stack, answer)

    # When the person presses the button and storage does not take the photo
    page.get_by_test_id("submit").click()

    # Then a sentence says so beside the button, without a status code, with "Send again"
    expect(page.get_by_test_id("error")).to_be_visible()
    message = error_text(page)
    assert expected in message, message
    assert not STATUS_CODE.search(message), message
    expect(page.get_by_test_id("retry")).to_be_visible()
    assert page.get_by_test_id("action-bar").locator("[data-testid=error]").count() == 1
    # And no job was asked for, and the photo and the choice are still there
    assert posts.jobs == []
    assert_form_as_it_was(page)


def test_send_again_after_a_refused_upload_paints_the_photo(page: Any, stack: ServedStack) -> None:
    posts = PostLog(page, stack)
    ready_to_send(page, stack)
    refused: list[str] = []

    def refuse_once(route: Any) -> None:
        if refused:
            route.continue_()
            return
        refused.append(route.request.url)
        refuse(route)

    storage_route(page, stack, refuse_once)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("retry")).to_be_visible()

    # When "Send again" is pressed
    page.get_by_test_id("retry").click()

    # Then the same photo and choice are sent and painted: one job, the second upload
    assert wait_for_outcome(page, JOB_TIMEOUT_MS) == "result", error_text(page)
    assert len(refused) == 1
    assert len(posts.storage) == 2
    assert len(posts.jobs) == 1


def test_an_upload_cut_by_a_lost_connection_goes_again_when_it_is_back(page: Any, stack: ServedStack) -> None:
    posts = PostLog(page, stack)
    ready_to_send(page, stack)
    lost: list[str] = []

    def lose_the_connection(route: Any) -> None:
        if lost:
            route.continue_()
            return
        lost.append(route.request.url)
        page.context.set_offline(True)
        route.abort("internetdisconnected")

    storage_route(page, stack, lose_the_connection)

    # When the connection goes while the photo is being sent
    page.get_by_test_id("submit").click()

    # Then the page says it will send it again when the connection is back; no job was asked for
    expect(page.get_by_test_id("error")).to_contain_text("as soon as the connection is back")
    assert posts.jobs == []
    assert_form_as_it_was(page)

    # And when the connection comes back, it is sent again by itself and painted
    page.context.set_offline(False)
    assert wait_for_outcome(page, JOB_TIMEOUT_MS) == "result", error_text(page)
    assert len(lost) == 1
    assert len(posts.jobs) == 1


def test_cancel_during_an_upload_stops_it_and_queues_nothing(page: Any, stack: ServedStack) -> None:
    posts = PostLog(page, stack)
    ready_to_send(page, stack)
    held: list[Any] = []
    storage_route(page, stack, held.append)  # storage never answers while the test holds the request

    # When the person presses the button, then Cancel while the photo is on its way
    page.get_by_test_id("submit").click()
    page.wait_for_function("() => document.getElementById('upload-block').hidden === false")
    page.get_by_test_id("cancel").click()

    # Then the form is back as it was, says nothing was sent, and no job was asked for
    expect(page.get_by_test_id("error")).to_contain_text("nothing was sent")
    assert_form_as_it_was(page)
    assert posts.jobs == []
    for route in held:
        route.abort()
