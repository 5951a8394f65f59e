"""Benchmark: many photos in one ``stylemixer stylize`` run, against the engine's own time on them.

Twenty photos of about one megapixel (1152 x 864 crops of the test photos, turned and flipped so no
two are the same) are painted by one run of the installed console script, timed from its start to
its exit: importing torch, reading the weights, decoding and writing every picture included. The
figure is that wall time over the sum of the ``stylize_seconds`` the run reports per photo (the
engine's time alone). One more run paints a single photo, to show what a process per photo costs.
Writes ``bench/batch_results.json`` and prints the figures.

    make bench                      # or:
    python -m bench.batch [--photos 20] [--style tapestry]

Needs the test photos in ``../shared/testdata/photos``; the crops are written to a temporary folder
and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from bench import ROOT, TESTDATA

PHOTOS = TESTDATA / "photos"
RESULTS = ROOT / "bench" / "batch_results.json"
SCRIPT = Path(sys.executable).with_name("stylemixer")
#: About one megapixel, in the 4:3 shape of most cameras.
SIZE = (1152, 864)


def make_photos(folder: Path, count: int) -> list[Path]:
    """``count`` different ~1 MP JPEGs cut from the test photos (crops at four places, some turned)."""
    sources = sorted(PHOTOS.glob("*.jpg"))
    if not sources:
        raise SystemExit(f"no test photos in {PHOTOS}")
    photos = []
    for number in range(count):
        with Image.open(sources[number % len(sources)]) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
        variant = number // len(sources)
        size = SIZE if variant % 2 == 0 else SIZE[::-1]
        image = ImageOps.fit(image, size, Image.Resampling.LANCZOS, centering=((variant * 0.3) % 1, 0.5))
        if variant >= 2:
            image = ImageOps.mirror(image)
        path = folder / f"photo-{number:02d}.jpg"
        image.save(path, quality=90)
        photos.append(path)
    return photos


def run_cli(
    photos: list[Path], out: Path, style: str, stroke: str | None = None
) -> tuple[float, list[dict[str, Any]]]:
    """Wall seconds of one ``stylemixer stylize`` run over ``photos``, and its JSON lines."""
    command = [str(SCRIPT), "stylize", *map(str, photos), "-o", f"{out}/", "--style", style, "--json"]
    if stroke:
        command += ["--stroke", stroke]
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"stylemixer stylize failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, [json.loads(line) for line in proc.stdout.splitlines()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--style", default="tapestry")
    parser.add_argument("--stroke", choices=["fine", "medium", "coarse"], help="default: the engine's")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="stylemixer-batch-") as tmp:
        folder = Path(tmp)
        photos = make_photos(folder, args.photos)
        wall, reports = run_cli(photos, folder / "out", args.style, args.stroke)
        single_wall, (single,) = run_cli(photos[:1], folder / "one", args.style, args.stroke)
    stylize = sum(r["stylize_seconds"] for r in reports)
    results = {
        "photos": len(reports),
        "megapixels_each": round(SIZE[0] * SIZE[1] / 1e6, 3),
        "style": args.style,
        "stroke": args.stroke or "default",
        "batch_wall_seconds": round(wall, 2),
        "sum_stylize_seconds": round(stylize, 2),
        "ratio": round(wall / stylize, 3),
        "one_photo_run": {
            "wall_seconds": round(single_wall, 2),
            "stylize_seconds": single["stylize_seconds"],
            "start_up_seconds": round(single_wall - single["stylize_seconds"], 2),
        },
        "per_photo_stylize_seconds": [r["stylize_seconds"] for r in reports],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    one = results["one_photo_run"]
    print(
        f"{results['photos']} photos of ~{results['megapixels_each']} MP in one run: {wall:.1f} s; "
        f"their stylize seconds sum to {stylize:.1f} s; ratio {results['ratio']:.3f} (goal <= 1.3).\n"
        f"One photo in a run of its own: {one['wall_seconds']} s, of which {one['start_up_seconds']} s "
        f"is not painting. Load average {results['load_average_before']} -> {results['load_average_after']}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
