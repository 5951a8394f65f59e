"""Benchmark: full resolution (bands), the regions mix, and the peak memory of a 16 MP run.

Adds its figures to ``bench/results.json`` (keeping what ``bench/run.py`` wrote there):

- ``single_1024_ms`` / ``regions_1024_ms``: one preset, and two presets mixed by region, on the same
  1024 x 1024 photo (median of warm runs, the two alternating run by run);
- ``untiled_2048_s_per_mp``: one whole pass at 2048 x 2048 (memory no object);
- ``tiled_2048_s_per_mp``: the same picture in bands under the default memory budget (4 MP);
- ``tiled_4096_s_per_mp``: 4096 x 4096 (16 MP) in bands at full resolution (``stroke="fine"``);
- ``default_4096_s_per_mp``: the same picture with the default stroke size (painted at 1448 px);
- ``tiled_4096_peak_rss_mb``: peak resident memory of the whole ``stylemixer stylize`` process on
  a 4096 x 4096 JPEG at full resolution (the kernel's own count, as ``/usr/bin/time -v`` reports);
  ``regions_4096_peak_rss_mb``: the same with the two presets mixed by region.

    python -m bench.full_res [--runs 5] [--threads 2] [--only regions,tiled_4096]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

from PIL import Image

from bench import ROOT, TESTDATA, use_lambda_openmp

PHOTO = TESTDATA / "photos" / "golden_gate.jpg"
RESULTS = ROOT / "bench" / "results.json"
PRESETS = ("swirling-night", "delft-engraving")


def square(side: int) -> Image.Image:
    """The benchmark photo, centre square, resized to ``side`` (upscaled past its 512 px for big sides)."""
    img = Image.open(PHOTO).convert("RGB")
    s = min(img.size)
    left, top = (img.width - s) // 2, (img.height - s) // 2
    return img.crop((left, top, left + s, top + s)).resize((side, side), Image.Resampling.LANCZOS)


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def median_alternating(fns: dict[str, Callable[[], Any]], runs: int) -> dict[str, float]:
    """Median seconds of each function, one warm-up each, then the functions alternating run by run."""
    for fn in fns.values():
        fn()
    seen: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            seen[name].append(timed(fn))
    return {name: statistics.median(values) for name, values in seen.items()}


#: Runs the command in its arguments and prints its peak RSS (KiB): a fresh parent per measurement,
#: since RUSAGE_CHILDREN keeps the largest child a process ever waited for.
_PEAK_OF_ONE_CHILD = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_rss_cli(side: int, styles: list[str] | None = None) -> float:
    """Peak RSS (MB) of one ``stylemixer stylize`` process on a ``side`` x ``side`` JPEG, full resolution
    (``styles``: its style arguments; by default the first preset alone)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.jpg", Path(tmp) / "out.jpg"
        square(side).save(src, quality=92)
        command = [sys.executable, "-m", "stylemixer.cli", "stylize", str(src), "-o", str(dst)]
        command += [*(styles or ["--style", PRESETS[0]]), "--stroke", "fine"]
        wrapped = [sys.executable, "-c", _PEAK_OF_ONE_CHILD, *command]
        out = subprocess.run(wrapped, check=True, cwd=ROOT, capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024


def measure_peaks(results: dict[str, Any], want: Callable[[str], bool]) -> None:
    """The whole CLI process's peak memory at 16 MP, one preset and two by region."""
    if want("tiled_4096_rss"):
        results["tiled_4096_peak_rss_mb"] = round(peak_rss_cli(4096), 1)
    if want("regions_4096_rss"):  # two presets by region
        by_region = ["--style", PRESETS[0], "--style", PRESETS[1], "--mix", "regions"]
        results["regions_4096_peak_rss_mb"] = round(peak_rss_cli(4096, by_region), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated: regions, untiled_2048, tiled_2048, ...")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not PHOTO.exists():
        print(f"the benchmark photo {PHOTO} is absent", file=sys.stderr)
        return 2
    only = {s for s in args.only.split(",") if s}
    use_lambda_openmp()

    import torch

    from stylemixer.neural.engine import Engine
    from stylemixer.neural.weights import load_networks
    from stylemixer.options import StylizeOptions
    from stylemixer.styles import PresetStyle

    nets = load_networks(threads=args.threads)
    torch.set_num_threads(args.threads)
    engine = Engine(nets)
    unbounded = Engine(nets, budget=1 << 40)
    fine = StylizeOptions(stroke="fine")
    one, two = [PresetStyle(PRESETS[0])], [PresetStyle(p) for p in PRESETS]
    results: dict[str, Any] = json.loads(args.output.read_text()) if args.output.exists() else {}
    mp = lambda side: side * side / 1e6  # noqa: E731

    def want(name: str) -> bool:
        return not only or name in only

    measure_peaks(results, want)
    if want("regions"):
        photo = square(1024)
        regions = StylizeOptions(mix="regions", stroke="fine")
        t = median_alternating(
            {
                "single": lambda: engine.stylize(photo, one, fine),
                "regions": lambda: engine.stylize(photo, two, regions),
            },
            args.runs,
        )
        results["single_1024_ms"] = round(t["single"] * 1000, 1)
        results["regions_1024_ms"] = round(t["regions"] * 1000, 1)
        results["regions_over_single_1024"] = round(t["regions"] / t["single"], 3)
    if want("untiled_2048") or want("tiled_2048"):
        photo = square(2048)
        t = median_alternating(
            {
                "untiled": lambda: unbounded.stylize(photo, one, fine),
                "tiled": lambda: engine.stylize(photo, one, fine),
            },
            max(3, args.runs // 2),
        )
        results["untiled_2048_s_per_mp"] = round(t["untiled"] / mp(2048), 3)
        results["tiled_2048_s_per_mp"] = round(t["tiled"] / mp(2048), 3)
    if want("tiled_4096"):
        photo = square(4096)
        t = median_alternating(
            {
                "fine": lambda: engine.stylize(photo, one, fine),
                "default": lambda: engine.stylize(photo, one, StylizeOptions()),
            },
            max(2, args.runs // 2),
        )
        results["tiled_4096_s_per_mp"] = round(t["fine"] / mp(4096), 3)
        results["default_4096_s_per_mp"] = round(t["default"] / mp(4096), 3)

    results["full_res_threads"] = args.threads
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    keys = [k for k in results if k.startswith(("single_", "regions_", "untiled_", "tiled_", "default_"))]
    width = max(len(k) for k in keys)
    for key in keys:
        print(f"{key:<{width}}  {results[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
