"""Load: many jobs from concurrent clients against the local stack, counted to the last one.

Each client does what the page does, job after job: ``POST /api/uploads``, the file straight to the
presigned POST, ``POST /api/jobs``, then ``GET /api/jobs/<id>`` every ``--poll`` seconds until the
job is final. Each client's connections leave from a loopback address of its own (127.0.0.2, .3,
...), so the API's limits per client count each apart, as they would count ten people. The run is
bounded (``--jobs``, ``--clients``, ``--timeout``) and stops by itself; it talks to loopback only
(its own `stylemixer serve`, or ``--url`` if that is a loopback address).

One job runs first and is not counted (the cold starts); then ``GET /jobs`` is timed with the worker
idle, as a baseline. It reports jobs done, failed, lost (not final when time ran out, or gone),
duplicated (an id handed out twice, a job the worker started more than once, or a result object too
many, read from the stack's embedded table and bucket), throughput, and API latency p50 / p99 of
``GET /jobs`` while the worker is busy, and writes ``bench/load_results.json``.

    python -m bench.load                        # 100 jobs, 10 clients
    python -m bench.load --jobs 10 --clients 3  # the small version the tests run

Needs the test pictures in ``../shared/testdata/photos`` and the converted weights.
"""

from __future__ import annotations

import argparse
import io
import ipaddress
import json
import os
import platform
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests

from bench import ROOT, TESTDATA
from stylemixer import resources
from stylemixer.jobs.model import thumbnail_key
from stylemixer.page import site_config
from stylemixer.presets import PRESETS
from tests.support.clients import client_session, loopback_address

PHOTOS = TESTDATA / "photos"
RESULTS = ROOT / "bench" / "load_results.json"
LOG = ROOT / "artifacts" / "load" / "serve.log"
#: Goals from the reliability issue.
GOAL_P99_MS = 50.0
#: Clients poll as the page does (``poll_interval_ms`` of the site's config.json).
POLL_SECONDS = site_config("/api")["poll_interval_ms"] / 1000
#: WORKER_THREADS_WHY: deployed, the API and the worker are separate functions with their own CPUs.
#: The local stack runs both in one process; on a small machine torch's one-thread-per-core would
#: take every core from the API, so the run gives the worker one thread unless told otherwise.
#: Hard ceilings, so a typo cannot turn the script into a flood.
MAX_JOBS = 1000
#: Polls of one finished job, one after the other, before the run: the latency with the worker idle.
IDLE_SAMPLES = 50
MAX_CLIENTS = 50
MAX_TIMEOUT_SECONDS = 3600


@dataclass
class JobRecord:
    """One client job as the client saw it."""

    job_id: str | None = None
    status: str = "not submitted"
    error: str | None = None
    submitted_at: float | None = None
    finished_at: float | None = None


