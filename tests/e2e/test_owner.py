"""Photos only their owner can reach, through the page: the owner token kept with the visit's
strip, "Delete" on a result and on a strip item (nothing left in storage), a shared link that shows
the result and the styles only, and the footer saying how long pictures are kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import requests
from playwright.sync_api import expect

from stylemixer import resources
from stylemixer.local.iam import Credentials
from tests.support.pageflow import (
    JOB_TIMEOUT_MS,
    error_text,
    first_result,
    job_in_address,
    open_site,
    pick_preset,
    submit_and_wait,
    try_other_styles,
    wait_for_outcome,
)

if TYPE_CHECKING:
    from stylemixer.local.process import ServedStack

pytestmark = pytest.mark.e2e


def _keys_of(stack: ServedStack, job_id: str, upload_ids: list[str]) -> list[str]:
    """The objects of the embedded bucket that belong to the job: its results and its uploads."""
    assert stack.aws_endpoint
    assert stack.operator_keys
    s3 = Credentials(*stack.operator_keys).client("s3", stack.aws_endpoint)
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=resources.DATA_BUCKET):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return [k for k in keys if job_id in k or any(u in k for u in upload_ids)]


def _owner_answer(page: Any, stack: ServedStack, job_id: str) -> dict[str, Any]:
    """What the API answers the page's browser about ``job_id``, with the token the page kept."""
    tokens = page.evaluate("() => JSON.parse(localStorage.getItem('stylemixer.owners') || '{}')")
    headers = {"Authorization": f"Bearer {tokens[job_id]}"}
    return requests.get(f"{stack.url}api/jobs/{job_id}", headers=headers, timeout=30).json()


def test_delete_on_the_result_removes_the_job_and_its_photo_and_leaves_nothing(
    page: Any, stack: ServedStack
) -> None:
    # Given a result this browser sent (it keeps the job's owner token beside the strip)
    job_id = first_result(page, stack)
    answer = _owner_answer(page, stack, job_id)
    assert answer["owner"] is True
    photo = answer["request"]["content"]["upload"]
    links = [answer["result"]["url"], answer["result"]["thumbnail_url"], answer["request"]["content"]["url"]]
    assert len(_keys_of(stack, job_id, [photo])) == 3  # the photo, the result and its small copy
    expect(page.get_by_test_id("delete")).to_be_visible()

    # When the person presses Delete and confirms
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("delete").click()

    # Then the page says it is gone and shows the empty form, the strip no longer holds it
    expect(page.get_by_test_id("notice")).to_contain_text("Deleted")
    expect(page.locator("#job-form")).to_be_visible()
    assert "job=" not in page.url
    assert page.locator(f"[data-testid=strip-item][data-job-id='{job_id}']").count() == 0
    tokens = page.evaluate("() => JSON.parse(localStorage.getItem('stylemixer.owners') || '{}')")
    assert job_id not in tokens
    # And the job reads 404, storage refuses the old links, and nothing of it is left in the bucket
    assert requests.get(f"{stack.url}api/jobs/{job_id}", timeout=30).status_code == 404
    assert all(requests.get(link, timeout=30).status_code in (403, 404) for link in links)
    assert _keys_of(stack, job_id, [photo]) == []


def test_delete_asks_first_and_nothing_goes_when_the_person_says_no(page: Any, stack: ServedStack) -> None:
    job_id = first_result(page, stack)
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_test_id("delete").click()
    expect(page.get_by_test_id("result-image")).to_be_visible()
    assert requests.get(f"{stack.url}api/jobs/{job_id}", timeout=30).status_code == 200


def test_a_strip_item_is_deleted_from_the_strip(page: Any, stack: ServedStack) -> None:
    # Given two pictures of this visit (another try on the same photo), the second on screen
    first = first_result(page, stack, "tapestry")
    try_other_styles(page)
    page.locator("[data-testid=style-option][data-style-id='tapestry']").click()
    pick_preset(page, "grey-ink")
    assert submit_and_wait(page, JOB_TIMEOUT_MS) == "result", error_text(page)
    second = job_in_address(page)
    page.wait_for_selector(f"[data-testid=strip-item][data-job-id='{first}'] [data-testid=strip-delete]")

    # When the first is deleted from the strip
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"[data-testid=strip-item][data-job-id='{first}'] [data-testid=strip-delete]").click()

    # Then only the second stays in the strip and on screen, and the first is gone from the API
    expect(page.locator(f"[data-testid=strip-item][data-job-id='{first}']")).to_have_count(0)
    assert page.get_by_test_id("strip-item").evaluate_all("els => els.map(e => e.dataset.jobId)") == [second]
    expect(page.get_by_test_id("result-image")).to_be_visible()
    assert job_in_address(page) == second
    assert requests.get(f"{stack.url}api/jobs/{first}", timeout=30).status_code == 404


def test_a_shared_link_shows_the_result_and_the_styles_but_never_the_photo(
    page: Any, stack: ServedStack
) -> None:
    # Given a result, and its link opened in another browser, which holds no owner token
    job_id = first_result(page, stack, "stained-glass")
    other = page.context.browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        elsewhere = other.new_page()
        photo_requests: list[str] = []
        elsewhere.on(
            "request", lambda r: photo_requests.append(r.url) if "/uploads/content/" in r.url else None
        )
        elsewhere.goto(f"{stack.url}?job={job_id}")
        assert wait_for_outcome(elsewhere, JOB_TIMEOUT_MS) == "result", error_text(elsewhere)
        # Then the result is there, but no photo: no slider, no link to it asked for, no Delete
        expect(elsewhere.get_by_test_id("result-image")).to_be_visible()
        expect(elsewhere.locator("#before-image")).to_be_hidden()
        expect(elsewhere.get_by_test_id("delete")).to_be_hidden()
        assert photo_requests == []
        # And "Try other styles" brings the style back, and says the photo stays with its owner
        try_other_styles(elsewhere)
        assert "stays with the person who sent it" in error_text(elsewhere)
        expect(
            elsewhere.locator("[data-testid=style-option][data-style-id='stained-glass']")
        ).to_have_attribute("aria-pressed", "true")
    finally:
        other.close()
    # While the browser that sent it still sees its photo beside the result
    expect(page.locator("#before-image")).to_be_visible()


def test_the_footer_says_how_long_pictures_are_kept(page: Any, stack: ServedStack) -> None:
    open_site(page, stack)
    kept = page.get_by_test_id("kept")
    expect(kept).to_contain_text("photos are deleted after a day")
    expect(kept).to_contain_text("pictures after 7 days")
    expect(kept).to_contain_text("Delete")
