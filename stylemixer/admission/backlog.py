"""Admission control: the queue may hold only so many minutes of the workers' work.

When it holds more, ``POST /jobs`` answers busy (503) with when to try again, rather than queueing
jobs that would wait hours behind a flood (and, past the queue's retention, be dropped unseen).
The queue's depth is SQS's ApproximateNumberOfMessages, read at most every few seconds per API
container (:class:`QueueGauge`), plus the jobs this container queued since it last read it.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stylemixer.admission.exceptions import BusyError
from stylemixer.limits import ADMISSION_BACKLOG_MINUTES, QUEUE_DEPTH_CACHE_SECONDS, WORKER_JOBS_PER_MINUTE

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True, slots=True)
class Capacity:
    """What the workers can take: how many run at once, how fast each finishes jobs, and how many
    minutes of their work may wait.

    Example:
        >>> capacity = Capacity(workers=5)
        >>> capacity.max_waiting, capacity.retry_after(capacity.max_waiting + 25)
        (100, 180)
    """

    workers: int
    jobs_per_worker_minute: float = WORKER_JOBS_PER_MINUTE
    backlog_minutes: float = ADMISSION_BACKLOG_MINUTES

    @property
    def jobs_per_minute(self) -> float:
        """Jobs all the workers finish in a minute."""
        return self.workers * self.jobs_per_worker_minute

    @property
    def max_waiting(self) -> int:
        """The most jobs that may wait in the queue for a new one to be accepted."""
        return max(1, math.ceil(self.jobs_per_minute * self.backlog_minutes))

    def retry_after(self, waiting: int) -> int:
        """Seconds until the workers have taken the queue back under :attr:`max_waiting` (whole minutes)."""
        excess = max(1, waiting - self.max_waiting + 1)
        return 60 * max(1, math.ceil(excess / self.jobs_per_minute))


class QueueGauge:
    """How many jobs wait in the queue, as one API container sees it: SQS's figure, read at most
    every ``ttl`` seconds, plus the jobs sent since (SQS's own count lags behind by up to a minute).

    Example:
        >>> reads = []
        >>> gauge = QueueGauge(lambda: reads.append(1) or 7, ttl=5, clock=lambda: 0.0)
        >>> _ = gauge.depth(); gauge.queued()
        >>> gauge.depth(), gauge.depth(), len(reads)
        (8, 8, 1)
    """

    def __init__(
        self,
        read: Callable[[], int],
        ttl: float = QUEUE_DEPTH_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._depth = 0
        self._sent_since = 0

    def depth(self) -> int:
        """The queue's depth, read again if the last reading is older than ``ttl``."""
        with self._lock:
            now = self._clock()
            if self._read_at is None or now - self._read_at >= self._ttl:
                self._depth, self._sent_since, self._read_at = self._read(), 0, now
            return self._depth + self._sent_since

    def queued(self) -> None:
        """One more job was sent to the queue (counted until the next reading)."""
        with self._lock:
            self._sent_since += 1

    def forget(self) -> None:
        """Drop the reading: the next :meth:`depth` asks SQS again."""
        with self._lock:
            self._read_at = None


class Backlog:
    """Refuses new jobs while the queue holds more than :attr:`Capacity.max_waiting` jobs.

    Example:
        >>> backlog = Backlog(QueueGauge(lambda: 30), Capacity(workers=1))
        >>> backlog.check()
        Traceback (most recent call last):
        ...
        stylemixer.admission.exceptions.BusyError: StyleMixer is busy: try again in about 6 minutes.
    """

    def __init__(self, gauge: QueueGauge, capacity: Capacity) -> None:
        self.gauge = gauge
        self.capacity = capacity

    def check(self) -> None:
        """Raise :class:`BusyError` if the queue is full by the capacity's measure."""
        waiting = self.gauge.depth()
        if waiting >= self.capacity.max_waiting:
            raise BusyError(retry_after=self.capacity.retry_after(waiting))

    def queued(self) -> None:
        """A job was accepted and sent to the queue."""
        self.gauge.queued()
