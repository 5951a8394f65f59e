"""In-memory stand-ins for the bucket, the table and the queue, with the same rules as the real ones.

Unit tests use them to exercise the job logic without moto; each can be told to fail its next
calls, to test what the worker does when storage has a bad moment.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stylemixer.jobs.model import (
    FAIL_FROM,
    START_FROM,
    SUCCEED_FROM,
    Job,
    JobError,
    JobResult,
    JobStatus,
    Painting,
    utcnow,
)
from stylemixer.jobs.ports import ObjectInfo, PresignedPost, TransientError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime
    from pathlib import Path


@dataclass
class _Faults:
    """Counts of calls to fail, by method name: ``faults.arm("write", 2)`` fails the next two writes."""

    pending: Counter[str] = field(default_factory=Counter)

    def arm(self, method: str, times: int = 1) -> None:
        self.pending[method] += times

    def check(self, method: str) -> None:
        if self.pending[method] > 0:
            self.pending[method] -= 1
            raise TransientError(f"injected failure in {method}")


class InMemoryBlobStore:
    """A bucket in a dict: key -> (bytes, content type); ``stored_at`` says when each was written
    (a test may move it back to make an object old)."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.stored_at: dict[str, datetime] = {}
        self.faults = _Faults()

    def presign_post(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> PresignedPost:
        return PresignedPost(
            url="memory://bucket/",
            fields={"key": key, "Content-Type": content_type, "policy": f"1-{max_bytes}/{expires_in}s"},
        )

    def presign_get(self, key: str, content_type: str | None, expires_in: int, filename: str) -> str:
        stored = content_type or "stored"
        return f"memory://bucket/{key}?type={stored}&expires={expires_in}&name={filename}"

    def head(self, key: str) -> ObjectInfo | None:
        self.faults.check("head")
        return self._info(key)

    def peek(self, key: str, length: int) -> tuple[ObjectInfo, bytes] | None:
        self.faults.check("peek")
        info = self._info(key)
        return None if info is None else (info, self.objects[key][0][:length])

    def _info(self, key: str) -> ObjectInfo | None:
        if key not in self.objects:
            return None
        data, content_type = self.objects[key]
        return ObjectInfo(size=len(data), content_type=content_type, last_modified=self.stored_at.get(key))

    def read(self, key: str) -> bytes:
        self.faults.check("read")
        return self.objects[key][0]

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self.faults.check("write")
        self.objects[key] = (bytes(data), content_type)
        self.stored_at[key] = utcnow()

    def read_range(self, key: str, start: int, length: int) -> bytes:
        self.faults.check("read_range")
        return self.objects[key][0][start : start + length]

    def download(self, key: str, path: Path) -> None:
        self.faults.check("download")
        path.write_bytes(self.objects[key][0])

    def upload(self, key: str, path: Path, content_type: str) -> None:
        self.faults.check("upload")
        self.write(key, path.read_bytes(), content_type)

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)
        self.stored_at.pop(key, None)


class InMemoryJobRepository:
    """A jobs table in a dict, with the conditional rules of :class:`DynamoJobRepository`."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.faults = _Faults()
        self.progress_writes: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def create(self, job: Job) -> None:
        self.faults.check("create")
        with self._lock:
            if job.job_id in self.jobs:
                raise ValueError(f"job {job.job_id} exists")
            self.jobs[job.job_id] = job

    def get(self, job_id: str) -> Job | None:
        self.faults.check("get")
        return self.jobs.get(job_id)

    def start(self, job_id: str, now: datetime) -> Job | None:
        self.faults.check("start")
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None or job.status not in START_FROM:
                return None
            job = job.with_changes(
                status=JobStatus.RUNNING, stage="starting", attempts=job.attempts + 1, updated_at=now
            )
            self.jobs[job_id] = job
            return job

    def record_progress(self, job_id: str, stage: str, progress: int, now: datetime) -> bool:
        self.faults.check("record_progress")
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None or job.status is not JobStatus.RUNNING or progress < job.progress:
                return False
            self.jobs[job_id] = job.with_changes(stage=stage, progress=progress, updated_at=now)
            self.progress_writes.append((stage, progress))
            return True

    def succeed(
        self, job_id: str, result: JobResult, now: datetime, painting: Painting | None = None
    ) -> bool:
        self.faults.check("succeed")
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None or job.status not in SUCCEED_FROM:
                return False
            self.jobs[job_id] = job.with_changes(
                status=JobStatus.SUCCEEDED,
                stage="done",
                progress=100,
                result=result,
                updated_at=now,
                painting=painting if painting is not None else job.painting,
            )
            return True

    def fail(self, job_id: str, error: JobError, now: datetime) -> bool:
        self.faults.check("fail")
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None or job.status not in FAIL_FROM:
                return False
            self.jobs[job_id] = job.with_changes(
                status=JobStatus.FAILED, stage="failed", error=error, updated_at=now
            )
            return True

    def delete(self, job_id: str, owner_hash: str) -> bool:
        self.faults.check("delete")
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None or job.owner_hash != owner_hash:
                return False
            del self.jobs[job_id]
            return True

    def queued_before(self, moment: datetime, limit: int) -> list[str]:
        self.faults.check("queued_before")
        waiting = sorted(
            (j for j in self.jobs.values() if j.status is JobStatus.QUEUED and j.created_at < moment),
            key=lambda j: j.created_at,
        )
        return [j.job_id for j in waiting[:limit]]


class InMemoryJobQueue:
    """A queue as a list of job ids, and the delays asked for messages handed back."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.retries: list[tuple[str, int]] = []
        self.faults = _Faults()
        #: Messages taken by a worker (a test moves them along by hand); the rest wait.
        self.taken = 0

    def send(self, job_id: str) -> None:
        self.faults.check("send")
        self.sent.append(job_id)

    def retry_later(self, receipt_handle: str, delay_seconds: int) -> None:
        self.faults.check("retry_later")
        if not 0 <= delay_seconds <= 12 * 3600:  # SQS's bounds for a visibility timeout
            raise ValueError(f"visibility timeout {delay_seconds} s is outside 0..43200")
        self.retries.append((receipt_handle, delay_seconds))

    def depth(self) -> int:
        self.faults.check("depth")
        return max(0, len(self.sent) - self.taken)


class InMemoryQuotaBook:
    """The quotas table in a dict, with the conditions of :class:`DynamoQuotaBook` (TTLs kept, not
    acted on: DynamoDB's own deletion of expired items is late and nothing may rely on it)."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.sets: dict[str, set[str]] = {}
        self.expiry: dict[str, int] = {}
        self.faults = _Faults()
        self._lock = threading.Lock()

    def add_within(self, key: str, amount: int, limit: int, expires_at_epoch: int) -> bool:
        self.faults.check("add_within")
        with self._lock:
            if self.counters.get(key, 0) + amount > limit:
                return False
            self.counters[key] = self.counters.get(key, 0) + amount
            self.expiry[key] = expires_at_epoch
            return True

    def take_back(self, key: str, amount: int) -> None:
        with self._lock:
            if key in self.counters:
                self.counters[key] -= amount

    def join(self, key: str, member: str, limit: int, expires_at_epoch: int) -> bool:
        self.faults.check("join")
        with self._lock:
            members = self.sets.setdefault(key, set())
            if member not in members and len(members) >= limit:
                return False
            members.add(member)
            self.expiry[key] = expires_at_epoch
            return True

    def members(self, key: str) -> frozenset[str]:
        return frozenset(self.sets.get(key, ()))

    def leave(self, key: str, members: Iterable[str]) -> None:
        with self._lock:
            self.sets.get(key, set()).difference_update(members)
