"""The bad-input catalogue, run: each hostile file or request gets exactly its catalogued outcome.

Whatever the case: never a 5xx, a refusal leaves no job and no message behind, the worker never
asks for a retry (a crash), and a failed job leaves no result object.
"""

from __future__ import annotations

import pytest

from functions.api import handler as api
from tests.support import imagefiles as files
from tests.support.aws import (
    ApiResponse,
    FakeEngine,
    Stack,
    api_event,
    assert_outcome,
    call_api,
    invoke_api,
    upload_through_presigned_post,
)
from tests.support.catalogue import FILE_CASES, REQUEST_CASES, FileCase, RequestCase, Uploads, region_map


def _photo() -> bytes:
    return files.encode(files.quadrants(96, 72), "JPEG")


def _send(case: RequestCase, uploads: Uploads) -> ApiResponse:
    raw = case.raw(uploads) if case.raw else None
    body = case.body(uploads) if case.body else None
    event = api_event(case.method, case.path, body, raw_body=raw)
    for name, value in case.headers.items():
        if value:
            event["headers"][name] = value
        else:
            event["headers"].pop(name, None)
    return invoke_api(event)


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.name for c in FILE_CASES])
def test_hostile_file(aws: Stack, fake_engine: FakeEngine, case: FileCase) -> None:
    # Given the file in the bucket under a real upload id (through the presigned POST when it fits)
    assert case.make is not None
    data = case.make()
    ticket_size = min(len(data), 1000)
    if case.expected.startswith("api:413"):
        ticket = call_api(
            "POST",
            "/uploads",
            {"purpose": case.purpose, "content_type": case.declared_type, "size": ticket_size},
        ).body
        aws.put_upload(case.purpose, ticket["upload_id"], data, case.declared_type)
        upload_id = ticket["upload_id"]
    else:
        upload_id = upload_through_presigned_post(data, case.purpose, case.declared_type)
    if case.purpose == "content":
        body = {"content": upload_id, "styles": [{"preset": "tapestry"}]}
    elif case.purpose == "map":
        photo = upload_through_presigned_post(_photo())
        presets = [{"preset": "tapestry"}, {"preset": "swirling-night"}]
        body = {"content": photo, "styles": presets, "mix": "regions", "regions_map": upload_id}
    else:
        photo = upload_through_presigned_post(_photo())
        body = {"content": photo, "styles": [{"upload": upload_id}]}
    # When a job names it
    response = call_api("POST", "/jobs", body)
    # Then it gets its catalogued outcome
    assert_outcome(aws, response, case.expected)


@pytest.mark.parametrize("case", REQUEST_CASES, ids=[c.name for c in REQUEST_CASES])
def test_hostile_request(
    aws: Stack, fake_engine: FakeEngine, case: RequestCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a real content photo and a real style picture, uploaded as the page does
    uploads = Uploads(
        content=upload_through_presigned_post(_photo()),
        style=upload_through_presigned_post(_photo(), purpose="style"),
        map=upload_through_presigned_post(region_map((96, 72)), purpose="map", content_type="image/png"),
    )
    if case.later:
        uploaded = api.utcnow()
        monkeypatch.setattr(api, "utcnow", lambda: uploaded + case.later)
    # When the request is sent (as long after the uploads as the case says)
    response = _send(case, uploads)
    # Then it gets its catalogued outcome, never a 5xx
    assert_outcome(aws, response, case.expected)
