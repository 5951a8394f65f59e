"""The worker: SQS batches of job messages, each run with :func:`stylemixer.jobs.worker.process_job`.

A message whose job failed for a transient reason is reported in ``batchItemFailures`` so SQS
delivers it again; everything else is acknowledged. ``dlq_handler`` consumes the dead-letter queue
and fails every job it sees, so none is left queued or running.

torch is imported when the engine is first needed, not when this module is.
"""

from __future__ import annotations

import functools
import json
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from functions.observability import LazyTracer, make_logger, make_metrics
from stylemixer.aws.clients import Adapters, build_adapters
from stylemixer.jobs.model import is_valid_id
from stylemixer.jobs.usage import UsageMeter
from stylemixer.jobs.worker import Outcome, StylizeEngine, fail_abandoned, process_job
from stylemixer.resources import METRICS_NAMESPACE, SERVICE_NAME
from stylemixer.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

SETTINGS = Settings.from_env()
logger = make_logger()
metrics = make_metrics()
tracer = LazyTracer()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
dlq_processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class PoisonMessageError(ValueError):
    """A message that names no job: nothing can ever process it."""


@functools.cache
def adapters() -> Adapters:
    """S3 and DynamoDB adapters, built on first use and kept for the life of the container."""
    return build_adapters(SETTINGS)


def default_engine() -> StylizeEngine:
    """The real engine, loaded (with torch and the weights) on the first job of a container."""
    from stylemixer.neural.engine import Engine

    return Engine.default()


#: Where the worker gets its engine; tests put a stand-in here.
engine_provider: Callable[[], StylizeEngine] = default_engine


def _engine() -> StylizeEngine:
    return engine_provider()


def job_id_of(record: SQSRecord) -> str:
    """The job id a message carries, or :class:`PoisonMessageError`."""
    try:
        job_id = json.loads(record.body or "").get("job_id")
    except (ValueError, AttributeError):
        job_id = None
    if not is_valid_id(job_id):
        raise PoisonMessageError("the message does not name a job")
    return str(job_id)


def record_handler(record: SQSRecord, lambda_context: Any = None) -> None:
    """Process one job message; raise only when SQS should deliver it again.

    Powertools passes ``lambda_context``; its clock lets a job stop before the function times out.
    """
    try:
        job_id = job_id_of(record)
    except PoisonMessageError:
        logger.error("poison message acknowledged", extra={"message_id": record.message_id})
        metrics.add_metric(name="PoisonMessages", unit=MetricUnit.Count, value=1)
        return
    receive_count = int(record.attributes.approximate_receive_count or 1)
    logger.append_keys(job_id=job_id, receive_count=receive_count)
    tracer.put_annotation("job_id", job_id)
    if receive_count == 1 and record.attributes.sent_timestamp:
        waited = time.time() - int(record.attributes.sent_timestamp) / 1000
        metrics.add_metric(name="QueueWaitSeconds", unit=MetricUnit.Seconds, value=max(0.0, waited))
    deps = adapters()
    try:
        outcome = process_job(
            job_id,
            store=deps.store,
            repo=deps.repo,
            engine=_engine,
            receive_count=receive_count,
            remaining_seconds=_remaining_seconds(lambda_context),
        )
    except Exception:
        logger.exception("job will be retried")
        raise
    finally:
        logger.remove_keys(["receive_count"])
    _record_outcome(outcome)


def _remaining_seconds(context: Any) -> Callable[[], float] | None:
    clock = getattr(context, "get_remaining_time_in_millis", None)
    return (lambda: clock() / 1000) if callable(clock) else None


def _record_outcome(outcome: Outcome) -> None:
    logger.info("job processed", extra={"status": outcome.status, "reason": outcome.reason})
    if outcome.status == "succeeded":
        metrics.add_metric(name="JobsSucceeded", unit=MetricUnit.Count, value=1)
        if outcome.stylize_seconds is not None:
            metrics.add_metric(name="StylizeSeconds", unit=MetricUnit.Seconds, value=outcome.stylize_seconds)
        if outcome.input_megapixels is not None:
            metrics.add_metric(name="InputMegapixels", unit=MetricUnit.Count, value=outcome.input_megapixels)
    elif outcome.status == "failed":
        _count_failure(outcome.reason or "Unknown")


def _count_failure(reason: str) -> None:
    """JobsFailed with the reason as a dimension (its own EMF blob, so other metrics keep theirs)."""
    with single_metric(
        name="JobsFailed",
        unit=MetricUnit.Count,
        value=1,
        namespace=METRICS_NAMESPACE,
        default_dimensions={"service": SERVICE_NAME},
    ) as metric:
        metric.add_dimension(name="reason", value=reason)


def dlq_record_handler(record: SQSRecord) -> None:
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
        _count_failure("ProcessingFailed")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for the jobs queue (SQS event source, partial batch responses)."""
    meter = UsageMeter.start()
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        usage = meter.stop()
        metrics.add_metric(name="CPUUtilization", unit=MetricUnit.Percent, value=usage.cpu_percent)
        if usage.memory_percent is not None:
            metrics.add_metric(name="MemoryUtilization", unit=MetricUnit.Percent, value=usage.memory_percent)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def dlq_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for the dead-letter queue: no job is left queued or running forever."""
    return process_partial_response(
        event=event, record_handler=dlq_record_handler, processor=dlq_processor, context=context
    )
