"""Benchmark: the page's instant preview in headless Chromium against the local stack.

Each round opens the page in a fresh browser context (empty cache: the runtime and the models are
downloaded and compiled again, as on a first visit), chooses a photo, then a style, and times:

- ``first_preset_ms``: from the choice of a preset to the preview drawn (runtime, models, the
  photo's decoding included), and ``first_painting_ms`` the same with a painting of one's own;
- ``later_ms``: each later change, as the page follows it: another preset (a blend), a blend
  weight, strength and "keep colours" on presets; strength on a painting.

Times are the page's own (``performance.now()`` from the change to the drawing, read from the
canvas's ``data-*-ms``). Medians over the rounds are written to ``bench/preview_results.json`` with
the machine's load average before and after: on shared cores read them with it.

    make bench                               # or:
    python -m bench.preview [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from bench import ROOT, TESTDATA, served_page, write_results
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP
from tests.support.pageflow import add_painting, choose_photo, pick_preset
from tests.support.previewflow import after_change

PHOTO = TESTDATA / "photos" / "chicago.jpg"
PAINTING = TESTDATA / "styles" / "la_muse.jpg"
RESULTS = ROOT / "bench" / "preview_results.json"


def one_round(browser: Any, url: str) -> dict[str, float]:
    """A first visit: presets, then (in another fresh context) a painting."""
    figures: dict[str, float] = {}
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("[data-testid=style-option]")
    choose_photo(page, PHOTO)
    first = after_change(page, lambda: pick_preset(page, "swirling-night"))
    figures["first_preset_ms"] = float(first["firstMs"])
    steps = {
        "preset_blend": lambda: pick_preset(page, "grey-ink"),
        "blend_weight": lambda: page.locator("#chosen input[type=range]").first.fill("80"),
        "preset_strength": lambda: page.get_by_test_id("strength").fill("55"),
        "preset_keep_colours": lambda: page.locator("#preserve-color").check(),
    }
    for name, step in steps.items():
        figures[f"{name}_ms"] = float(after_change(page, step)["lastMs"])
    context.close()

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("[data-testid=style-option]")
    choose_photo(page, PHOTO)
    first = after_change(page, lambda: add_painting(page, PAINTING))
    figures["first_painting_ms"] = float(first["firstMs"])
    figures["painting_strength_ms"] = float(
        after_change(page, lambda: page.get_by_test_id("strength").fill("60"))["lastMs"]
    )
    figures["painting_strength_again_ms"] = float(
        after_change(page, lambda: page.get_by_test_id("strength").fill("80"))["lastMs"]
    )
    context.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not PHOTO.exists() or not PAINTING.exists():
        print(f"the benchmark pictures {PHOTO} and {PAINTING} are absent", file=sys.stderr)
        return 2
    if not CHROMIUM.exists():
        print(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium", file=sys.stderr)
        return 2

    load_before = os.getloadavg()
    rounds: list[dict[str, float]] = []
    with served_page("preview", timeout=30, args=CHROMIUM_ARGS) as (stack, browser):
        for i in range(args.rounds):
            rounds.append(one_round(browser, stack.url))
            print(f"round {i + 1}: {json.dumps(rounds[-1])}")
    medians = {name: round(statistics.median(r[name] for r in rounds)) for name in rounds[0]}
    results = {
        "what": "instant preview in headless Chromium (onnxruntime-web, WASM, one thread), 384 px",
        "photo": PHOTO.name,
        "painting": PAINTING.name,
        "rounds": args.rounds,
        "median_ms": medians,
        "max_ms": {name: round(max(r[name] for r in rounds)) for name in rounds[0]},
    }
    write_results(args.output, results, load_before)
    return 0


if __name__ == "__main__":
    sys.exit(main())
