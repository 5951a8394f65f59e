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
  ``regions_4096_peak_rss_mb``: the same with the two presets mixed by region;
- the same for phone photos, at ``fine`` and at the default stroke, one preset and two by region:
  ``{tiled,regions}_{24,50}mp[_default]_peak_rss_mb`` (5712 x 4284 and 8160 x 6120), with each
  run's time per megapixel from the process's start to its exit (``*_cli_s_per_mp``);
- ``default_50mp_s_per_mp``: the engine alone on the 50 MP picture at the default stroke;
- ``bands_vs_one_pass_db``: a 2048 x 2048 picture cut as a 50 MP photo's plan cuts one (bands,
  kept tensors in half precision, the residual stage in bands) against one whole pass, PSNR.

    python -m bench.full_res [--runs 5] [--threads 2] [--only regions,tiled_4096,phone_50mp]
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
    return peak_and_time_cli(square(side), styles)[0]


def phone_sized(width: int, height: int) -> Image.Image:
    """The benchmark photo as a phone photo of ``width`` x ``height`` (cropped to its shape, upscaled)."""
    img = Image.open(PHOTO).convert("RGB")
    scale = min(img.width / width, img.height / height)
    w, h = round(width * scale), round(height * scale)
    left, top = (img.width - w) // 2, (img.height - h) // 2
    return img.crop((left, top, left + w, top + h)).resize((width, height), Image.Resampling.BICUBIC)


def peak_and_time_cli(
    picture: Image.Image, styles: list[str] | None = None, stroke: str | None = "fine"
) -> tuple[float, float]:
    """Peak RSS (MB) and wall seconds of one fresh ``stylemixer stylize`` process on ``picture`` as a
    JPEG, at full resolution (``styles``: its style arguments; by default the first preset alone;
    ``stroke``: None for the default)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.jpg", Path(tmp) / "out.jpg"
        picture.save(src, quality=92)
        command = [sys.executable, "-m", "stylemixer.cli", "stylize", str(src), "-o", str(dst)]
        command += [*(styles or ["--style", PRESETS[0]]), *(["--stroke", stroke] if stroke else [])]
        wrapped = [sys.executable, "-c", _PEAK_OF_ONE_CHILD, *command]
        started = time.perf_counter()
        out = subprocess.run(wrapped, check=True, cwd=ROOT, capture_output=True, text=True).stdout
        seconds = time.perf_counter() - started
    return int(out.split()[-1]) / 1024, seconds


BY_REGION = ["--style", PRESETS[0], "--style", PRESETS[1], "--mix", "regions"]
#: Phone photo sizes measured: iPhone's 24 MP default, and the 50 MP modes of other phones.
PHONE_SIZES = {"24mp": (5712, 4284), "50mp": (8160, 6120)}


def measure_peaks(results: dict[str, Any], want: Callable[[str], bool]) -> None:
    """The whole CLI process's peak memory at 16 MP, one preset and two by region; and on phone
    photos of 24 and 50 MP, at ``fine`` and the default stroke, each in a fresh process."""
    if want("tiled_4096_rss"):
        results["tiled_4096_peak_rss_mb"] = round(peak_rss_cli(4096), 1)
    if want("regions_4096_rss"):  # two presets by region
        results["regions_4096_peak_rss_mb"] = round(peak_rss_cli(4096, BY_REGION), 1)
    for name, (width, height) in PHONE_SIZES.items():
        if not want(f"phone_{name}"):
            continue
        picture = phone_sized(width, height)
        for kind, styles in (("tiled", None), ("regions", BY_REGION)):
            for stroke, suffix in (("fine", ""), (None, "_default")):
                peak, seconds = peak_and_time_cli(picture, styles, stroke)
                results[f"{kind}_{name}{suffix}_peak_rss_mb"] = round(peak, 1)
                results[f"{kind}_{name}{suffix}_cli_s_per_mp"] = round(seconds / (width * height / 1e6), 3)


def measure_phone_photos(results: dict[str, Any], want: Callable[[str], bool], engine: Any) -> None:
    """The engine alone on a 50 MP photo at the default stroke, and bands cut as for 50 MP against
    one pass (on a picture one pass fits)."""
    from stylemixer.options import StylizeOptions
    from stylemixer.styles import PresetStyle

    if want("phone_50mp"):
        photo = phone_sized(*PHONE_SIZES["50mp"])
        one = [PresetStyle(PRESETS[0])]
        t = median_alternating({"default": lambda: engine.stylize(photo, one, StylizeOptions())}, 1)
        results["default_50mp_s_per_mp"] = round(t["default"] / (photo.width * photo.height / 1e6), 3)
    if want("bands_vs_one_pass"):
        results["bands_vs_one_pass_db"] = round(bands_vs_one_pass(engine.networks, square(2048)), 1)


def bands_vs_one_pass(nets: Any, photo: Image.Image) -> float:
    """PSNR (dB) of ``photo`` painted in bands cut as a 50 MP photo's plan cuts one (kept tensors in
    half precision, the first layer computed twice, the residual stage in bands) against one pass."""
    import numpy as np
    import torch

    from stylemixer.neural.bands import BandPlan, paint_in_bands
    from stylemixer.presets import get_preset

    index = get_preset(PRESETS[0]).index
    u8 = torch.from_numpy(np.array(photo))
    weights = torch.zeros(26)
    weights[index] = 1.0
    with torch.inference_mode():
        whole = nets.multistyle(u8.permute(2, 0, 1).unsqueeze(0).float().div(255.0), weights)
        whole_rgb = whole[0].clamp(0, 1).mul(255).add(0.5).to(torch.uint8).permute(1, 2, 0).numpy()
        plan = BandPlan(rows=48, store_dtype=torch.float16, residual_rows=64)
        preset = torch.eye(26)[[index]]
        banded = paint_in_bands(nets.multistyle, u8, preset, torch.ones(1), plan=plan)
    mse = float(np.mean((banded.astype(np.float64) - whole_rgb.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * float(np.log10(255.0**2 / mse))


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

    measure_phone_photos(results, want, engine)

    results["full_res_threads"] = args.threads
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    keys = [
        k
        for k in results
        if k.startswith(("single_", "regions_", "untiled_", "tiled_", "default_", "bands_"))
    ]
    width = max(len(k) for k in keys)
    for key in keys:
        print(f"{key:<{width}}  {results[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
