"""The local event source mapping against moto's real SQS: batch item failures, redelivery, the DLQ.

The handler is a scripted stand-in, so these tests pin what the poller does with its answers; the
real worker handler behind it is exercised by the end-to-end tests.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from stylemixer.local.aws import client, create_resources, start_moto
from stylemixer.local.poller import QueuePoller, failed_ids, lower_priority, queue_arn, sqs_event
from stylemixer.resources import DATA_BUCKET, JOBS_DLQ, JOBS_QUEUE, JOBS_TABLE, MAX_RECEIVE_COUNT

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from stylemixer.local.aws import LocalResources

VISIBILITY = 1  # seconds: short, so a failed message comes back quickly
#: How long a loop waits for what it expects before the test fails: generous, for a busy machine
#: (each loop ends as soon as the queues are as expected).
PATIENCE_SECONDS = 60


@pytest.fixture(scope="module")
def embedded() -> Iterator[str]:
    server, endpoint = start_moto()
    yield endpoint
    server.stop()


@pytest.fixture
def queues(embedded: str) -> Iterator[LocalResources]:
    resources = create_resources(embedded, visibility_timeout=VISIBILITY)
    yield resources
    # Each test starts from empty resources.
    sqs = client("sqs", embedded)
    sqs.delete_queue(QueueUrl=resources.queue_url)
    sqs.delete_queue(QueueUrl=resources.dlq_url)
    client("dynamodb", embedded).delete_table(TableName=resources.table)
    client("dynamodb", embedded).delete_table(TableName=resources.quota_table)
    client("s3", embedded).delete_bucket(Bucket=resources.bucket)


class Script:
    """A handler that fails the messages whose body says so, and remembers every event."""

    def __init__(self, *, raise_error: bool = False, obey_bodies: bool = True) -> None:
        self.events: list[dict[str, Any]] = []
        self.raise_error = raise_error
        self.obey_bodies = obey_bodies

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        if self.raise_error:
            raise RuntimeError("boom")
        failures = [
            {"itemIdentifier": r["messageId"]}
            for r in event["Records"]
            if self.obey_bodies and json.loads(r["body"]).get("fail")
        ]
        return {"batchItemFailures": failures}


def poller_for(resources: LocalResources, handler: Callable[..., Any], *, dlq: bool = False) -> QueuePoller:
    sqs = client("sqs", resources.endpoint_url)
    return QueuePoller(
        sqs,
        resources.dlq_url if dlq else resources.queue_url,
        lambda: handler,
        function_name="test-worker",
        batch_size=10,
        wait_seconds=1,
    )


def send(resources: LocalResources, *bodies: dict[str, Any]) -> None:
    sqs = client("sqs", resources.endpoint_url)
    for body in bodies:
        sqs.send_message(QueueUrl=resources.queue_url, MessageBody=json.dumps(body))


def counts(resources: LocalResources, url: str) -> tuple[int, int]:
    attributes = client("sqs", resources.endpoint_url).get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_resources_have_the_shared_names_and_the_redrive_policy(queues: LocalResources) -> None:
    # Then the names are the CDK app's, and the queue sends to the DLQ after MAX_RECEIVE_COUNT receives
    assert (queues.bucket, queues.table) == (DATA_BUCKET, JOBS_TABLE)
    assert queues.queue_url.endswith("/" + JOBS_QUEUE)
    assert queues.dlq_url.endswith("/" + JOBS_DLQ)
    attributes = client("sqs", queues.endpoint_url).get_queue_attributes(
        QueueUrl=queues.queue_url, AttributeNames=["All"]
    )["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == MAX_RECEIVE_COUNT
    assert redrive["deadLetterTargetArn"].endswith(":" + JOBS_DLQ)
    assert attributes["VisibilityTimeout"] == str(VISIBILITY)
    ttl = client("dynamodb", queues.endpoint_url).describe_time_to_live(TableName=queues.table)
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"


def test_a_batch_is_an_sqs_event_and_only_unlisted_messages_are_deleted(queues: LocalResources) -> None:
    # Given one good message and one the handler will report as failed
    send(queues, {"job": "good"}, {"job": "bad", "fail": True})
    handler = Script()
    poller = poller_for(queues, handler)

    # When the poller handles what it receives
    handled = 0
    deadline = time.monotonic() + PATIENCE_SECONDS
    while handled < 2 and time.monotonic() < deadline:
        handled += poller.poll_once()

    # Then the handler saw Lambda's record shape, the good message is gone and the bad one is in flight
    records = [r for e in handler.events for r in e["Records"]]
    assert len(records) == 2
    record = records[0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue_arn(queues.queue_url)
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert "SentTimestamp" in record["attributes"]
    assert {"messageId", "receiptHandle", "body", "md5OfBody", "awsRegion"} <= record.keys()
    assert counts(queues, queues.queue_url) == (0, 1)


def test_a_failed_message_comes_back_and_ends_in_the_dlq_after_the_last_receive(
    queues: LocalResources,
) -> None:
    # Given a message the handler always fails
    send(queues, {"job": "poison", "fail": True})
    handler = Script()
    poller = poller_for(queues, handler)

    # When the poller keeps polling past MAX_RECEIVE_COUNT visibility timeouts
    deadline = time.monotonic() + PATIENCE_SECONDS + MAX_RECEIVE_COUNT * VISIBILITY
    while time.monotonic() < deadline and counts(queues, queues.dlq_url)[0] == 0:
        poller.poll_once()

    # Then it was delivered exactly MAX_RECEIVE_COUNT times, counting up, then moved to the DLQ
    receive_counts = [
        int(r["attributes"]["ApproximateReceiveCount"]) for e in handler.events for r in e["Records"]
    ]
    assert receive_counts == list(range(1, MAX_RECEIVE_COUNT + 1))
    assert counts(queues, queues.queue_url) == (0, 0)
    assert counts(queues, queues.dlq_url)[0] == 1

    # And the DLQ poller hands it to the DLQ handler, which settles it
    dlq_handler = Script(obey_bodies=False)
    dlq_poller = poller_for(queues, dlq_handler, dlq=True)
    assert dlq_poller.poll_once() == 1
    assert json.loads(dlq_handler.events[0]["Records"][0]["body"]) == {"job": "poison", "fail": True}
    assert dlq_handler.events[0]["Records"][0]["eventSourceARN"] == queue_arn(queues.dlq_url)
    assert counts(queues, queues.dlq_url) == (0, 0)


def test_a_handler_that_raises_fails_the_whole_batch(queues: LocalResources) -> None:
    # Given two messages and a handler that raises
    send(queues, {"job": "a"}, {"job": "b"})
    poller = poller_for(queues, Script(raise_error=True))

    # When it handles them
    handled = 0
    deadline = time.monotonic() + PATIENCE_SECONDS
    while handled < 2 and time.monotonic() < deadline:
        handled += poller.poll_once()

    # Then nothing was deleted: both wait to be redelivered
    assert counts(queues, queues.queue_url) == (0, 2)


def test_the_poller_thread_stops_promptly(queues: LocalResources) -> None:
    # Given a running poller on an empty queue (long polls of 1 s)
    poller = poller_for(queues, Script())
    poller.start()
    time.sleep(0.2)

    # When asked to stop
    poller.stop()
    poller.join(PATIENCE_SECONDS)

    # Then it ends (after its current long poll; how soon is the machine's load's to say)
    assert not poller.is_alive()


def test_helpers_read_failures_and_build_events() -> None:
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}) == {
        "m1",
        "m2",
    }
    assert failed_ids(None) == set()
    assert failed_ids({"batchItemFailures": []}) == set()
    event = sqs_event(
        [
            {
                "MessageId": "1",
                "ReceiptHandle": "r",
                "Body": "hi",
                "Attributes": {"ApproximateReceiveCount": "2"},
            }
        ],
        "arn:aws:sqs:us-east-1:123456789012:q",
    )
    assert event["Records"][0]["md5OfBody"] == "49f68a5c8493ec2c0bf489821c21fc3b"
    assert event["Records"][0]["attributes"] == {"ApproximateReceiveCount": "2"}
    assert queue_arn("http://127.0.0.1:5000/123456789012/stylemixer-jobs") == (
        "arn:aws:sqs:us-east-1:123456789012:stylemixer-jobs"
    )


def test_lower_priority_lowers_only_the_calling_thread() -> None:
    # Given a thread that lowers its own CPU priority, as the worker's poller does
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: list[int] = []

    def run() -> None:
        lower_priority(5)
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    # Then that thread runs 5 steps nicer (up to the maximum), and this one is as it was
    assert seen == [min(before + 5, 19)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
