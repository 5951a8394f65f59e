"""The worker's CPU and memory percentages: of Lambda's vCPUs, and of this invocation alone."""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING

import pytest

from stylemixer.jobs import usage
from stylemixer.jobs.usage import MEMORY_SIZE_ENV, UsageMeter, resident_mb, torch_threads, vcpus

if TYPE_CHECKING:
    import pathlib


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


@pytest.mark.parametrize(
    ("memory_mb", "threads"), [(512, 1), (1769, 1), (2048, 1), (3008, 2), (5307, 3), (10240, 6)]
)
def test_torch_paints_on_the_vcpus_the_memory_buys_not_the_cpus_seen(
    six_cpus_visible: None, monkeypatch: pytest.MonkeyPatch, memory_mb: int, threads: int
) -> None:
    # Given a function of memory_mb that can see six CPUs
    monkeypatch.setenv(MEMORY_SIZE_ENV, str(memory_mb))
    # Then torch gets a thread per vCPU Lambda allocates, rounded, and never none
    assert torch_threads() == threads


def test_torch_threads_never_exceed_the_cpus_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the largest function on a host that shows it two CPUs
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setenv(MEMORY_SIZE_ENV, "10240")
    # Then torch runs two threads, not six
    assert torch_threads() == 2


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


def _status(path: pathlib.Path, *, peak_mb: int, current_mb: int) -> None:
    """Write a ``/proc/self/status`` with these resident sets (the kernel's kB)."""
    path.write_text(f"Name:\tpython\nVmHWM:\t{peak_mb * 1024} kB\nVmRSS:\t{current_mb * 1024} kB\n")


def test_memory_is_this_invocations_peak_not_the_processs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    # Given a 4 GB function whose process once peaked at 3,000 MB (an earlier, large invocation),
    # on a kernel that lets it reset its peak (the files are the test's: the figures are its own,
    # which neither the allocator nor the machine's load can move)
    clear_refs, status = tmp_path / "clear_refs", tmp_path / "status"
    monkeypatch.setattr(usage, "CLEAR_REFS", clear_refs)
    monkeypatch.setattr(usage, "STATUS", status)
    monkeypatch.setenv(MEMORY_SIZE_ENV, "4096")
    _status(status, peak_mb=3000, current_mb=200)
    # When an invocation starts, it asks the kernel to reset the peak to the current resident set
    meter = UsageMeter.start()
    assert clear_refs.read_text() == "5"
    # And this invocation then peaks at 300 MB and ends at 250 MB
    _status(status, peak_mb=300, current_mb=250)
    # Then it reports its own peak, not the process's lifetime one, nor where it ended
    assert meter.stop().memory_percent == pytest.approx(100 * 300 / 4096)


def test_memory_is_the_current_resident_set_where_the_peak_cannot_be_reset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    # Given a 4 GB function whose kernel refuses the reset, and a process that once peaked at 3,000 MB
    status = tmp_path / "status"
    monkeypatch.setattr(usage, "CLEAR_REFS", tmp_path / "absent" / "clear_refs")
    monkeypatch.setattr(usage, "STATUS", status)
    monkeypatch.setenv(MEMORY_SIZE_ENV, "4096")
    _status(status, peak_mb=3000, current_mb=250)
    # When an invocation is measured
    percent = UsageMeter.start().stop().memory_percent
    # Then it reports the current resident set, never the lifetime peak
    assert percent == pytest.approx(100 * 250 / 4096)
    assert resident_mb(peak=False) == 250


def test_the_real_kernel_figures_are_read() -> None:
    # Given this process's own /proc (Linux), Then both fields the meter reads are there, in MB
    if not usage.STATUS.exists():
        pytest.skip("no /proc/self/status here")
    peak, current = resident_mb(peak=True), resident_mb(peak=False)
    assert peak is not None
    assert current is not None
    assert peak > 0
    assert current > 0


def test_memory_is_not_reported_outside_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MEMORY_SIZE_ENV, raising=False)
    assert UsageMeter.start().stop().memory_percent is None
