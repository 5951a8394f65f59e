"""Odd and hostile files through the whole path: each gets a 4xx, a job failed with its reason, or a result.

Never a 5xx, never a worker crash (a retry), never a result left behind for a failed job. The cases
are the catalogue's (:mod:`tests.support.catalogue`); the files are made at test time by
:mod:`tests.support.imagefiles` (the image I/O tests' own factory).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.aws import FakeEngine, Stack, assert_outcome, call_api
from tests.support.aws import upload_through_presigned_post as upload
from tests.support.catalogue import FUNCTIONAL_FILE_CASES

if TYPE_CHECKING:
    from collections.abc import Callable


@pytest.mark.parametrize(
    ("make", "expected"),
    [(c.make, c.expected) for c in FUNCTIONAL_FILE_CASES],
    ids=[c.name for c in FUNCTIONAL_FILE_CASES],
)
def test_bad_file_gets_a_clear_answer(
    aws: Stack, fake_engine: FakeEngine, make: Callable[[], bytes], expected: str
) -> None:
    # Given the file uploaded as a JPEG (its declared type may lie; the bytes decide)
    data = make()
    upload_id = upload(data) if data else _empty_upload(aws)
    # When a job is submitted for it
    response = call_api("POST", "/jobs", {"content": upload_id, "styles": [{"preset": "tapestry"}]})
    # Then the API refuses it, or the worker fails the job with its reason, or it succeeds
    assert_outcome(aws, response, expected)


def _empty_upload(aws: Stack) -> str:
    """An empty object under a real upload id (a browser cannot POST 0 bytes under the policy)."""
    ticket = call_api(
        "POST", "/uploads", {"purpose": "content", "content_type": "image/jpeg", "size": 1}
    ).body
    aws.put_upload("content", ticket["upload_id"], b"")
    return ticket["upload_id"]
