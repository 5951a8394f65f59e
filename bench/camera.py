"""Benchmark: the Camera control's frame rate in headless Chromium with its fake camera.

The page is served by ``stylemixer serve``; a preset is chosen and the camera turned on; after a
warm-up (the runtime and the models loaded, the first frames drawn) the frames drawn on
``<canvas data-testid="camera-preview">`` are counted over ``--seconds``, at 256 px across, on the
preview's networks (onnxruntime-web, WASM, one thread per worker, two workers). Each style is run
``--rounds`` times on a fresh page; the median is reported with the machine's load average.
Writes ``bench/camera_results.json``.

    make bench                      # or:
    python -m bench.camera [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench import ROOT, served_page, write_results
from tests.support.browser import CAMERA_ARGS, CHROMIUM, DESKTOP

RESULTS = ROOT / "bench" / "camera_results.json"
STYLES = ("swirling-night", "tapestry")
SIZE = (
    "() => { const c = document.querySelector('[data-testid=camera-preview]'); return [c.width, c.height]; }"
)
FRAMES = "() => Number(document.querySelector('[data-testid=camera-preview]').dataset.frames || 0)"


def one_round(browser: Any, url: str, style: str, seconds: float) -> dict[str, Any]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_selector("[data-testid=style-option]")
        page.locator(f"[data-testid=style-option][data-style-id='{style}']").click()
        page.get_by_test_id("camera").click()
        page.wait_for_function(f"() => ({FRAMES})() >= 5", timeout=120_000)
        first = page.evaluate(FRAMES)
        started = time.monotonic()
        page.wait_for_timeout(seconds * 1000)
        frames = page.evaluate(FRAMES) - first
        took = time.monotonic() - started
        size = page.evaluate(SIZE)
        return {"style": style, "fps": round(frames / took, 2), "frames": frames, "size": size}
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    rounds: list[dict[str, Any]] = []
    with served_page("camera", timeout=60, args=CAMERA_ARGS) as (stack, browser):
        for _ in range(args.rounds):
            for style in STYLES:
                rounds.append(one_round(browser, stack.url, style, args.seconds))
                print(json.dumps(rounds[-1]), flush=True)
    results = {
        "what": "the Camera control in headless Chromium, fake camera, 256 px, two WASM workers",
        "seconds_counted": args.seconds,
        "median_fps": {s: statistics.median(r["fps"] for r in rounds if r["style"] == s) for s in STYLES},
        "rounds": rounds,
    }
    write_results(args.output, results, load_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
