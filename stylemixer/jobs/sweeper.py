"""The sweeper: fails every job that has waited longer than the queue keeps its message.

SQS deletes a message it has kept for its retention period (four days here, at least) without a
word, and a job whose message is gone would show "queued" until its record expires. Admission
control keeps the queue short, so this only happens when the workers stop for days; the sweeper
runs on a schedule (hourly, and on a timer in the local stack) and fails such jobs with a reason the
page shows. It reads the jobs table's index of queued jobs, oldest first, never the whole table.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from stylemixer.errors import QUEUE_EXPIRED
from stylemixer.jobs.model import JobError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from stylemixer.jobs.ports import JobRepository

logger = logging.getLogger(__name__)

#: Jobs read from the index at a time.
PAGE_SIZE = 100
#: Most pages one run reads: the index catches up with the table a moment late, so a page may hold
#: jobs failed a moment ago; a bound keeps such a run short (the next run takes the rest).
MAX_PAGES = 50
#: A run stops with this many seconds of the function's time left.
TIME_MARGIN_SECONDS = 10.0


def queue_expired(max_wait_seconds: int) -> JobError:
    """Why a job that waited too long failed, in words.

    Example:
        >>> queue_expired(4 * 86400).message
        'Your picture waited longer than StyleMixer keeps a job waiting (4 days) and was not painted. Please send it again.'
    """  # noqa: E501
    days = max_wait_seconds / 86400
    wait = f"{days:g} days" if days >= 1 else f"{max_wait_seconds // 3600} hours"
    return JobError(
        QUEUE_EXPIRED,
        f"Your picture waited longer than StyleMixer keeps a job waiting ({wait}) and was not painted. "
        "Please send it again.",
    )


def sweep(
    repo: JobRepository,
    now: datetime,
    max_wait_seconds: int,
    *,
    page_size: int = PAGE_SIZE,
    remaining_seconds: Callable[[], float] | None = None,
) -> int:
    """Fail the jobs queued before ``now - max_wait_seconds``; returns how many were failed.

    Example (in memory):
        >>> from stylemixer.aws.fakes import InMemoryJobRepository
        >>> from stylemixer.jobs.model import Job, JobParams, StyleRef, new_id, utcnow
        >>> repo, now = InMemoryJobRepository(), utcnow()
        >>> old = now - timedelta(days=5)
        >>> repo.create(Job(new_id(), JobParams("0" * 32, (StyleRef(preset="tapestry"),)), old, old, 0))
        >>> sweep(repo, now, 4 * 86400), sweep(repo, now, 4 * 86400)
        (1, 0)
    """
    cutoff = now - timedelta(seconds=max_wait_seconds)
    error = queue_expired(max_wait_seconds)
    failed = 0
    for _ in range(MAX_PAGES):
        waiting = repo.queued_before(cutoff, page_size)
        for job_id in waiting:
            if repo.fail(job_id, error, now):
                failed += 1
                logger.warning(
                    "job failed: it waited longer than the queue keeps messages", extra={"job": job_id}
                )
        if len(waiting) < page_size:
            break
        if remaining_seconds is not None and remaining_seconds() < TIME_MARGIN_SECONDS:
            break
    return failed
