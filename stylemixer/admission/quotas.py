"""Limits per client, counted in the quotas table before any money is spent.

Per client (see :mod:`stylemixer.admission.clients`): jobs per hour, jobs in flight and upload bytes
per hour; per upload: the jobs that may name it. Each is a conditional write, so concurrent
requests cannot overshoot; a refusal is a :class:`~stylemixer.admission.exceptions.RetryLaterError`
that says when to try again (or, for a used-up upload, to send the picture again).

Jobs in flight are a set of job ids per client (each with when it joined). Nothing else has to
remember to take a finished job out of it (not the worker, the dead-letter consumer, the sweeper,
nor ``DELETE``): when a client's set is full, the jobs that have finished, failed, or are gone are
dropped from it and the job is tried once more. A job joins the set just before it is stored, so
one not found is gone only once it joined more than :data:`STORING_GRACE_SECONDS` ago. A client at
its limit costs a few reads per refused request, no more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stylemixer.admission.exceptions import QuotaExceededError, UploadUsedUpError, in_words
from stylemixer.errors import TOO_MANY_JOBS, TOO_MANY_JOBS_IN_FLIGHT, UPLOAD_QUOTA_EXCEEDED
from stylemixer.jobs.model import FINAL_STATUSES
from stylemixer.limits import (
    CLIENT_JOBS_IN_FLIGHT,
    CLIENT_JOBS_PER_HOUR,
    CLIENT_UPLOAD_BYTES_PER_HOUR,
    MAX_JOBS_PER_UPLOAD,
    UPLOAD_REUSE_SECONDS,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from stylemixer.admission.backlog import Backlog
    from stylemixer.jobs.ports import JobRepository, QuotaBook

#: The counters' window: jobs and upload bytes are counted per clock hour.
WINDOW_SECONDS = 3600
#: When a client's jobs in flight are at their limit, it is told to come back after this long: about
#: what a picture takes, from the queue to its result.
IN_FLIGHT_RETRY_SECONDS = 30
#: A client's set of jobs in flight is kept this long after a job last joined it. A job still queued
#: after that is no longer counted (the set has expired); the backlog limit bounds such a queue.
IN_FLIGHT_TTL_SECONDS = 24 * 3600
#: A job joins its client's jobs in flight milliseconds before it is stored; one not found in the
#: table is taken for gone (deleted, or never stored) only this long after it joined.
STORING_GRACE_SECONDS = 60
#: A window's counter outlives the window by this much (DynamoDB's TTL is not a clock to rely on:
#: the window is part of the key, so an expired counter is never read).
_COUNTER_MARGIN_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class ClientLimits:
    """What one client may do (defaults: :mod:`stylemixer.limits`, each with its reason).

    Example:
        >>> ClientLimits().jobs_in_flight
        3
    """

    jobs_per_hour: int = CLIENT_JOBS_PER_HOUR
    jobs_in_flight: int = CLIENT_JOBS_IN_FLIGHT
    upload_bytes_per_hour: int = CLIENT_UPLOAD_BYTES_PER_HOUR
    jobs_per_upload: int = MAX_JOBS_PER_UPLOAD


class ClientGate:
    """What one client (``client``: its key) may still do; each ``admit_*`` counts it or refuses.

    ``backlog`` adds admission control to :meth:`admit_job` (the queue must have room for the job).

    Example (in memory):
        >>> from stylemixer.aws.fakes import InMemoryJobRepository, InMemoryQuotaBook
        >>> from stylemixer.jobs.model import new_id, utcnow
        >>> gate = ClientGate(InMemoryQuotaBook(), InMemoryJobRepository(), "client", ClientLimits(jobs_in_flight=1))
        >>> gate.admit_job(new_id(), [], utcnow())  # and the job is stored (or not: it has a minute)
        >>> gate.admit_job(new_id(), [], utcnow())
        Traceback (most recent call last):
        ...
        stylemixer.admission.exceptions.QuotaExceededError: You already have 1 picture being painted; ...
    """  # noqa: E501

    def __init__(
        self,
        quotas: QuotaBook,
        repo: JobRepository,
        client: str,
        limits: ClientLimits | None = None,
        backlog: Backlog | None = None,
    ) -> None:
        self._quotas = quotas
        self._repo = repo
        self.client = client
        self.limits = limits or ClientLimits()
        self._backlog = backlog

    def admit_upload(self, size: int, now: datetime) -> None:
        """Count ``size`` bytes against the client's hour, or refuse (429 ``UploadQuotaExceeded``)."""
        window, retry_after = _window(now)
        key = f"bytes:{self.client}:{window}"
        if not self._quotas.add_within(key, size, self.limits.upload_bytes_per_hour, _counter_expiry(window)):
            limit = _amount(self.limits.upload_bytes_per_hour)
            raise QuotaExceededError(
                UPLOAD_QUOTA_EXCEEDED,
                f"You have uploaded {limit} of pictures this hour, the most one address may; "
                f"try again in {in_words(retry_after)}.",
                retry_after=retry_after,
            )

    def admit_job(self, job_id: str, uploads: Sequence[str], now: datetime) -> None:
        """Count one job (in flight, this hour, and against each upload it names) or refuse it.

        A refusal returns what was already counted for the job, so only accepted jobs count.
        """
        if self._backlog is not None:
            self._backlog.check()
        flight, member = f"flight:{self.client}", f"{job_id}@{_epoch(now)}"
        self._join_flight(flight, member, now)
        window, retry_after = _window(now)
        hour = f"jobs:{self.client}:{window}"
        if not self._quotas.add_within(hour, 1, self.limits.jobs_per_hour, _counter_expiry(window)):
            self._quotas.leave(flight, [member])
            raise QuotaExceededError(
                TOO_MANY_JOBS,
                f"You have sent {self.limits.jobs_per_hour} pictures this hour, the most one address "
                f"may; try again in {in_words(retry_after)}.",
                retry_after=retry_after,
            )
        counted: list[str] = []
        expiry = _epoch(now) + UPLOAD_REUSE_SECONDS + _COUNTER_MARGIN_SECONDS
        for upload_id in dict.fromkeys(uploads):  # a picture named twice by one job counts once
            key = f"upload:{upload_id}"
            if not self._quotas.add_within(key, 1, self.limits.jobs_per_upload, expiry):
                for done in counted:
                    self._quotas.take_back(done, 1)
                self._quotas.take_back(hour, 1)
                self._quotas.leave(flight, [member])
                raise UploadUsedUpError(
                    message=f"A picture of this job was already painted {self.limits.jobs_per_upload} "
                    "times, the most one upload may be; upload it again to paint it more."
                )
            counted.append(key)
        if self._backlog is not None:
            self._backlog.queued()

    def _join_flight(self, key: str, member: str, now: datetime) -> None:
        """Add the job (``<job id>@<epoch>``) to the client's jobs in flight, first dropping finished
        ones if the set is full."""
        limit = self.limits.jobs_in_flight
        expiry = _epoch(now) + IN_FLIGHT_TTL_SECONDS
        if self._quotas.join(key, member, limit, expiry):
            return
        finished = [other for other in self._quotas.members(key) if self._finished(other, now)]
        if finished:
            self._quotas.leave(key, finished)
            if self._quotas.join(key, member, limit, expiry):
                return
        pictures = "picture" if limit == 1 else "pictures"
        raise QuotaExceededError(
            TOO_MANY_JOBS_IN_FLIGHT,
            f"You already have {limit} {pictures} being painted; send the next one when one of them is done.",
            retry_after=IN_FLIGHT_RETRY_SECONDS,
        )

    def _finished(self, member: str, now: datetime) -> bool:
        """Whether a member of a set of jobs in flight no longer is: its job ended, or is gone."""
        job_id, _, joined = member.partition("@")
        job = self._repo.get(job_id)
        if job is not None:
            return job.status in FINAL_STATUSES
        return not joined.isdigit() or _epoch(now) - int(joined) > STORING_GRACE_SECONDS


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _window(now: datetime) -> tuple[int, int]:
    """The clock hour ``now`` is in, and the seconds left in it."""
    epoch = now.timestamp()
    window = int(epoch // WINDOW_SECONDS)
    return window, max(1, math.ceil((window + 1) * WINDOW_SECONDS - epoch))


def _counter_expiry(window: int) -> int:
    return (window + 1) * WINDOW_SECONDS + _COUNTER_MARGIN_SECONDS


def _amount(size: int) -> str:
    """Bytes in words: "1 GB", "500 MB"."""
    if size >= 1024**3 and size % 1024**3 == 0:
        return f"{size // 1024**3} GB"
    return f"{size / 1024**2:.0f} MB"
