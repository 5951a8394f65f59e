"""Faults, survived: every job ends succeeded or failed with a reason, none stuck, none with two results.

The queue is moto's, with real visibility timeouts (1 s here instead of the deployed 5400 s, and a
retry back-off of 1 s instead of 15 s to 2 minutes) and the stack's redrive policy (3 receives, then
the dead-letter queue). :func:`drive` plays Lambda's event
source mapping over it: receive, invoke the worker handler, delete what it did not report as
failed; a worker "killed" mid-job raises :class:`Killed`, so nothing is acknowledged and the message
comes back when its visibility timeout ends, exactly as after a crash.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from functions.worker import handler as worker
from stylemixer import resources
from stylemixer.jobs.model import new_id
from stylemixer.local.context import LambdaContext
from tests.support import imagefiles as files
from tests.support.aws import (
    FakeEngine,
    Stack,
    call_api,
    lambda_context,
    run_dead_letters,
    run_worker,
    sqs_event,
    upload_through_presigned_post,
)
from tests.support.environment import DLQ_URL, QUEUE_URL

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


VISIBILITY_SECONDS = 1


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker hands a failed message back after 1 s (deployed: 15 s, doubling up to 2 minutes)."""
    from stylemixer.jobs import worker as steps

    monkeypatch.setattr(steps, "RETRY_BASE_DELAY", VISIBILITY_SECONDS)
    monkeypatch.setattr(steps, "RETRY_MAX_DELAY", VISIBILITY_SECONDS)


class Killed(BaseException):
    """The worker's process died: no handler, no ``finally`` of ours gets to acknowledge anything."""


class KilledOnce(FakeEngine):
    """An engine whose process dies on its first ``times`` calls (the job is already marked running)."""

    def __init__(self, times: int = 1) -> None:
        super().__init__()
        self.times = times

    def stylize(self, content: Any, styles: Any, options: Any = None, progress: Any = None) -> Any:
        self.calls += 1
        if self.calls <= self.times:
            if progress is not None:
                progress("stylize", 0.3)
            raise Killed
        self.calls -= 1
        return super().stylize(content, styles, options, progress)


def submit(max_size: int = 64) -> str:
    """Upload a small picture through the presigned POST and submit a one-preset job."""
    upload_id = upload_through_presigned_post(files.encode(files.quadrants(96, 72), "JPEG"))
    response = call_api(
        "POST", "/jobs", {"content": upload_id, "styles": [{"preset": "tapestry"}], "max_size": max_size}
    )
    assert response.status == 202, response.body
    return response.body["job_id"]


def _settle(aws: Stack, url: str, messages: list[dict[str, Any]], result: Any) -> None:
    failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
    for message in messages:
        if message["MessageId"] not in failed:
            aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _receive(aws: Stack, url: str) -> list[dict[str, Any]]:
    return aws.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"], VisibilityTimeout=VISIBILITY_SECONDS
    ).get("Messages", [])


def drive(
    aws: Stack,
    job_ids: list[str],
    context: Callable[[], LambdaContext] = lambda_context,
    limit_seconds: float = 120.0,
) -> int:
    """Feed the jobs queue and the dead-letter queue to their handlers until every job is final.

    Returns the number of worker invocations. Fails if the jobs are not final within the limit.
    """
    deadline = time.monotonic() + limit_seconds
    invocations = 0
    while time.monotonic() < deadline:
        if messages := _receive(aws, QUEUE_URL):
            invocations += 1
            try:
                result = run_worker(messages, context())
            except Killed:
                continue  # the process is gone: nothing is deleted
            _settle(aws, QUEUE_URL, messages, result)
        if dead := _receive(aws, DLQ_URL):
            _settle(aws, DLQ_URL, dead, run_dead_letters(dead))
        if not messages and not dead:
            if all(_status(aws, j) in ("succeeded", "failed") for j in job_ids):
                return invocations
            time.sleep(0.1)
    pytest.fail(f"jobs not final after {limit_seconds} s: {[_status(aws, j) for j in job_ids]}")


def _status(aws: Stack, job_id: str) -> str:
    item = aws.job_item(job_id)
    return item["status"]["S"] if item else "missing"


