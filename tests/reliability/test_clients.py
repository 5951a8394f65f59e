"""The local stack with the deployed settings, as several people on one machine: each client's
connections leave from its own loopback address (127.0.0.2, .3, ...), which the front door passes
to the API as the request's source address. A client past its limit is told to come back, others
are not; DELETE leaves nothing in the embedded storage; the sweeper runs on its timer."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from stylemixer import resources
from stylemixer.admission import ClientLimits
from stylemixer.aws.dynamodb import to_item
from stylemixer.jobs.model import Job, JobParams, StyleRef, new_id, utcnow
from tests.support.clients import client_session, loopback_address
from tests.support.pictures import sample_jpeg
from tests.support.stack_child import ChildStack, child_stack

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import requests

pytestmark = pytest.mark.slow

#: How long a wait gives what it expects: generous, for a busy machine.
PATIENCE_SECONDS = 180


@pytest.fixture(scope="module")
def stack(weights_path: Any) -> Iterator[ChildStack]:
    """The local stack with the deployed limits, its sweeper every second."""
    with child_stack({"sweep_every_seconds": 1}) as child:
        yield child


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.25)
    pytest.fail(f"{what} did not happen within {PATIENCE_SECONDS} s")


def upload(session: requests.Session, api: str, photo: bytes) -> str:
    ticket = session.post(
        f"{api}/uploads",
        json={"purpose": "content", "content_type": "image/jpeg", "size": len(photo)},
        timeout=30,
    )
    assert ticket.status_code == 201, ticket.text
    body = ticket.json()
    stored = session.post(
        body["url"], data=body["fields"], files={"file": ("p.jpg", photo, "image/jpeg")}, timeout=30
    )
    assert stored.status_code in (200, 201, 204), stored.text
    return body["upload_id"]


def post_job(session: requests.Session, api: str, content: str) -> requests.Response:
    return session.post(
        f"{api}/jobs", json={"content": content, "styles": [{"preset": "tapestry"}]}, timeout=30
    )


def bucket_keys(stack: ChildStack) -> list[str]:
    listing = stack.client("s3").list_objects_v2(Bucket=resources.DATA_BUCKET)
    return [o["Key"] for o in listing.get("Contents", [])]


def test_a_client_past_its_jobs_in_flight_waits_while_another_is_served(stack: ChildStack) -> None:
    api = stack.url + "api"
    flooder, other = client_session(loopback_address(0)), client_session(loopback_address(1))
    photo = sample_jpeg("chelsea")
    content = upload(flooder, api, photo)
    # When one client sends one job more than it may have in flight, at once
    answers = [post_job(flooder, api, content) for _ in range(ClientLimits().jobs_in_flight + 1)]
    # Then the last is refused: 429, Retry-After, a stable code and a sentence
    assert [a.status_code for a in answers[:-1]] == [202] * ClientLimits().jobs_in_flight
    refused = answers[-1]
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json()["error"]["code"] == "TooManyJobsInFlight"
    # And another client at the same moment is not refused
    accepted = post_job(other, api, upload(other, api, photo))
    assert accepted.status_code == 202, accepted.text
    # And once the first client's jobs are done, it may send again
    for answer in answers[:-1]:
        job_id = answer.json()["job_id"]
        wait_for(
            lambda job_id=job_id: (
                flooder.get(f"{api}/jobs/{job_id}", timeout=30).json()["status"] == "succeeded"
            ),
            "a job",
        )
    assert post_job(flooder, api, content).status_code == 202


def test_delete_leaves_nothing_in_the_embedded_storage(stack: ChildStack) -> None:
    api = stack.url + "api"
    owner, stranger = client_session(loopback_address(2)), client_session(loopback_address(3))
    content = upload(owner, api, sample_jpeg("coffee"))
    accepted = post_job(owner, api, content).json()
    job_id, token = accepted["job_id"], accepted["owner_token"]
    mine = {"Authorization": f"Bearer {token}"}
    done = wait_for(
        lambda: (
            (j := owner.get(f"{api}/jobs/{job_id}", headers=mine, timeout=30).json())["status"] == "succeeded"
            and j
        ),
        "the job",
    )
    links = [done["result"]["url"], done["result"]["thumbnail_url"], done["request"]["content"]["url"]]
    ours = [k for k in bucket_keys(stack) if job_id in k or content in k]
    assert len(ours) == 3  # the photo, the result and its small copy
    # When someone without the token asks to delete it (with no token, or a made-up one)
    for headers in ({}, {"Authorization": "Bearer " + "x" * 43}):
        refused = stranger.delete(f"{api}/jobs/{job_id}", headers=headers, timeout=30)
        assert refused.status_code in (403, 404)
    # Then nothing is deleted
    assert [k for k in bucket_keys(stack) if job_id in k or content in k] == ours
    # When its owner deletes it
    assert owner.delete(f"{api}/jobs/{job_id}", headers=mine, timeout=30).status_code == 204
    # Then the job reads 404, storage refuses the old links, and the objects are gone from the bucket
    assert owner.get(f"{api}/jobs/{job_id}", timeout=30).status_code == 404
    assert all(owner.get(link, timeout=30).status_code in (403, 404) for link in links)
    assert [k for k in bucket_keys(stack) if job_id in k or content in k] == []


def test_the_sweeper_on_its_timer_fails_a_job_whose_message_is_long_gone(stack: ChildStack) -> None:
    # Given a job recorded as queued five days ago (past the queue's retention), with no message
    then = utcnow() - timedelta(days=5)
    job = Job(new_id(), JobParams(new_id(), (StyleRef(preset="tapestry"),)), then, then, 2_000_000_000)
    stack.client("dynamodb").put_item(TableName=resources.JOBS_TABLE, Item=to_item(job))
    # Then the sweeper's timer fails it, with a reason the page shows
    api = stack.url + "api"
    session = client_session(loopback_address(4))
    failed = wait_for(
        lambda: (j := session.get(f"{api}/jobs/{job.job_id}", timeout=30).json())["status"] == "failed" and j,
        "the sweep",
    )
    assert failed["error"]["code"] == "QueueExpired"
    assert "send it again" in failed["error"]["message"]
