"""Benchmark: what one picture costs the operator, through the worker's own job path.

Each run is a fresh process that does what a Lambda worker does with one job: the photo (a phone
photo's size, as a JPEG) and the painting are uploads in storage, the job is a record; the worker's
:func:`~stylemixer.jobs.worker.process_job` reads and decodes them under the limits, paints, encodes
and stores the result, with the real engine on ``--threads`` torch threads. In-memory storage keeps
the network out of the figure: S3 in the same region moves a 20 MB photo in well under a second.

Per run it records the job's wall seconds, the CPU seconds and the peak resident memory of the whole
process (the kernel's count, with torch and the weights loaded). From them it writes a table of the
cost per picture at each Lambda memory size: Lambda gives one vCPU per 1,769 MB, the worker paints
on the vCPUs its memory buys (:func:`stylemixer.jobs.usage.torch_threads`), and a job on fewer vCPUs
than threads takes its CPU seconds over the vCPUs it has. Sizes whose peak would pass the
``WorkerMemory`` alarm's share of the memory are marked too small.

    python -m bench.cost [--sizes 2,12,24,50] [--jobs preset,painting,regions] [--strokes medium,fine]
                         [--threads 1,2] [--write-doc] [--reprice]

Writes ``bench/cost_results.json``; with ``--write-doc`` also the table in docs/operators.md
(between its ``cost-table`` markers). ``--reprice`` prices the runs already in the results file
again (other memory sizes or prices) without measuring.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import ROOT, TESTDATA, use_lambda_openmp
from stylemixer.resources import LAMBDA_MB_PER_VCPU, WORKER_MALLOC_ARENA_MAX, WORKER_MEMORY_MB, lambda_vcpus

PHOTO = TESTDATA / "photos" / "chicago.jpg"
PAINTING = TESTDATA / "styles" / "la_muse.jpg"
PRESET = "soft-pastel"
RESULTS = ROOT / "bench" / "cost_results.json"
DOC = ROOT / "docs" / "operators.md"
BEGIN, END = "<!-- cost-table: begin (python -m bench.cost --write-doc) -->", "<!-- cost-table: end -->"
#: Lambda's price per GB-second on x86 in us-east-1 (the first 6 billion GB-seconds a month).
USD_PER_GB_SECOND = 0.0000166667
#: Memory sizes the table prices: one vCPU, 1.7, two, 2.9 and the largest (6), and the worker's
#: default (``cdk.json``'s ``worker_memory_mb``, from :data:`stylemixer.resources.WORKER_MEMORY_MB`).
MEMORY_SIZES_MB = tuple(
    sorted({LAMBDA_MB_PER_VCPU, 3008, 2 * LAMBDA_MB_PER_VCPU, 5120, 10240, WORKER_MEMORY_MB})
)
#: The WorkerMemory alarm's share: a size whose peak passes it would page the operator.
MEMORY_ALARM_SHARE = 0.85


def phone_photo(megapixels: float) -> bytes:
    """A real photo brought to ``megapixels`` at a phone's 4:3, as the JPEG a phone would send."""
    from PIL import Image

    width = round(math.sqrt(megapixels * 1e6 * 4 / 3))
    height = round(width * 3 / 4)
    img = Image.open(PHOTO).convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=90)
    return out.getvalue()


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(megapixels: float, job: str, stroke: str, threads: int) -> dict[str, Any]:
    """One job through the worker's path in this process; its figures."""
    from stylemixer.aws.fakes import InMemoryBlobStore, InMemoryJobRepository
    from stylemixer.jobs.model import Job, JobParams, StyleRef, new_id, upload_key, utcnow
    from stylemixer.jobs.worker import process_job
    from stylemixer.neural.engine import Engine
    from stylemixer.options import Mix, Stroke, StylizeOptions

    store, repo = InMemoryBlobStore(), InMemoryJobRepository()
    photo, painting = new_id(), new_id()
    store.write(upload_key("content", photo), phone_photo(megapixels), "image/jpeg")
    store.write(upload_key("style", painting), PAINTING.read_bytes(), "image/jpeg")
    styles = {
        "preset": (StyleRef(preset=PRESET),),
        "painting": (StyleRef(upload=painting),),
        "regions": (StyleRef(preset=PRESET), StyleRef(upload=painting)),
    }[job]
    options = StylizeOptions(stroke=Stroke(stroke), mix=Mix.REGIONS if job == "regions" else Mix.BLEND)
    now = utcnow()
    job_id = new_id()
    repo.create(Job(job_id, JobParams(photo, styles, options), now, now, 0))
    engine = Engine.default(threads=threads)  # torch and the weights, as a warm container has them
    cpu0, wall0 = time.process_time(), time.perf_counter()
    outcome = process_job(job_id, store=store, repo=repo, engine=lambda: engine, max_receives=1)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if outcome.status != "succeeded":
        raise SystemExit(f"the job did not succeed: {outcome}")
    return {
        "megapixels": megapixels,
        "job": job,
        "stroke": stroke,
        "threads": threads,
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_mb": round(peak_rss_mb()),
    }


