"""The worker's CPU and memory percentages: of Lambda's vCPUs, and of this invocation alone."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

import pytest

from stylemixer.jobs import usage
from stylemixer.jobs.usage import MEMORY_SIZE_ENV, UsageMeter, resident_mb, vcpus


@pytest.fixture
def six_cpus_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(6)))


@pytest.mark.parametrize(
    ("memory_mb", "expected"),
    [(1769, 1.0), (3008, 3008 / 1769), (10240, 10240 / 1769), (512, 512 / 1769)],
)
def test_vcpus_are_lambdas_allocation_for_the_memory(
    six_cpus_visible: None, monkeypatch: pytest.MonkeyPatch, memory_mb: int, expected: float
) -> None:
    # Given a function of memory_mb that can see six CPUs
    monkeypatch.setenv(MEMORY_SIZE_ENV, str(memory_mb))
    # Then the CPU it may use is Lambda's allocation: one vCPU per 1,769 MB
    assert vcpus() == pytest.approx(expected)


def test_vcpus_outside_lambda_are_the_visible_cpus(
    six_cpus_visible: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MEMORY_SIZE_ENV, raising=False)
    assert vcpus() == 6


def test_a_job_that_keeps_every_allocated_vcpu_busy_reads_100_percent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a 3008 MB function (1.7 vCPUs, two CPUs visible) and an invocation of 10 s that used
    # 17 s of CPU: all it was given (the clocks are the test's, so the machine's load cannot matter)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setenv(MEMORY_SIZE_ENV, "3008")
    wall, cpu = itertools.count(0, 10.0), itertools.count(0, 10 * 3008 / 1769)
    meter = UsageMeter.start(wall_clock=lambda: next(wall), cpu_clock=lambda: next(cpu))
    # Then it reads 100 % (dividing by the two visible CPUs, it read 85 %)
    assert meter.stop().cpu_percent == pytest.approx(100.0)


_TWO_INVOCATIONS = """
import json, os
from stylemixer.jobs import usage
os.environ[usage.MEMORY_SIZE_ENV] = "4096"
if not usage.reset_peak_memory():
    print(json.dumps(None)); raise SystemExit
first = usage.UsageMeter.start()
block = b"x" * (300 * 1024 * 1024)  # written, so resident; freed at once (a large block goes back)
del block
big = first.stop().memory_percent
second = usage.UsageMeter.start()
small = second.stop().memory_percent
print(json.dumps([big, small]))
"""


def test_memory_is_this_invocations_peak_not_the_processs() -> None:
    # Given a 4 GB function (a fresh process, as a new Lambda container) whose first invocation
    # allocates and frees 300 MB, and whose second allocates little
    run = subprocess.run([sys.executable, "-c", _TWO_INVOCATIONS], capture_output=True, text=True, check=True)
    figures = json.loads(run.stdout)
    if figures is None:
        pytest.skip("this kernel does not let a process reset its peak resident set")
    big, small = figures
    # Then the second reports its own peak, not the first one's (which stays the process's peak)
    assert big - small >= 100 * 250 / 4096, figures  # at least 250 of the 300 MB


def test_memory_is_the_current_resident_set_where_the_peak_cannot_be_reset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(MEMORY_SIZE_ENV, "4096")
    monkeypatch.setattr(usage, "CLEAR_REFS", usage.Path("/nonexistent/clear_refs"))
    meter = UsageMeter.start()
    percent = meter.stop().memory_percent
    current = resident_mb(peak=False)
    assert percent is not None
    assert current is not None
    assert percent == pytest.approx(100 * current / 4096, rel=0.05)


def test_memory_is_not_reported_outside_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MEMORY_SIZE_ENV, raising=False)
    assert UsageMeter.start().stop().memory_percent is None
