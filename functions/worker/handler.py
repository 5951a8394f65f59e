"""The worker: SQS batches of job messages, each run with :func:`stylemixer.jobs.worker.process_job`.

A message whose job failed for a passing reason is handed back to the queue with a back-off and
reported in ``batchItemFailures``, so SQS delivers it again within minutes; everything else is
acknowledged. The queue's maxReceiveCount comes from the environment (``STYLEMIXER_MAX_RECEIVE_COUNT``,
set from the same setting as the queue's redrive policy), so the last receive is the real last one.

torch is imported when the engine is first needed, not when this module is.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from functions.messages import PoisonMessageError, job_id_of
from functions.observability import count_failure, observability
from stylemixer.aws.clients import LazyAdapters
from stylemixer.jobs.usage import UsageMeter, torch_threads
from stylemixer.jobs.worker import Outcome, StylizeEngine, process_job
from stylemixer.resources import (
    METRIC_CPU_UTILIZATION,
    METRIC_INPUT_MEGAPIXELS,
    METRIC_JOBS_SUCCEEDED,
    METRIC_MEMORY_UTILIZATION,
    METRIC_POISON_MESSAGES,
    METRIC_QUEUE_WAIT_SECONDS,
    METRIC_STYLIZE_SECONDS,
    WORKER_CLIENT_TIMEOUTS,
)
from stylemixer.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

SETTINGS = Settings.from_env(require_queue=True, require_max_receive_count=True)
logger, metrics, tracer = observability(SETTINGS.stage)
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
#: S3, DynamoDB and SQS, with timeouts for the worker's larger reads and writes.
adapters = LazyAdapters(SETTINGS, timeouts=WORKER_CLIENT_TIMEOUTS)


def default_engine() -> StylizeEngine:
    """The real engine, loaded (with torch and the weights) on the first job of a container.

    torch paints on as many threads as the function's memory buys vCPUs, not as many as it sees.
    """
    from stylemixer.neural.engine import Engine

    return Engine.default(threads=torch_threads())


#: Where the worker gets its engine; tests put a stand-in here.
engine_provider: Callable[[], StylizeEngine] = default_engine


def _engine() -> StylizeEngine:
    return engine_provider()


def record_handler(record: SQSRecord, lambda_context: Any = None) -> None:
    """Process one job message; raise only when SQS should deliver it again.

    Powertools passes ``lambda_context``; its clock lets a job stop before the function times out.
    """
    try:
        job_id = job_id_of(record)
    except PoisonMessageError:
        logger.error("poison message acknowledged", extra={"message_id": record.message_id})
        metrics.add_metric(name=METRIC_POISON_MESSAGES, unit=MetricUnit.Count, value=1)
        return
    receive_count = int(record.attributes.approximate_receive_count or 1)
    logger.append_keys(job_id=job_id, receive_count=receive_count)
    tracer.put_annotation("job_id", job_id)
    if receive_count == 1 and record.attributes.sent_timestamp:
        waited = time.time() - int(record.attributes.sent_timestamp) / 1000
        metrics.add_metric(name=METRIC_QUEUE_WAIT_SECONDS, unit=MetricUnit.Seconds, value=max(0.0, waited))
    deps = adapters()
    queue = deps.queue
    assert queue is not None  # Settings.from_env(require_queue=True) refused to start without it
    try:
        outcome = process_job(
            job_id,
            store=deps.store,
            repo=deps.repo,
            engine=_engine,
            max_receives=_max_receives(),
            receive_count=receive_count,
            retry_later=functools.partial(queue.retry_later, record.receipt_handle),
            remaining_seconds=_remaining_seconds(lambda_context),
        )
    except Exception:
        logger.exception("job will be retried")
        raise
    finally:
        logger.remove_keys(["receive_count"])
    _record_outcome(outcome)


def _max_receives() -> int:
    """The queue's maxReceiveCount: on that receive a failure is final (from_env required it)."""
    assert SETTINGS.max_receive_count is not None
    return SETTINGS.max_receive_count


def _remaining_seconds(context: Any) -> Callable[[], float] | None:
    clock = getattr(context, "get_remaining_time_in_millis", None)
    return (lambda: clock() / 1000) if callable(clock) else None


def _record_outcome(outcome: Outcome) -> None:
    logger.info("job processed", extra={"status": outcome.status, "reason": outcome.reason})
    if outcome.status == "succeeded":
        metrics.add_metric(name=METRIC_JOBS_SUCCEEDED, unit=MetricUnit.Count, value=1)
        if outcome.stylize_seconds is not None:
            seconds = outcome.stylize_seconds
            metrics.add_metric(name=METRIC_STYLIZE_SECONDS, unit=MetricUnit.Seconds, value=seconds)
        if outcome.input_megapixels is not None:
            megapixels = outcome.input_megapixels
            metrics.add_metric(name=METRIC_INPUT_MEGAPIXELS, unit=MetricUnit.Count, value=megapixels)
    elif outcome.status == "failed":
        count_failure(SETTINGS.stage, outcome.reason or "Unknown")


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
        metrics.add_metric(name=METRIC_CPU_UTILIZATION, unit=MetricUnit.Percent, value=usage.cpu_percent)
        if usage.memory_percent is not None:
            memory = usage.memory_percent
            metrics.add_metric(name=METRIC_MEMORY_UTILIZATION, unit=MetricUnit.Percent, value=memory)
