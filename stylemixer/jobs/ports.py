"""What the job logic needs from storage and the queue, as small interfaces.

Each has one real implementation in :mod:`stylemixer.aws` (S3, DynamoDB, SQS) and one in-memory
fake with the same semantics for unit tests. Nothing here knows about boto3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime
    from pathlib import Path

    from stylemixer.jobs.model import Job, JobError, JobResult, Painting


class TransientError(Exception):
    """Storage or the queue failed in a way worth retrying (throttling, a timeout, a 5xx)."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a HEAD of a stored object says (``last_modified``: when it was stored, if known)."""

    size: int
    content_type: str | None = None
    last_modified: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class PresignedPost:
    """A browser form upload to exactly one key: POST ``fields`` plus the file to ``url``."""

    url: str
    fields: dict[str, str]


class BlobStore(Protocol):
    """The data bucket: uploads in, results out."""

    def presign_post(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> PresignedPost:
        """A presigned POST for ``key`` whose policy fixes the content type and the size range."""
        ...

    def presign_get(self, key: str, content_type: str | None, expires_in: int, filename: str) -> str:
        """A presigned GET for ``key`` served with ``content_type`` (None: the type it was stored with)."""
        ...

    def head(self, key: str) -> ObjectInfo | None:
        """Size and type of ``key``, or None if there is no such object."""
        ...

    def peek(self, key: str, length: int) -> tuple[ObjectInfo, bytes] | None:
        """Size and type of ``key`` with its first ``length`` bytes (one ranged GET), or None."""
        ...

    def read(self, key: str) -> bytes:
        """The whole object (callers HEAD it first to check its size)."""
        ...

    def write(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` at ``key``, replacing what was there."""
        ...

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes of ``key`` from ``start`` (one ranged GET: a clip's boxes, one by one)."""
        ...

    def download(self, key: str, path: Path) -> None:
        """Stream ``key`` into the file ``path`` (a clip: never held in memory whole)."""
        ...

    def upload(self, key: str, path: Path, content_type: str) -> None:
        """Stream the file ``path`` to ``key``, replacing what was there (a painted clip)."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""
        ...


class JobRepository(Protocol):
    """The jobs table. Every transition is conditional (see :mod:`stylemixer.jobs.model`)."""

    def create(self, job: Job) -> None:
        """Store a new job; refuses to overwrite an existing id."""
        ...

    def get(self, job_id: str) -> Job | None:
        """The job, or None."""
        ...

    def start(self, job_id: str, now: datetime) -> Job | None:
        """Move a queued (or crashed running) job to running, counting the attempt.

        Returns the updated job, or None when the job is final (or absent) and must not run.
        """
        ...

    def record_progress(self, job_id: str, stage: str, progress: int, now: datetime) -> bool:
        """Store stage and progress if the job is running and ``progress`` is not lower than stored."""
        ...

    def succeed(
        self, job_id: str, result: JobResult, now: datetime, painting: Painting | None = None
    ) -> bool:
        """Mark a running job succeeded with its result and, for a photo, the size it was painted at
        (replacing the one its header gave when the job was posted); False if it was not running."""
        ...

    def fail(self, job_id: str, error: JobError, now: datetime) -> bool:
        """Mark an unfinished job failed with its reason; False if it had already finished."""
        ...

    def delete(self, job_id: str, owner_hash: str) -> bool:
        """Remove the job if its owner's hash is ``owner_hash``; False if it is absent or not theirs."""
        ...

    def queued_before(self, moment: datetime, limit: int) -> list[str]:
        """The ids of up to ``limit`` jobs still queued that were created before ``moment``, oldest first."""
        ...


class JobQueue(Protocol):
    """The jobs queue the worker consumes."""

    def send(self, job_id: str) -> None:
        """Enqueue one job for the worker."""
        ...

    def retry_later(self, receipt_handle: str, delay_seconds: int) -> None:
        """Deliver a received message again after ``delay_seconds`` instead of its visibility timeout."""
        ...

    def depth(self) -> int:
        """About how many messages wait to be received (SQS's ApproximateNumberOfMessages)."""
        ...


class QuotaBook(Protocol):
    """The per-client counters. Every change is conditional, so two requests at once cannot both
    pass a limit that has room for one; counters expire on their own (a TTL)."""

    def add_within(self, key: str, amount: int, limit: int, expires_at_epoch: int) -> bool:
        """Add ``amount`` to the counter at ``key`` if it stays at most ``limit``; else False, unchanged."""
        ...

    def take_back(self, key: str, amount: int) -> None:
        """Subtract ``amount`` again (an admission refused further on returns what it had taken)."""
        ...

    def join(self, key: str, member: str, limit: int, expires_at_epoch: int) -> bool:
        """Add ``member`` to the set at ``key`` if the set then has at most ``limit`` members."""
        ...

    def members(self, key: str) -> frozenset[str]:
        """The set at ``key`` (empty if there is none)."""
        ...

    def leave(self, key: str, members: Iterable[str]) -> None:
        """Remove ``members`` from the set at ``key``."""
        ...
