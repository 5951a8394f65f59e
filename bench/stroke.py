"""Stroke size, measured: the share of fine detail per photo size and stroke, and the working sizes.

For the photos of tests/unit/test_stroke.py (640, 800 and 1680 px, landscapes and portraits), each
style, and each stroke size, prints the share of the output's luminance variance in detail finer
than a Gaussian blur of σ = 2 px (:func:`tests.support.strokes.fine_detail_share`) and the fall from
fine to medium and from medium to coarse; then the working sizes chosen for typical picture sizes.
By default one preset and one painting (those of the test); ``--all`` runs the 26 presets and every
painting in the test data.

    python -m bench.stroke [--all] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys

TYPICAL_SIZES = [(4624, 3468), (4000, 3000), (1920, 1080), (1280, 853), (1024, 683), (800, 534), (640, 427)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--all", action="store_true", help="every preset and every painting")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    from bench import TESTDATA
    from stylemixer.images import read_image
    from stylemixer.neural.engine import Engine
    from stylemixer.neural.stroke import working_size
    from stylemixer.neural.weights import load_networks
    from stylemixer.options import Stroke, StylizeOptions
    from stylemixer.presets import PRESETS
    from stylemixer.styles import ImageStyle, PresetStyle, Style
    from tests.support.strokes import STROKE_PHOTOS, fine_detail_share

    engine = Engine(load_networks(threads=args.threads))
    styles: dict[str, Style] = {"tapestry": PresetStyle("tapestry")}
    paintings = sorted((TESTDATA / "styles").glob("*")) if args.all else [TESTDATA / "styles" / "la_muse.jpg"]
    if args.all:
        styles = {p.id: PresetStyle(p.id) for p in PRESETS}
    styles |= {path.name: ImageStyle(read_image(path)) for path in paintings}

    print(f"{'photo':15} {'style':26} " + " ".join(f"{s:>7}" for s in Stroke) + "   fall f→m  fall m→c")
    failures = 0
    for photo_name, make in STROKE_PHOTOS.items():
        photo = make()
        for style_name, style in styles.items():
            shares = [
                fine_detail_share(engine.stylize(photo, [style], StylizeOptions(stroke=s)).image)
                for s in Stroke
            ]
            falls = [1 - shares[1] / shares[0], 1 - shares[2] / shares[1]]
            ok = min(falls) >= 0.10
            failures += not ok
            print(
                f"{photo_name:15} {style_name:26} "
                + " ".join(f"{v:7.3f}" for v in shares)
                + f"   {falls[0]:8.0%}  {falls[1]:8.0%}"
                + ("" if ok else "   < 10 %"),
                flush=True,
            )
    pairs = len(styles) * len(STROKE_PHOTOS)
    print(f"\n{failures} of {pairs} (photo, style) pairs fall by less than 10 % at a step")
    print("\nworking size per stroke:")
    for size in TYPICAL_SIZES:
        print(f"  {size[0]} x {size[1]}: " + ", ".join(f"{s} {working_size(size, s)}" for s in Stroke))
    return 0


if __name__ == "__main__":
    sys.exit(main())
