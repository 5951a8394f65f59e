"""The worker's memory and CPU use per invocation, in percent, since Lambda reports neither as a metric.

* CPU is the CPU time this invocation used over its wall time times the vCPUs *Lambda allocates* for
  the function's memory (one per 1,769 MB, at most six), not the CPUs the process can see: at
  3,008 MB a function sees two CPUs but may use 1.7 of them, so a job that keeps every allocated
  vCPU busy reads 100 %, not 85 %.
* Memory is this invocation's peak resident set over the function's memory. Linux keeps a peak per
  process (``VmHWM``), which a process may reset (``/proc/self/clear_refs``); it is reset when the
  invocation starts, so a large job's peak does not follow every later invocation of the same
  container. Where the reset is not allowed, the resident set at the end of the invocation is
  reported instead (a current figure, never the lifetime peak).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stylemixer.resources import lambda_vcpus

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)

#: Lambda sets this to the function's memory in MB.
MEMORY_SIZE_ENV = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
#: Writing "5" here resets the process's peak resident set (Linux 4.0 and later).
CLEAR_REFS = Path("/proc/self/clear_refs")
STATUS = Path("/proc/self/status")


@dataclass(frozen=True, slots=True)
class Usage:
    """Percentages for one invocation; ``memory_percent`` is None outside Lambda."""

    memory_percent: float | None
    cpu_percent: float


class UsageMeter:
    """Measure CPU and memory use between :meth:`start` and :meth:`stop`.

    Example:
        >>> meter = UsageMeter.start()
        >>> usage = meter.stop()
        >>> 0 <= usage.cpu_percent
        True
    """

    def __init__(
        self,
        peak_reset: bool,
        wall_clock: Callable[[], float] = time.perf_counter,
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> None:
        self._peak_reset = peak_reset
        self._wall_clock, self._cpu_clock = wall_clock, cpu_clock
        self._wall, self._cpu = wall_clock(), cpu_clock()

    @classmethod
    def start(
        cls,
        wall_clock: Callable[[], float] = time.perf_counter,
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> UsageMeter:
        """Start measuring: reset the peak resident set where allowed, and note the clocks."""
        return cls(reset_peak_memory(), wall_clock, cpu_clock)

    def stop(self) -> Usage:
        """The invocation's CPU and memory percentages."""
        wall = max(self._wall_clock() - self._wall, 1e-9)
        cpu = self._cpu_clock() - self._cpu
        mb = resident_mb(peak=self._peak_reset)
        configured = configured_memory_mb()
        memory = None if configured is None or mb is None else 100.0 * mb / configured
        return Usage(memory_percent=memory, cpu_percent=100.0 * cpu / (wall * vcpus()))


def configured_memory_mb() -> int | None:
    """The function's memory in MB, or None outside Lambda."""
    configured = os.environ.get(MEMORY_SIZE_ENV, "")
    return int(configured) if configured.isdigit() and int(configured) > 0 else None


def vcpus() -> float:
    """The vCPUs this invocation may use: Lambda's allocation for its memory, else the CPUs visible.

    Example (outside Lambda: the CPUs this process may run on):
        >>> vcpus() == len(os.sched_getaffinity(0))
        True
    """
    configured = configured_memory_mb()
    try:
        visible = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        visible = max(1, os.cpu_count() or 1)
    if configured is None:
        return float(visible)
    return min(float(visible), lambda_vcpus(configured))


def torch_threads() -> int:
    """Intra-op threads for torch on this worker: the vCPUs its memory buys, rounded, at least one.

    Why not torch's own choice (one thread per CPU it sees): Lambda shows a function more CPUs
    than its memory pays for, and caps the CPU time it may use instead. Every torch operation ends
    at a barrier where each thread waits for the slowest, so threads beyond the allocation take
    turns on it and every layer waits for the one that was descheduled. At 3,008 MB (1.7 vCPUs)
    that is 2 threads; at 1,769 MB, 1; at 10,240 MB, 6 where six CPUs are visible.

    Example (outside Lambda: the CPUs this process may run on):
        >>> torch_threads() == max(1, round(vcpus()))
        True
    """
    return max(1, round(vcpus()))


def reset_peak_memory() -> bool:
    """Reset the process's peak resident set to its current size; False where that is not allowed."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        logger.debug("the peak resident set cannot be reset here; reporting the current one")
        return False
    return True


def resident_mb(*, peak: bool) -> float | None:
    """The peak (since the last reset) or the current resident set in MB, or None without /proc."""
    field = "VmHWM:" if peak else "VmRSS:"
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        return None
    return None
