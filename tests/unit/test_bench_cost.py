"""The cost table's arithmetic (bench/cost.py): what a run's seconds and peak cost at each memory size.

The runs here are written out, not measured: the table must price what was measured, on the threads
the worker would paint on, and call a size too small exactly when the job would set off the memory
alarm.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.cost import MEMORY_ALARM_SHARE, USD_PER_GB_SECOND, cost_rows, seconds_at, table, write_doc
from stylemixer.resources import LAMBDA_MB_PER_VCPU, WORKER_MEMORY_MB


def _run(threads: int, seconds: float, cpu_seconds: float, peak_mb: int = 1000) -> dict[str, Any]:
    return {
        "megapixels": 12.0,
        "job": "preset",
        "stroke": "fine",
        "threads": threads,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_mb": peak_mb,
    }


RUNS = {1: _run(1, 8.0, 8.0), 2: _run(2, 5.0, 9.6)}


def test_one_vcpu_takes_the_one_thread_run() -> None:
    assert seconds_at(LAMBDA_MB_PER_VCPU, RUNS) == (8.0, 1)


def test_two_vcpus_or_more_take_the_two_thread_run() -> None:
    assert seconds_at(2 * LAMBDA_MB_PER_VCPU, RUNS) == (5.0, 2)
    assert seconds_at(10240, RUNS) == (5.0, 2)


def test_fewer_vcpus_than_threads_spread_the_cpu_seconds_over_the_vcpus_there_are() -> None:
    # 1.7 vCPUs paint on two threads (rounded), but 9.6 CPU seconds take 9.6 / 1.7 s there
    seconds, threads = seconds_at(3008, RUNS)
    assert threads == 2
    assert seconds == pytest.approx(9.6 / (3008 / LAMBDA_MB_PER_VCPU))


def test_a_picture_is_priced_by_its_gb_seconds() -> None:
    (row,) = cost_rows(list(RUNS.values()))
    seconds, usd = row["prices"][WORKER_MEMORY_MB]
    assert seconds == 5.0
    assert usd == pytest.approx(5.0 * WORKER_MEMORY_MB / 1024 * USD_PER_GB_SECOND)


def test_a_size_whose_alarm_the_peak_would_pass_is_too_small() -> None:
    limit = MEMORY_ALARM_SHARE * 3008
    fits = cost_rows([_run(1, 8.0, 8.0, peak_mb=int(limit)), _run(2, 5.0, 8.4, peak_mb=int(limit))])
    heavy = cost_rows([_run(1, 8.0, 8.0, peak_mb=int(limit) + 1), _run(2, 5.0, 8.4, peak_mb=int(limit) + 1)])
    assert fits[0]["prices"][3008] is not None
    assert heavy[0]["prices"][3008] is None
    assert "too small" in table(heavy)


def test_the_table_goes_between_the_documents_markers(tmp_path, monkeypatch) -> None:
    from bench import cost

    doc = tmp_path / "operators.md"
    doc.write_text(f"before\n{cost.BEGIN}\nold table\n{cost.END}\nafter\n", encoding="utf-8")
    monkeypatch.setattr(cost, "DOC", doc)
    write_doc("new table")
    assert doc.read_text(encoding="utf-8") == f"before\n{cost.BEGIN}\nnew table\n{cost.END}\nafter\n"
