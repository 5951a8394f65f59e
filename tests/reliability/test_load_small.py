"""A small load run (10 jobs from 3 clients) on the local stack: all done, none lost, none twice.

The full run (100 jobs from 10 clients, with its latency goal) is ``python -m bench.load``; this is
the same script, small enough for every test run.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from bench.load import run_load
from stylemixer.local.process import served_stack
from tests.support.environment import STARTUP_PATIENCE_SECONDS
from tests.support.paths import ROOT
from tests.support.pictures import PHOTOS, sample_jpeg

if TYPE_CHECKING:
    from pathlib import Path


def test_ten_jobs_from_three_clients_all_finish_once(weights_path: Path) -> None:
    # Given the local stack, its worker on one torch thread as in the full run
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    log = ROOT / "artifacts" / "reliability" / "load-serve.log"
    with served_stack(log, python=sys.executable, timeout=STARTUP_PATIENCE_SECONDS, env=env) as stack:
        # When three clients upload, submit and poll ten jobs to the end
        report = run_load(
            stack.url + "api",
            jobs=10,
            clients=3,
            timeout=120,
            operator_keys=stack.operator_keys,
            photos=[sample_jpeg(name, max_side=384) for name in PHOTOS],
        )
    # Then every job succeeded once: none lost, none started twice, one result each
    assert (report["done"], report["failed"], report["lost"]) == (10, 0, 0), report
    assert report["duplicated"] == 0, report["storage"]
    assert report["storage"]["jobs_in_table"] == 10
    assert report["storage"]["result_objects"] == 10
    assert report["storage"]["thumbnails"] == 10
    assert report["latency"]["GET /jobs/{id} while busy"]["count"] >= 10
    assert "Traceback" not in log.read_text(encoding="utf-8")
