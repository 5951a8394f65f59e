"""The worker's memory and CPU use, in percent, since Lambda reports neither as a metric.

Memory is the process's peak resident set over the function's configured memory; CPU is the CPU
time spent during one invocation over its wall time times the vCPUs the process can use.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass

#: Lambda sets this to the function's memory in MB.
MEMORY_SIZE_ENV = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"


@dataclass(frozen=True, slots=True)
class Usage:
    """Percentages for one invocation; ``memory_percent`` is None outside Lambda."""

    memory_percent: float | None
    cpu_percent: float


class UsageMeter:
    """Measure CPU use between :meth:`start` and :meth:`stop`.

    Example:
        >>> meter = UsageMeter.start()
        >>> usage = meter.stop()
        >>> 0 <= usage.cpu_percent
        True
    """

    def __init__(self, wall: float, cpu: float) -> None:
        self._wall = wall
        self._cpu = cpu

    @classmethod
    def start(cls) -> UsageMeter:
        return cls(time.perf_counter(), time.process_time())

    def stop(self) -> Usage:
        wall = max(time.perf_counter() - self._wall, 1e-9)
        cpu = time.process_time() - self._cpu
        return Usage(memory_percent=memory_percent(), cpu_percent=100.0 * cpu / (wall * vcpus()))


def vcpus() -> int:
    """CPUs this process may run on (Lambda scales them with memory)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def memory_percent() -> float | None:
    """Peak RSS as a percentage of the function's memory, or None when that is not configured."""
    configured = os.environ.get(MEMORY_SIZE_ENV, "")
    if not configured.isdigit() or int(configured) == 0:
        return None
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    return 100.0 * peak_mb / int(configured)
