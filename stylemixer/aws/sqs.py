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
    """Sends one message per job to the queue the worker consumes."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self.queue_url = queue_url

    def send(self, job_id: str) -> None:
        self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=message_body(job_id))