def measure(megapixels: float, job: str, stroke: str, threads: int) -> dict[str, Any]:
    """:func:`child` in a fresh process (its own peak memory), on ``threads`` OpenMP threads, with the
    worker's heaps (``MALLOC_ARENA_MAX``, as the worker's function sets it: left alone, the peak of
    the same job varies by a tenth with how busy the CPU is)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": str(threads),
        "MALLOC_ARENA_MAX": WORKER_MALLOC_ARENA_MAX,
    }
    args = ["--child", f"{megapixels},{job},{stroke},{threads}"]
    proc = subprocess.run(
        [sys.executable, "-m", "bench.cost", *args],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"bench.cost child failed ({args}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def seconds_at(memory_mb: int, runs: dict[int, dict[str, Any]]) -> tuple[float, int]:
    """The job's seconds at ``memory_mb`` from the runs by thread count, and the threads it paints on.

    The worker paints on ``round(vcpus)`` threads (at most the measured counts); with fewer vCPUs
    than threads, the CPU seconds are spread over the vCPUs it has.
    """
    vcpus = lambda_vcpus(memory_mb)
    fitting = [t for t in runs if t <= max(1, round(vcpus))]
    threads = max(fitting) if fitting else min(runs)
    run = runs[threads]
    return max(run["seconds"], run["cpu_seconds"] / min(vcpus, threads)), threads


def cost_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per size, job and stroke: its peak and, per memory size, seconds and USD per picture."""
    groups: dict[tuple[float, str, str], dict[int, dict[str, Any]]] = {}
    for run in results:
        groups.setdefault((run["megapixels"], run["job"], run["stroke"]), {})[run["threads"]] = run
    rows = []
    for (megapixels, job, stroke), runs in groups.items():
        peak = max(r["peak_mb"] for r in runs.values())
        prices = {}
        for memory_mb in MEMORY_SIZES_MB:
            if peak > MEMORY_ALARM_SHARE * memory_mb:
                prices[memory_mb] = None
                continue
            seconds, _threads = seconds_at(memory_mb, runs)
            prices[memory_mb] = (round(seconds, 1), seconds * memory_mb / 1024 * USD_PER_GB_SECOND)
        rows.append(
            {"megapixels": megapixels, "job": job, "stroke": stroke, "peak_mb": peak, "prices": prices}
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The cost table as Markdown: seconds and USD per picture at each memory size."""
    head = "| photo | job | stroke | peak MB | " + " | ".join(f"{m:,} MB" for m in MEMORY_SIZES_MB) + " |"
    lines = [head, "|" + "---|" * (4 + len(MEMORY_SIZES_MB))]
    for row in rows:
        cells = []
        for memory_mb in MEMORY_SIZES_MB:
            price = row["prices"][memory_mb]
            cells.append("too small" if price is None else f"{price[0]} s, {price[1] * 1000:.2f} m$")
        lines.append(
            f"| {row['megapixels']:g} MP | {row['job']} | {row['stroke']} | {row['peak_mb']:,} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def write_doc(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    DOC.write_text(doc[:start] + "\n" + text + "\n" + doc[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2,12,24,50", help="megapixels, comma-separated")
    parser.add_argument("--jobs", default="preset,painting,regions")
    parser.add_argument("--strokes", default="medium,fine")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--write-doc", action="store_true", help="write the table into docs/operators.md")
    parser.add_argument("--reprice", action="store_true", help=f"price the runs in {RESULTS.name} again")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    use_lambda_openmp()
    if args.child:
        megapixels, job, stroke, threads = args.child.split(",")
        print(json.dumps(child(float(megapixels), job, stroke, int(threads))))
        return 0
    if args.reprice:
        text = table(cost_rows(json.loads(RESULTS.read_text(encoding="utf-8"))["runs"]))
        print(text)
        if args.write_doc:
            write_doc(text)
        return 0
    if not (PHOTO.is_file() and PAINTING.is_file()):
        print(f"bench needs the test pictures: {PHOTO} and {PAINTING}", file=sys.stderr)
        return 2

    from stylemixer.limits import MAX_PIXELS

    results = []
    for megapixels in (float(s) for s in args.sizes.split(",")):
        if megapixels * 1e6 > MAX_PIXELS:
            print(
                f"{megapixels:g} MP: past the largest picture accepted ({MAX_PIXELS / 1e6:.1f} MP), skipped"
            )
            continue
        for job in args.jobs.split(","):
            for stroke in args.strokes.split(","):
                for threads in (int(t) for t in args.threads.split(",")):
                    run = measure(megapixels, job, stroke, threads)
                    print(json.dumps(run), flush=True)
                    results.append(run)
    rows = cost_rows(results)
    text = table(rows)
    RESULTS.write_text(
        json.dumps({"runs": results, "date": time.strftime("%Y-%m-%d"), "load": os.getloadavg()}, indent=2)
        + "\n",
        encoding="utf-8",
    )
    print(text)
    if args.write_doc:
        write_doc(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
