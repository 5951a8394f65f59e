"""Lambda's SQS event source mapping, on one machine: long-poll a queue, invoke a handler with the
batch, and settle the batch the way Lambda does with ``ReportBatchItemFailures``.

* Messages the handler lists in ``batchItemFailures`` are left alone: they become visible again
  after the visibility timeout, are received again, and after ``maxReceiveCount`` receives SQS's
  redrive policy moves them to the dead-letter queue.
* Every other message of the batch is deleted.
* A handler that raises fails the whole batch (nothing is deleted), as in Lambda.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from typing import TYPE_CHECKING, Any

from stylemixer.local.context import LOCAL_REGION, LambdaContext

if TYPE_CHECKING:
    from collections.abc import Callable

    Handler = Callable[[dict[str, Any], Any], Any]

log = logging.getLogger(__name__)


def queue_arn(queue_url: str) -> str:
    """The ARN of a queue from its URL (``…/<account>/<name>``)."""
    account, name = queue_url.rstrip("/").split("/")[-2:]
    return f"arn:aws:sqs:{LOCAL_REGION}:{account}:{name}"


def sqs_event(messages: list[dict[str, Any]], source_arn: str) -> dict[str, Any]:
    """The event Lambda builds from one ``ReceiveMessage`` batch.

    Example:
        >>> m = {"MessageId": "1", "ReceiptHandle": "r", "Body": "{}", "Attributes": {}}
        >>> sqs_event([m], "arn:aws:sqs:us-east-1:123456789012:q")["Records"][0]["eventSource"]
        'aws:sqs'
    """
    records = []
    for message in messages:
        body = message.get("Body", "")
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": body,
                "attributes": dict(message.get("Attributes") or {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": value.get("StringListValues", []),
                        "binaryListValues": value.get("BinaryListValues", []),
                        "dataType": value.get("DataType"),
                    }
                    for name, value in (message.get("MessageAttributes") or {}).items()
                },
                "md5OfBody": message.get("MD5OfBody")
                or hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": source_arn,
                "awsRegion": LOCAL_REGION,
            }
        )
    return {"Records": records}


def failed_ids(result: Any) -> set[str]:
    """The message ids a handler reported as failed (``batchItemFailures``)."""
    if not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures") or []
    return {str(f.get("itemIdentifier")) for f in failures if isinstance(f, dict)}


def lower_priority(nice: int) -> None:
    """Lower the calling thread's CPU priority by ``nice`` (and so that of the threads it starts later,
    torch's among them: on Linux a thread is a task with a priority of its own, which the threads it
    creates inherit). Elsewhere, or where it is not allowed, the thread runs as it is.
    """
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
    except (AttributeError, OSError):
        log.debug("could not lower the priority of %s", threading.current_thread().name)


class QueuePoller(threading.Thread):
    """Feeds one queue to one handler until :meth:`stop`.

    ``load_handler`` is called once, on the first message, in this thread: the worker's cold start
    (torch, the weights) then neither delays the front door nor runs when no job ever comes.
    ``nice`` lowers this thread's CPU priority (see :func:`lower_priority`).

    Example (a handler that takes every message; ``start()`` runs :meth:`poll_once` in a loop):
        >>> import boto3
        >>> sqs = boto3.client("sqs")
        >>> queue_url = sqs.create_queue(QueueName="example")["QueueUrl"]
        >>> _ = sqs.send_message(QueueUrl=queue_url, MessageBody='{"job_id": "..."}')
        >>> handler = lambda event, context: {"batchItemFailures": []}
        >>> poller = QueuePoller(sqs, queue_url, lambda: handler, function_name="stylemixer-worker")
        >>> poller.poll_once(), poller.poll_once(), poller.invocations  # one message, then none
        (1, 0, 1)
    """

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        load_handler: Callable[[], Handler],
        *,
        function_name: str,
        batch_size: int = 1,
        wait_seconds: int = 1,
        memory_limit_in_mb: int = 3008,
        timeout_seconds: float = 900,
        nice: int = 0,
    ) -> None:
        super().__init__(name=f"poller-{function_name}", daemon=True)
        self.nice = nice
        self._sqs = sqs
        self.queue_url = queue_url
        self._load_handler = load_handler
        self._handler: Handler | None = None
        self.function_name = function_name
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.memory_limit_in_mb = memory_limit_in_mb
        self.timeout_seconds = timeout_seconds
        self.source_arn = queue_arn(queue_url)
        self._stopping = threading.Event()
        self.invocations = 0

    def stop(self) -> None:
        """Ask the loop to end after the current long poll (at most ``wait_seconds``) or batch."""
        self._stopping.set()

    def run(self) -> None:
        if self.nice:
            lower_priority(self.nice)
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:  # keep polling, as the event source mapping does
                log.exception("polling %s failed", self.queue_url)
                self._stopping.wait(1.0)

    def _resolve_handler(self) -> Handler:
        if self._handler is None:
            self._handler = self._load_handler()
        return self._handler

    def poll_once(self) -> int:
        """Receive one batch (long poll), invoke the handler, settle the batch; returns its size."""
        received = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = received.get("Messages") or []
        if not messages:
            return 0
        handler = self._resolve_handler()
        context = LambdaContext(
            self.function_name,
            memory_limit_in_mb=self.memory_limit_in_mb,
            timeout_seconds=self.timeout_seconds,
        )
        self.invocations += 1
        try:
            result = handler(sqs_event(messages, self.source_arn), context)
        except Exception:
            # Lambda treats a raised error as the whole batch failing: every message is retried.
            log.exception("%s raised; the batch of %d will be retried", self.function_name, len(messages))
            return len(messages)
        failed = failed_ids(result)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)
