"""The jobs queue behind :class:`stylemixer.jobs.ports.JobQueue`."""

from __future__ import annotations

import json
from typing import Any


def message_body(job_id: str) -> str:
    """The body of a job message (the worker reads ``job_id`` from it).

    Example:
        >>> message_body("ab" * 16)
        '{"job_id": "abababababababababababababababab"}'
    """
    return json.dumps({"job_id": job_id})


class SqsJobQueue:
    """The queue the worker consumes: the API sends one message per job; the worker may hand one
    back sooner than its visibility timeout would."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self.queue_url = queue_url

    def send(self, job_id: str) -> None:
        self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=message_body(job_id))

    def retry_later(self, receipt_handle: str, delay_seconds: int) -> None:
        """Make a received message visible again in ``delay_seconds`` (ChangeMessageVisibility)."""
        self._sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay_seconds
        )

    def depth(self) -> int:
        """Messages waiting to be received (not those a worker holds, nor delayed ones)."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        ).get("Attributes", {})
        return int(attributes.get("ApproximateNumberOfMessages", 0))
