"""The dead-letter consumer: fails the job of every message SQS gave up on, so none stays queued
or running forever, and removes anything the job left behind.

A function of its own (not an entry point of the worker's module) so that it runs with its own
role: it may only read and fail jobs and delete results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from functions.messages import PoisonMessageError, job_id_of
from functions.observability import count_failure, observability
from stylemixer.aws.clients import LazyAdapters
from stylemixer.errors import PROCESSING_FAILED
from stylemixer.jobs.worker import fail_abandoned
from stylemixer.resources import API_CLIENT_TIMEOUTS
from stylemixer.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

SETTINGS = Settings.from_env()
logger, metrics, tracer = observability(SETTINGS.stage)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
#: S3 and DynamoDB (small calls only, so the API's short timeouts).
adapters = LazyAdapters(SETTINGS, timeouts=API_CLIENT_TIMEOUTS)


def record_handler(record: SQSRecord) -> None:
    """Fail the job of a message SQS gave up on (raises only if the table cannot be written)."""
    try:
        job_id = job_id_of(record)
    except PoisonMessageError:
        logger.error("poison message in the dead-letter queue", extra={"message_id": record.message_id})
        return
    logger.append_keys(job_id=job_id)
    deps = adapters()
    if fail_abandoned(deps.store, deps.repo, job_id):
        logger.warning("job failed from the dead-letter queue")
        count_failure(SETTINGS.stage, PROCESSING_FAILED)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for the dead-letter queue: no job is left queued or running forever."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
