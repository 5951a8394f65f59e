"""The API handler in-process against moto, as a public page's callers meet it: each client's
limits (429 with Retry-After, others unaffected), a busy queue (503), an upload used up (410), the
owner token (the photo and DELETE need it), DELETE leaving nothing, and the sweeper."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import requests

from functions.api import handler as api
from stylemixer import resources
from stylemixer.jobs.model import iso, new_id, utcnow
from tests.support.aws import (
    Stack,
    api_event,
    as_owner,
    invoke_api,
    run_worker,
    sweeper,
    upload_through_presigned_post,
)
from tests.support.catalogue import region_map
from tests.support.environment import QUEUE_URL, SITE_ORIGIN
from tests.support.pictures import sample_jpeg

pytestmark = [
    pytest.mark.usefixtures("aws"),
    pytest.mark.filterwarnings("ignore:No application metrics to publish"),
]

#: Two callers, as API Gateway reports their addresses.
ALICE, BOB = "198.51.100.10", "203.0.113.99"


def call(
    method: str, path: str, body: Any = None, *, source: str = ALICE, headers: dict[str, str] | None = None
):
    """The API handler on one request from ``source``."""
    event = api_event(method, path, body, headers)
    event["requestContext"]["http"]["sourceIp"] = source
    return invoke_api(event)


def _photo(aws: Stack) -> str:
    upload_id = new_id()
    aws.put_upload("content", upload_id, sample_jpeg("chelsea"))
    return upload_id


def _job(content: str) -> dict[str, Any]:
    return {"content": content, "styles": [{"preset": "tapestry"}]}


def _assert_retry_later(response: Any, status: int, code: str) -> int:
    assert response.status == status, response.body
    assert response.body["error"]["code"] == code
    assert len(response.body["error"]["message"]) > 20
    seconds = int(response.headers["retry-after"])
    assert seconds >= 1
    return seconds


def test_past_its_jobs_in_flight_a_client_waits_and_another_client_does_not(aws: Stack) -> None:
    # Given a client with as many jobs in flight as one may have (3, the deployed default)
    content = _photo(aws)
    for _ in range(api.LIMITS.jobs_in_flight):
        assert call("POST", "/jobs", _job(content)).status == 202
    queued = len(aws.receive())
    # When it sends another
    refused = call("POST", "/jobs", _job(content))
    # Then it is told to come back later, and nothing was stored or queued for it
    _assert_retry_later(refused, 429, "TooManyJobsInFlight")
    assert len(aws.receive()) == queued == api.LIMITS.jobs_in_flight
    # And another client is not affected
    assert call("POST", "/jobs", _job(_photo(aws)), source=BOB).status == 202
    # And reading a job never counts against creating one
    job_id = json.loads(aws.receive()[0]["Body"])["job_id"]
    for _ in range(20):
        assert call("GET", f"/jobs/{job_id}").status == 200


def test_a_finished_job_frees_its_place_in_flight(aws: Stack, fake_engine: Any) -> None:
    content = _photo(aws)
    for _ in range(api.LIMITS.jobs_in_flight):
        assert call("POST", "/jobs", _job(content)).status == 202
    assert call("POST", "/jobs", _job(content)).status == 429
    # When the worker finishes one of them
    (message, *_rest) = aws.receive()
    assert run_worker([message]) == {"batchItemFailures": []}
    # Then the client may send one more
    assert call("POST", "/jobs", _job(content)).status == 202


def test_past_its_upload_bytes_a_client_is_refused_before_anything_is_signed(
    aws: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a client allowed 30 MB of uploads an hour
    monkeypatch.setattr(api, "LIMITS", api.LIMITS.__class__(upload_bytes_per_hour=30 * 1024 * 1024))
    ticket = {"purpose": "content", "content_type": "image/jpeg", "size": 20 * 1024 * 1024}
    assert call("POST", "/uploads", ticket).status == 201
    # When it asks for one more that would pass the limit
    refused = call("POST", "/uploads", ticket)
    # Then 429, until the hour is over
    assert _assert_retry_later(refused, 429, "UploadQuotaExceeded") <= 3600
    assert "MB of pictures this hour" in refused.body["error"]["message"]
    # And a smaller one still fits, and another client has its own hour
    assert call("POST", "/uploads", {**ticket, "size": 10 * 1024 * 1024}).status == 201
    assert call("POST", "/uploads", ticket, source=BOB).status == 201


def test_an_upload_named_by_too_many_jobs_must_be_sent_again(
    aws: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "LIMITS", api.LIMITS.__class__(jobs_per_upload=2, jobs_in_flight=10))
    content = _photo(aws)
    assert call("POST", "/jobs", _job(content)).status == 202
    assert call("POST", "/jobs", _job(content)).status == 202
    refused = call("POST", "/jobs", _job(content))
    assert (refused.status, refused.body["error"]["code"]) == (410, "UploadUsedUp")
    assert len(aws.receive()) == 2


def test_a_full_queue_answers_busy_for_everyone_until_the_workers_catch_up(aws: Stack) -> None:
    # Given a queue already holding what the workers finish in the allowed minutes
    assert api.CAPACITY is not None
    waiting = api.CAPACITY.max_waiting
    for start in range(0, waiting, 10):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps({"job_id": new_id()})}
            for i in range(start, min(start + 10, waiting))
        ]
        aws.sqs.send_message_batch(QueueUrl=QUEUE_URL, Entries=entries)
    api.gauge.forget()
    # When anyone sends a job
    refused = call("POST", "/jobs", _job(_photo(aws)), source=BOB)
    # Then 503 Busy, saying in minutes when to try again, with Retry-After
    seconds = _assert_retry_later(refused, 503, "Busy")
    assert seconds % 60 == 0
    assert refused.body["error"]["message"].startswith("StyleMixer is busy: try again in about")
    assert aws.dynamodb.scan(TableName=resources.JOBS_TABLE)["Count"] == 0
    # And a poll is still answered (reading never waits on admission)
    assert call("GET", f"/jobs/{new_id()}").status == 404


def test_refusals_can_be_read_by_the_page_across_origins(aws: Stack) -> None:
    content = _photo(aws)
    for _ in range(api.LIMITS.jobs_in_flight):
        call("POST", "/jobs", _job(content))
    refused = call("POST", "/jobs", _job(content), headers={"origin": SITE_ORIGIN})
    assert refused.status == 429
    assert refused.headers["access-control-allow-origin"] == SITE_ORIGIN
    assert "Retry-After" in refused.headers["access-control-expose-headers"]


def test_only_the_owner_token_shows_the_photo(aws: Stack) -> None:
    accepted = call("POST", "/jobs", _job(upload_through_presigned_post(sample_jpeg("chelsea"))))
    job_id = accepted.body["job_id"]
    # Without the token (a shared link), with another token, or a malformed header: no photo
    for headers in ({}, {"Authorization": "Bearer " + "A" * 43}, {"Authorization": "Basic eA=="}):
        seen = call("GET", f"/jobs/{job_id}", headers=headers, source=BOB)
        assert seen.status == 200
        assert (seen.body["owner"], seen.body["request"]["content"]) == (False, None)
        assert seen.body["request"]["styles"][0]["preset"] == "tapestry"
    # With it, from any address: the photo, with a link that works for 15 minutes at most
    mine = call("GET", f"/jobs/{job_id}", headers=as_owner(accepted), source=BOB).body
    assert mine["owner"] is True
    assert requests.get(mine["request"]["content"]["url"], timeout=30).status_code == 200
    assert "X-Amz-Expires=900" in mine["request"]["content"]["url"]


def test_delete_leaves_nothing_and_its_links_are_refused(aws: Stack, fake_engine: Any) -> None:
    # Given a finished regions job with a style picture of its own and a region map it was given
    content = upload_through_presigned_post(sample_jpeg("chelsea"))
    style = upload_through_presigned_post(sample_jpeg("coffee"), purpose="style")
    drawn = upload_through_presigned_post(region_map((90, 60)), purpose="map", content_type="image/png")
    body = {
        "content": content,
        "styles": [{"preset": "tapestry"}, {"upload": style}],
        "mix": "regions",
        "regions_map": drawn,
    }
    accepted = call("POST", "/jobs", body)
    job_id = accepted.body["job_id"]
    assert run_worker(aws.receive()) == {"batchItemFailures": []}
    seen = call("GET", f"/jobs/{job_id}", headers=as_owner(accepted)).body
    links = [seen["result"]["url"], seen["result"]["regions_url"], seen["result"]["thumbnail_url"]]
    links += [seen["request"]["content"]["url"], seen["request"]["styles"][1]["thumbnail_url"]]
    links += [seen["request"]["regions_map"]["url"]]
    assert all(requests.get(link, timeout=30).status_code == 200 for link in links)
    # (the photo, the style picture, the map given, the result, its small copy and its region map)
    assert len(aws.keys()) == 6
    # When someone without the token tries to delete it, nothing is deleted
    for headers in ({}, {"Authorization": "Bearer " + "A" * 43}):
        refused = call("DELETE", f"/jobs/{job_id}", headers=headers, source=BOB)
        assert (refused.status, refused.body["error"]["code"]) == (403, "NotOwner")
    assert len(aws.keys()) == 6
    assert aws.job_item(job_id) is not None
    # When its owner deletes it
    deleted = call("DELETE", f"/jobs/{job_id}", headers=as_owner(accepted))
    # Then 204, the job reads 404, the bucket holds nothing of it, and the old links are refused
    assert (deleted.status, deleted.body) == (204, None)
    assert call("GET", f"/jobs/{job_id}").status == 404
    assert aws.keys() == []
    assert aws.job_item(job_id) is None
    assert all(requests.get(link, timeout=30).status_code in (403, 404) for link in links)
    # And deleting it again is a 404
    assert call("DELETE", f"/jobs/{job_id}", headers=as_owner(accepted)).status == 404


def test_a_job_deleted_while_it_runs_leaves_no_result(aws: Stack, fake_engine: Any) -> None:
    # Given a queued job whose owner deletes it before the worker gets to it
    accepted = call("POST", "/jobs", _job(upload_through_presigned_post(sample_jpeg("chelsea"))))
    messages = aws.receive()
    assert call("DELETE", f"/jobs/{accepted.body['job_id']}", headers=as_owner(accepted)).status == 204
    # When the worker receives its message, it does nothing and writes nothing
    assert run_worker(messages) == {"batchItemFailures": []}
    assert aws.keys() == []


def test_the_sweeper_fails_jobs_that_waited_longer_than_the_queue_keeps_messages(aws: Stack) -> None:
    # Given a job queued five days ago (its message is gone) and one queued now
    old = call("POST", "/jobs", _job(_photo(aws))).body["job_id"]
    fresh = call("POST", "/jobs", _job(_photo(aws)), source=BOB).body["job_id"]
    five_days_ago = iso(utcnow() - timedelta(days=5))
    aws.dynamodb.update_item(
        TableName=resources.JOBS_TABLE,
        Key={resources.TABLE_PARTITION_KEY: {"S": old}},
        UpdateExpression="SET created_at = :then",
        ExpressionAttributeValues={":then": {"S": five_days_ago}},
    )
    # When the schedule runs the sweeper
    outcome = sweeper.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, _context())
    # Then the old job failed with a reason the page shows, and the fresh one still waits
    assert outcome == {"failed": 1}
    job = call("GET", f"/jobs/{old}").body
    assert (job["status"], job["error"]["code"]) == ("failed", "QueueExpired")
    assert "send it again" in job["error"]["message"]
    assert call("GET", f"/jobs/{fresh}").body["status"] == "queued"
    # And it left the index of queued jobs: the next run has nothing to do
    assert sweeper.handler({}, _context()) == {"failed": 0}


def _context() -> Any:
    from stylemixer.permissions import Function
    from tests.support.aws import lambda_context

    return lambda_context(Function.SWEEPER)


def test_behind_the_site_only_cloudfronts_requests_are_taken_and_keyed_by_the_viewer(
    aws: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the API served behind the site's CloudFront, which sends a secret header
    secret = "4b0c5d9e-1f2a-4c3b-9d8e-7f6a5b4c3d2e"
    monkeypatch.setattr(api, "SETTINGS", api.SETTINGS.model_copy(update={"origin_verify": secret}))
    content = _photo(aws)
    # When a request comes to the API's own address, without it (whatever viewer it claims)
    direct = call("POST", "/jobs", _job(content), headers={resources.VIEWER_ADDRESS_HEADER: "192.0.2.1:443"})
    # Then it is refused
    assert (direct.status, direct.body["error"]["code"]) == (403, "UseTheSite")
    # And through CloudFront, each viewer is its own client, though all come from CloudFront's address
    through = {resources.ORIGIN_VERIFY_HEADER: secret}
    for _ in range(api.LIMITS.jobs_in_flight):
        viewer = {**through, resources.VIEWER_ADDRESS_HEADER: "192.0.2.1:50000"}
        assert call("POST", "/jobs", _job(content), headers=viewer).status == 202
    crowded = {**through, resources.VIEWER_ADDRESS_HEADER: "192.0.2.1:50001"}
    assert call("POST", "/jobs", _job(content), headers=crowded).status == 429
    other = {**through, resources.VIEWER_ADDRESS_HEADER: "192.0.2.2:50000"}
    assert call("POST", "/jobs", _job(content), headers=other).status == 202