def assert_settled(aws: Stack, job_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Every job final, each failure with a reason and no result left, each success with its picture."""
    jobs = {j: call_api("GET", f"/jobs/{j}").body for j in job_ids}
    results = aws.keys("results/")
    for job_id, job in jobs.items():
        assert job["status"] in ("succeeded", "failed"), job
        if job["status"] == "failed":
            assert job["error"]["code"], job
            assert len(job["error"]["message"]) > 15, job
            assert not [k for k in results if job_id in k], "a failed job left a result behind"
        else:
            assert f"results/{job_id}.jpg" in results
            assert f"results/{job_id}.thumb.jpg" in results
            assert job["progress"] == 100
    assert _receive(aws, QUEUE_URL) == [], "a message was left in the jobs queue"
    assert _receive(aws, DLQ_URL) == [], "a message was left in the dead-letter queue"
    return jobs


@pytest.fixture
def failing_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Any, str, int], list[str]]]:
    """Make the next ``times`` calls of one operation on a client fail as AWS does when it is busy."""
    registered: list[tuple[Any, str, Any]] = []

    def arm(client: Any, operation: str, times: int) -> list[str]:
        seen: list[str] = []
        service = client.meta.service_model.service_name

        def hook(**_kwargs: Any) -> None:
            seen.append(operation)
            if len(seen) <= times:
                code = "SlowDown" if service == "s3" else "ProvisionedThroughputExceededException"
                raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)

        event = f"before-call.{service}.{operation}"
        client.meta.events.register(event, hook)
        registered.append((client, event, hook))
        return seen

    yield arm
    for client, event, hook in registered:
        client.meta.events.unregister(event, hook)


def test_worker_killed_mid_job_is_finished_by_the_redelivery(
    aws: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a worker whose process dies once, after the job was marked running at 30 %
    engine = KilledOnce(times=1)
    monkeypatch.setattr(worker, "engine_provider", lambda: engine)
    job_id = submit()
    # When the queue delivers the job (again after the visibility timeout)
    invocations = drive(aws, [job_id])
    # Then the second delivery finishes it, once
    jobs = assert_settled(aws, [job_id])
    assert jobs[job_id]["status"] == "succeeded"
    assert (invocations, aws.job_item(job_id)["attempts"]["N"]) == (2, "2")


def test_worker_killed_on_every_delivery_is_failed_from_the_dead_letter_queue(
    aws: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a job that kills its worker every time
    monkeypatch.setattr(worker, "engine_provider", lambda: KilledOnce(times=99))
    job_id = submit()
    # When SQS gives up after its receives and redrives the message
    invocations = drive(aws, [job_id])
    # Then the dead-letter consumer fails the job with a reason: it is not left running
    jobs = assert_settled(aws, [job_id])
    assert (jobs[job_id]["status"], jobs[job_id]["error"]["code"]) == ("failed", "ProcessingFailed")
    assert invocations == resources.MAX_RECEIVE_COUNT


@pytest.mark.parametrize(
    ("target", "operation", "times", "expected", "invocations"),
    [
        ("store", "GetObject", 2, "succeeded", 3),
        ("store", "HeadObject", 1, "succeeded", 2),
        ("store", "PutObject", 1, "succeeded", 2),
        ("repo", "UpdateItem", 2, "succeeded", 3),
        ("store", "GetObject", 99, "failed:ProcessingFailed", 3),
        ("repo", "GetItem", 99, "succeeded", 1),
    ],
    ids=[
        "S3 read fails twice",
        "S3 head fails once",
        "S3 write of the result fails once",
        "DynamoDB update fails twice",
        "S3 read down for every delivery",
        "DynamoDB read down (not on the worker's path)",
    ],
)
def test_transient_storage_failure_is_survived(
    aws: Stack,
    fake_engine: FakeEngine,
    failing_calls: Callable[[Any, str, int], list[str]],
    *,
    target: str,
    operation: str,
    times: int,
    expected: str,
    invocations: int,
) -> None:
    # Given a job, and the worker's S3 or DynamoDB client failing its next calls of one operation
    job_id = submit()
    deps = worker.adapters()
    client = deps.store._s3 if target == "store" else deps.repo._db
    failing_calls(client, operation, times)
    # When the queue delivers it until it is final
    count = drive(aws, [job_id])
    # Then the job ends as expected, retried by SQS only as often as needed
    jobs = assert_settled(aws, [job_id])
    status, _, code = expected.partition(":")
    assert jobs[job_id]["status"] == status
    if code:
        assert jobs[job_id]["error"]["code"] == code
    assert count == invocations


def test_poison_messages_are_acknowledged_and_real_jobs_go_on(aws: Stack, fake_engine: FakeEngine) -> None:
    # Given poison among real jobs: not JSON, no job id, a path as job id, an id no job has
    job_ids = [submit(), submit()]
    for body in (
        "not json",
        "{}",
        json.dumps({"job_id": "../../results/x"}),
        json.dumps({"job_id": new_id()}),
    ):
        aws.sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=body)
    # When everything is delivered
    invocations = drive(aws, job_ids)
    # Then each message was handled once: poison acknowledged, not retried, not dead-lettered
    assert invocations == 6
    jobs = assert_settled(aws, job_ids)
    assert {j["status"] for j in jobs.values()} == {"succeeded"}


def test_job_whose_worker_runs_out_of_time_is_failed_with_that_reason(
    aws: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a function with 1.5 s to live and a job that needs 2.5 s
    monkeypatch.setattr(worker, "engine_provider", lambda: FakeEngine(steps=50, step_seconds=0.05))
    job_id = submit()
    # When every delivery runs out of time
    invocations = drive(
        aws, [job_id], context=lambda: LambdaContext("stylemixer-worker", timeout_seconds=1.5)
    )
    # Then each attempt stopped itself in time (one attempt per delivery, none left hanging), and
    # the last one failed the job saying why
    jobs = assert_settled(aws, [job_id])
    assert (jobs[job_id]["status"], jobs[job_id]["error"]["code"]) == ("failed", "TimedOut")
    assert invocations == resources.MAX_RECEIVE_COUNT


def test_same_message_delivered_twice_at_once_gives_one_result(
    aws: Stack, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given one job message handed to two workers at the same moment, with the real engine
    job_id = submit(max_size=96)
    store = worker.adapters().store
    # moto's in-process S3 is not safe for two PUTs of one key at once (real S3 is); only the
    # bucket's side is serialised, the workers themselves race.
    put_lock = threading.Lock()
    unlocked_write = store.write

    def write(key: str, data: bytes, content_type: str) -> None:
        with put_lock:
            unlocked_write(key, data, content_type)

    monkeypatch.setattr(store, "write", write)
    messages = aws.receive()
    record = sqs_event(messages)["Records"][0]
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    both_started = threading.Barrier(2, timeout=30)

    class Racing:
        def stylize(self, *args: Any, **kwargs: Any) -> Any:
            both_started.wait()  # both are past "start": the job is running twice
            return engine.stylize(*args, **kwargs)

    written: list[tuple[str, str]] = []

    def note_write(params: dict[str, Any], **_kwargs: Any) -> None:
        if params["Key"].startswith("results/"):
            written.append((params["Key"], hashlib.md5(params["Body"], usedforsecurity=False).hexdigest()))

    store_client = worker.adapters().store._s3
    store_client.meta.events.register("provide-client-params.s3.PutObject", note_write)
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            worker.record_handler(SQSRecord(record), lambda_context())
        except BaseException as exc:
            errors.append(exc)

    original = worker.engine_provider
    worker.engine_provider = Racing
    try:
        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        worker.engine_provider = original
        store_client.meta.events.unregister("provide-client-params.s3.PutObject", note_write)
    # When both have finished (neither raised: each acknowledges the message)
    assert errors == []
    aws.sqs.delete_message(QueueUrl=QUEUE_URL, ReceiptHandle=messages[0]["ReceiptHandle"])
    # Then the job succeeded once, and every copy written is the same picture the bucket now holds
    jobs = assert_settled(aws, [job_id])
    assert jobs[job_id]["status"] == "succeeded"
    picture, small = f"results/{job_id}.jpg", f"results/{job_id}.thumb.jpg"
    assert sorted(key for key, _digest in written) == [picture, picture, small, small], written
    for key in (picture, small):
        digests = {digest for written_key, digest in written if written_key == key}
        assert len(digests) == 1, written
        head = aws.s3.head_object(Bucket=resources.DATA_BUCKET, Key=key)
        assert head["ETag"].strip('"') == digests.pop()
    assert aws.job_item(job_id)["attempts"]["N"] == "2"