@dataclass
class Samples:
    """Request latencies in milliseconds, by route, with when each was taken (monotonic seconds)."""

    by_route: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, route: str, started: float, seconds: float) -> None:
        with self.lock:
            self.by_route.setdefault(route, []).append((started, seconds * 1000))


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in 0..1) of ``values``, or None when empty.

    Example:
        >>> percentile([1.0, 2.0, 3.0, 4.0], 0.5)
        2.0
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def check_loopback(url: str) -> None:
    """Refuse any address that is not this machine: the load goes to loopback only."""
    host = urlparse(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(
            f"refusing to load {url}: only loopback addresses (127.0.0.1, localhost) are allowed"
        )


def pictures(max_side: int = 384) -> list[bytes]:
    """The test photos as small JPEGs (the run measures the service, not the network)."""
    from PIL import Image

    paths = sorted(PHOTOS.glob("*.jpg"))
    if not paths:
        raise SystemExit(f"no test photos in {PHOTOS}: the shared test data lives beside the project")
    out = []
    for path in paths:
        with Image.open(path) as opened:
            img = opened.convert("RGB")
        img.thumbnail((max_side, max_side))
        buffer = io.BytesIO()
        img.save(buffer, format="JPEG", quality=88)
        out.append(buffer.getvalue())
    return out


class Client:
    """One person's browser: a session, and the steps of the page for each job."""

    def __init__(
        self, api: str, samples: Samples, *, poll: float, max_size: int, deadline: float, address: str
    ) -> None:
        self.api = api
        self.samples = samples
        self.poll = poll
        self.max_size = max_size
        self.deadline = deadline
        self.session = client_session(address)
        self.storage_url: str | None = None

    def call(self, route: str, method: str, url: str, **kwargs: Any) -> requests.Response:
        started = time.monotonic()
        response = self.session.request(method, url, timeout=30, **kwargs)
        self.samples.add(route, started, time.monotonic() - started)
        return response

    def run_job(self, number: int, photo: bytes, record: JobRecord) -> None:
        """Upload, submit and follow one job; the record says how far it got."""
        try:
            self._run(number, photo, record)
        except requests.RequestException as exc:
            record.status, record.error = "client error", type(exc).__name__

    def _run(self, number: int, photo: bytes, record: JobRecord) -> None:
        ticket = self.call(
            "POST /uploads",
            "POST",
            self.api + "/uploads",
            json={"purpose": "content", "content_type": "image/jpeg", "size": len(photo)},
        )
        if ticket.status_code != 201:
            record.status, record.error = "refused", f"uploads {ticket.status_code}"
            return
        body = ticket.json()
        check_loopback(body["url"])
        self.storage_url = body["url"]
        posted = self.session.post(
            body["url"], data=body["fields"], files={"file": ("photo.jpg", photo, "image/jpeg")}, timeout=30
        )
        if posted.status_code not in (200, 201, 204):
            record.status, record.error = "refused", f"storage {posted.status_code}"
            return
        preset = PRESETS[number % len(PRESETS)].id
        submitted = self.call(
            "POST /jobs",
            "POST",
            self.api + "/jobs",
            json={"content": body["upload_id"], "styles": [{"preset": preset}], "max_size": self.max_size},
        )
        if submitted.status_code != 202:
            record.status, record.error = "refused", f"jobs {submitted.status_code}"
            return
        record.job_id = submitted.json()["job_id"]
        record.submitted_at = time.monotonic()
        record.status = "queued"
        while time.monotonic() < self.deadline:
            time.sleep(self.poll)
            answer = self.call("GET /jobs/{id}", "GET", f"{self.api}/jobs/{record.job_id}")
            if answer.status_code != 200:
                record.status, record.error = "gone", f"status {answer.status_code}"
                return
            job = answer.json()
            record.status = job["status"]
            if record.status in ("succeeded", "failed"):
                record.finished_at = time.monotonic()
                if record.status == "failed":
                    record.error = (job.get("error") or {}).get("code")
                return


def inspect_storage(
    storage_url: str, job_ids: list[str], operator_keys: tuple[str, str], warm_up_id: str | None = None
) -> dict[str, Any]:
    """Read the stack's embedded table and bucket: attempts per job and result objects per job.

    IAM is enforced there: ``operator_keys`` are the ones ``stylemixer serve`` prints. The warm-up
    job is left out of every figure.
    """
    from stylemixer.local.iam import Credentials

    endpoint = f"{urlparse(storage_url).scheme}://{urlparse(storage_url).netloc}"
    check_loopback(endpoint)
    operator = Credentials(*operator_keys)
    dynamodb = operator.client("dynamodb", endpoint)
    s3 = operator.client("s3", endpoint)
    attempts: dict[str, int] = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=resources.JOBS_TABLE):
        for item in page["Items"]:
            job_id = item[resources.TABLE_PARTITION_KEY]["S"]
            if job_id != warm_up_id:
                attempts[job_id] = int(item.get("attempts", {}).get("N", "0"))
    results: dict[str, int] = {}
    thumbnails = 0
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=resources.DATA_BUCKET, Prefix=resources.RESULTS_PREFIX
    ):
        for obj in page.get("Contents", []):
            job_id = obj["Key"][len(resources.RESULTS_PREFIX) :].split(".")[0]
            if job_id == warm_up_id:
                continue
            if obj["Key"] == thumbnail_key(job_id):  # each picture's small copy, counted apart
                thumbnails += 1
            else:
                results[job_id] = results.get(job_id, 0) + 1
    return {
        "jobs_in_table": len(attempts),
        "started_more_than_once": sorted(j for j in job_ids if attempts.get(j, 0) > 1),
        "never_started": sorted(j for j in job_ids if attempts.get(j, 0) == 0),
        "result_objects": sum(results.values()),
        "thumbnails": thumbnails,
        "jobs_with_extra_results": sorted(j for j, n in results.items() if n > 1),
        "results_of_unknown_jobs": sorted(j for j in results if j not in set(job_ids)),
    }


