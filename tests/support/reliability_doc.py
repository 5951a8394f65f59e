"""Write the generated parts of ``docs/reliability.md``: the bad-input catalogue, the error codes and
the load figures.

The catalogue table comes from :mod:`tests.support.catalogue` (the list the tests run), the codes
from :data:`stylemixer.errors.CODES` (each code's one definition), the load table from
``bench/load_results.json`` (what ``python -m bench.load`` last measured). Text between
``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` is replaced; everything else is left alone.
``tests/reliability/test_reliability_doc.py`` fails when the page is out of date.

    make reliability-doc                              # rewrite the doc, or:
    python -m tests.support.reliability_doc [--check] # --check: exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from stylemixer.errors import CODES
from stylemixer.options import option_specs
from tests.support.catalogue import all_cases, describe, kind_of
from tests.support.paths import ROOT

DOC = ROOT / "docs" / "reliability.md"
LOAD_RESULTS = ROOT / "bench" / "load_results.json"


def catalogue_table() -> str:
    """The catalogue as a Markdown table, one row per case, in the tests' order."""
    rows = ["| # | kind | case | outcome | proven by |", "|---|---|---|---|---|"]
    for number, case in enumerate(all_cases(), start=1):
        name = case.name.replace("|", "\\|")
        test = case.test if "[" in case.test else f"{case.test}[{case.name}]"  # the parametrized test's id
        rows.append(f"| {number} | {kind_of(case)} | {name} | {describe(case.expected)} | `{test}` |")
    return "\n".join(rows)


def codes_table() -> str:
    """Every error code with its status and when it is given, in the order they are defined."""
    rows = ["| code | status | when |", "|---|---|---|"]
    for refusal in CODES.values():
        status = refusal.status if refusal.status is not None else "(a job's reason)"
        rows.append(f"| `{refusal.code}` | {status} | {refusal.when} |")
    options = ", ".join(f"`{spec.code}`" for spec in option_specs())
    rows.append(f"| {options} | 400 | a bad value of that option (the code is made from its name) |")
    return "\n".join(rows)


def load_table(results: dict[str, Any]) -> str:
    """The load run's figures as a Markdown table."""
    busy = results["latency"]["GET /jobs/{id} while busy"]
    idle = results["latency"]["GET /jobs/{id} with the worker idle"]
    goals = results["goals"]

    def mark(ok: bool) -> str:
        return "met" if ok else "**not met**"

    machine = results["machine"]
    rows = [
        "| figure | value | goal |",
        "|---|---|---|",
        f"| jobs from clients | {results['jobs']} from {results['clients']} (max_size {results['max_size']}, "
        f"poll every {results['poll_seconds']} s, worker threads {results.get('worker_threads')}) | |",
        f"| done | {results['done']} | {results['jobs']}: {mark(goals['all_done'])} |",
        f"| failed | {results['failed']} | |",
        f"| lost | {results['lost']} | 0: {mark(goals['none_lost'])} |",
        f"| duplicated | {results['duplicated']} | 0: {mark(goals['none_duplicated'])} |",
        f"| wall time | {results['wall_seconds']} s | |",
        f"| throughput | {results['throughput_jobs_per_minute']} jobs/min | |",
        f"| job time p50 / max (submit to final) | {results['job_seconds_p50']} s / "
        f"{results['job_seconds_max']} s | |",
        f"| GET /jobs with the worker idle (baseline), p50 / p99 | {idle['p50_ms']} ms / "
        f"{idle['p99_ms']} ms | |",
        f"| GET /jobs while the worker is busy, p50 | {busy['p50_ms']} ms ({busy['count']} polls) | |",
        f"| GET /jobs while the worker is busy, p99 | {busy['p99_ms']} ms | <= 50 ms: "
        f"{mark(goals['get_jobs_p99_within_50_ms'])} |",
    ]
    for route in ("POST /uploads", "POST /jobs"):
        if route in results["latency"]:
            figures = results["latency"][route]
            rows.append(f"| {route} p50 / p99 | {figures['p50_ms']} ms / {figures['p99_ms']} ms | |")
    rows.append(
        f"| machine | {machine['cpus']} cores, load average {machine.get('load_average_before')} before, "
        f"{machine.get('load_average_after')} after; {results['when']} | |"
    )
    return "\n".join(rows)


def render(text: str, blocks: dict[str, str]) -> str:
    """``text`` with each marked block replaced by its new body."""
    for name, body in blocks.items():
        pattern = re.compile(rf"(<!-- {name}:begin -->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.DOTALL)
        if not pattern.search(text):
            raise SystemExit(f"{DOC} has no <!-- {name}:begin --> ... <!-- {name}:end --> block")
        text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    return text


def blocks() -> dict[str, str]:
    return {
        "catalogue": catalogue_table(),
        "codes": codes_table(),
        "load": load_table(json.loads(LOAD_RESULTS.read_text())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the doc is out of date")
    args = parser.parse_args(argv)
    current = DOC.read_text()
    wanted = render(current, blocks())
    if args.check:
        if wanted != current:
            print(f"{DOC} is out of date: run make reliability-doc", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
