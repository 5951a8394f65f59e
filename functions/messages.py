"""What a job message carries, read the same way by the worker and the dead-letter consumer."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from stylemixer.jobs.model import is_valid_id

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


class PoisonMessageError(ValueError):
    """A message that names no job: nothing can ever process it."""


def job_id_of(record: SQSRecord) -> str:
    """The job id a message carries, or :class:`PoisonMessageError`.

    Example:
        >>> from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
        >>> job_id_of(SQSRecord({"body": '{"job_id": "' + "ab" * 16 + '"}'}))
        'abababababababababababababababab'
    """
    try:
        job_id = json.loads(record.body or "").get("job_id")
    except (ValueError, AttributeError):
        job_id = None
    if not is_valid_id(job_id):
        raise PoisonMessageError("the message does not name a job")
    return str(job_id)