def run_load(
    api: str,
    *,
    jobs: int,
    clients: int,
    timeout: float,
    poll: float = POLL_SECONDS,
    max_size: int = 256,
    operator_keys: tuple[str, str] | None = None,
    photos: list[bytes] | None = None,
) -> dict[str, Any]:
    """Run the load against ``api`` (``http://127.0.0.1:PORT/api``) and return the report.

    ``operator_keys`` (printed by ``stylemixer serve``) let the report count what the embedded AWS
    holds (attempts, result objects); without them that part is left out. ``photos`` (JPEG bytes)
    default to the real test photos (:func:`pictures`).

    Example:
        >>> run_load("http://127.0.0.1:8000/api", jobs=10, clients=3, timeout=120, operator_keys=keys)["done"]
        10
    """
    check_loopback(api)
    if not (0 < jobs <= MAX_JOBS and 0 < clients <= MAX_CLIENTS and 0 < timeout <= MAX_TIMEOUT_SECONDS):
        raise SystemExit(f"bounds: 1..{MAX_JOBS} jobs, 1..{MAX_CLIENTS} clients, 1..{MAX_TIMEOUT_SECONDS} s")
    photos = photos or pictures()
    # One job first, not counted: the API's and the worker's cold starts (imports, weights) are not
    # what the run measures.
    warm = JobRecord()
    Client(
        api,
        Samples(),
        poll=poll,
        max_size=max_size,
        deadline=time.monotonic() + timeout,
        address=loopback_address(0),
    ).run_job(0, photos[0], warm)
    if warm.status != "succeeded":
        raise SystemExit(
            f"the warm-up job did not succeed ({warm.status}, {warm.error}); is the stack healthy?"
        )
    idle = Samples()
    baseline = Client(
        api, idle, poll=0, max_size=max_size, deadline=time.monotonic() + timeout, address=loopback_address(0)
    )
    for _ in range(IDLE_SAMPLES):
        baseline.call("GET /jobs/{id}", "GET", f"{api}/jobs/{warm.job_id}")
    idle_ms = [ms for _, ms in idle.by_route["GET /jobs/{id}"]]
    load_before = os.getloadavg()
    samples = Samples()
    records = [JobRecord() for _ in range(jobs)]
    started = time.monotonic()
    deadline = started + timeout
    storage_url: list[str] = []

    def client_loop(index: int) -> None:
        client = Client(
            api, samples, poll=poll, max_size=max_size, deadline=deadline, address=loopback_address(index + 1)
        )
        for number in range(index, jobs, clients):  # each client runs its share, one job at a time
            if time.monotonic() >= deadline:
                return
            client.run_job(number, photos[number % len(photos)], records[number])
        if client.storage_url:
            storage_url.append(client.storage_url)

    with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="client") as pool:
        list(pool.map(client_loop, range(clients)))
    wall = time.monotonic() - started

    ids = [r.job_id for r in records if r.job_id]
    done = [r for r in records if r.status == "succeeded"]
    failed = [r for r in records if r.status == "failed"]
    lost = [r for r in records if r.status not in ("succeeded", "failed")]
    storage = (
        inspect_storage(storage_url[0], ids, operator_keys, warm.job_id)
        if storage_url and operator_keys
        else {}
    )
    duplicated = (
        (len(ids) - len(set(ids)))
        + len(storage.get("started_more_than_once", []))
        + len(storage.get("jobs_with_extra_results", []))
        + len(storage.get("results_of_unknown_jobs", []))
    )
    # "While the worker is busy": polls between the first submission and the last job finishing.
    busy_from = min((r.submitted_at for r in records if r.submitted_at), default=started)
    busy_to = max((r.finished_at for r in records if r.finished_at), default=time.monotonic())
    polls = [ms for at, ms in samples.by_route.get("GET /jobs/{id}", []) if busy_from <= at <= busy_to]
    latency = {
        route: {
            "count": len(values),
            "p50_ms": _round(percentile([ms for _, ms in values], 0.50)),
            "p99_ms": _round(percentile([ms for _, ms in values], 0.99)),
            "max_ms": _round(max((ms for _, ms in values), default=None)),
        }
        for route, values in sorted(samples.by_route.items())
    }
    latency["GET /jobs/{id} with the worker idle"] = {
        "count": len(idle_ms),
        "p50_ms": _round(percentile(idle_ms, 0.50)),
        "p99_ms": _round(percentile(idle_ms, 0.99)),
        "max_ms": _round(max(idle_ms, default=None)),
    }
    latency["GET /jobs/{id} while busy"] = {
        "count": len(polls),
        "p50_ms": _round(percentile(polls, 0.50)),
        "p99_ms": _round(percentile(polls, 0.99)),
        "max_ms": _round(max(polls, default=None)),
    }
    durations = [r.finished_at - r.submitted_at for r in done if r.finished_at and r.submitted_at]
    p99 = latency["GET /jobs/{id} while busy"]["p99_ms"]
    report = {
        "jobs": jobs,
        "clients": clients,
        "max_size": max_size,
        "poll_seconds": poll,
        "warm_up_jobs": 1,
        "timeout_seconds": timeout,
        "done": len(done),
        "failed": len(failed),
        "failure_codes": sorted({r.error or "?" for r in failed}),
        "lost": len(lost),
        "lost_states": sorted({f"{r.status}{f' ({r.error})' if r.error else ''}" for r in lost}),
        "duplicated": duplicated,
        "storage": storage,
        "wall_seconds": round(wall, 2),
        "throughput_jobs_per_minute": round(len(done) / wall * 60, 2) if wall else None,
        "job_seconds_p50": _round(percentile(durations, 0.50), 2),
        "job_seconds_max": _round(max(durations, default=None), 2),
        "latency": latency,
        "goals": {
            "all_done": len(done) == jobs,
            "none_lost": not lost,
            "none_duplicated": duplicated == 0,
            "get_jobs_p99_within_50_ms": p99 is not None and p99 <= GOAL_P99_MS,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # Other work on the machine competes for the same cores: the 1-minute load average.
            "load_average_before": round(load_before[0], 2),
            "load_average_after": round(os.getloadavg()[0], 2),
        },
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return report


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=900.0, help="stop after this many seconds")
    parser.add_argument(
        "--poll", type=float, default=POLL_SECONDS, help="seconds between polls of a job (the page's rate)"
    )
    parser.add_argument(
        "--worker-threads",
        type=int,
        default=1,
        help="torch threads of the stack's worker (0: one per core); see WORKER_THREADS_WHY",
    )
    parser.add_argument("--max-size", type=int, default=256, help="output size of every job")
    parser.add_argument("--url", help="a running stack on loopback (default: start one)")
    parser.add_argument(
        "--operator-keys",
        nargs=2,
        metavar=("KEY_ID", "SECRET"),
        help="with --url: the operator keys that stack printed, to count what its storage holds",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    with ExitStack() as stack:
        operator_keys = tuple(args.operator_keys) if args.operator_keys else None
        startup_seconds = None
        if args.url:
            base = args.url.rstrip("/") + "/"
        else:
            from stylemixer.local.process import served_stack

            env = dict(os.environ)
            if args.worker_threads > 0:
                env["OMP_NUM_THREADS"] = str(args.worker_threads)
            served = stack.enter_context(served_stack(LOG, python=sys.executable, timeout=60, env=env))
            base, operator_keys = served.url, served.operator_keys
            startup_seconds = round(served.startup_seconds, 2)
        check_loopback(base)
        print(f"load: {args.jobs} jobs from {args.clients} clients against {base}", flush=True)
        report = run_load(
            base + "api",
            jobs=args.jobs,
            clients=args.clients,
            timeout=args.timeout,
            poll=args.poll,
            max_size=args.max_size,
            operator_keys=operator_keys,  # type: ignore[arg-type]
        )
        report["worker_threads"] = args.worker_threads if not args.url else None
        # How long `stylemixer serve` took to print its ready line (the README promises 10 s)
        report["serve_startup_seconds"] = startup_seconds
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    busy = report["latency"]["GET /jobs/{id} while busy"]
    print(
        f"done {report['done']}/{report['jobs']}, failed {report['failed']}, lost {report['lost']}, "
        f"duplicated {report['duplicated']}; {report['throughput_jobs_per_minute']} jobs/min in "
        f"{report['wall_seconds']} s; GET /jobs while busy p50 {busy['p50_ms']} ms, p99 {busy['p99_ms']} ms "
        f"({busy['count']} polls)"
    )
    print("goals: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in report["goals"].items()))
    print(f"wrote {args.out}")
    return 0 if all(report["goals"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
