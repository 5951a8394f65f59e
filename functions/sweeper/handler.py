"""The sweeper, run by a schedule (EventBridge; a timer in the local stack): fails every job that
waited longer than the jobs queue keeps a message, so no job stays "queued" for ever.

A function of its own, with its own role: it may only read the index of queued jobs and fail them.
"""

from __future__ import annotations

from typing import Any

from functions.observability import count_failure, observability
from stylemixer.aws.clients import LazyAdapters
from stylemixer.errors import QUEUE_EXPIRED
from stylemixer.jobs.model import utcnow
from stylemixer.jobs.sweeper import sweep
from stylemixer.resources import API_CLIENT_TIMEOUTS, ENV_QUEUE_RETENTION_SECONDS
from stylemixer.settings import ConfigError, Settings

SETTINGS = Settings.from_env()
if SETTINGS.queue_retention_seconds is None:
    raise ConfigError(
        f"StyleMixer is not configured: {ENV_QUEUE_RETENTION_SECONDS}: required by the sweeper "
        "(how long the jobs queue keeps a message)."
    )
MAX_WAIT_SECONDS: int = SETTINGS.queue_retention_seconds
logger, metrics, tracer = observability(SETTINGS.stage)
#: DynamoDB only (small calls, so the API's short timeouts).
adapters = LazyAdapters(SETTINGS, timeouts=API_CLIENT_TIMEOUTS)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for the schedule's event (its contents are not needed)."""
    clock = getattr(context, "get_remaining_time_in_millis", None)
    remaining = (lambda: clock() / 1000) if callable(clock) else None
    failed = sweep(adapters().repo, utcnow(), MAX_WAIT_SECONDS, remaining_seconds=remaining)
    for _ in range(failed):
        count_failure(SETTINGS.stage, QUEUE_EXPIRED)
    if failed:
        logger.warning(
            "jobs failed: they waited longer than the queue keeps messages", extra={"count": failed}
        )
    return {"failed": failed}
