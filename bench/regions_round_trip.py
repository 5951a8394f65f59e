"""A region map given back is kept: the round trip through the CLI, measured.

For each case the photo is painted with ``--mix regions --regions-out planned.png``, then painted
again with ``--regions-in planned.png --regions-out followed.png``; the figure is the share of
pixels on which ``followed.png`` equals ``planned.png``. The real photos come from
../shared/testdata (skipped when absent), the sample photos from scikit-image's data.

    PYTHONPATH=. .venv/bin/python bench/regions_round_trip.py
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from tests.support.paths import TESTDATA
from tests.support.pictures import sample_painting_file, sample_photo_file


def cases() -> list[tuple[str, Path, list[str]]]:
    """(name, photo, styles) for every case whose files are at hand."""
    painting = str(sample_painting_file("scarlet-blaze"))
    found = [
        ("coffee (sample)", sample_photo_file("coffee"), ["grey-ink", painting]),
        ("hubble (sample)", sample_photo_file("hubble"), ["grey-ink", painting]),
        ("rocket at 3072 px", large_photo(), ["grey-ink", painting]),
    ]
    shared = TESTDATA
    if shared.is_dir():  # else no ../shared here: the sample photos only
        found += [
            ("cornell", shared / "photos/cornell.jpg", ["grey-ink", str(shared / "styles/la_muse.jpg")]),
            (
                "chicago",
                shared / "photos/chicago.jpg",
                ["swirling-night", str(shared / "styles/sketch.png"), "tapestry"],
            ),
            (
                "m1",
                shared / "multistyle/m1/c.jpg",
                [str(shared / "multistyle/m1/s1.jpg"), str(shared / "multistyle/m1/s2.jpg")],
            ),
        ]
    return found


def large_photo(side: int = 3072) -> Path:
    """The rocket sample photo brought up to ``side`` px on its long side (a camera-sized picture)."""
    path = Path(tempfile.gettempdir()) / f"stylemixer-round-trip-rocket-{side}.jpg"
    if not path.exists():
        photo = Image.open(sample_photo_file("rocket"))
        scale = side / max(photo.size)
        size = (round(photo.width * scale), round(photo.height * scale))
        photo.resize(size, Image.Resampling.LANCZOS).save(path, quality=92)
    return path


def round_trip(photo: Path, styles: list[str], folder: Path) -> float:
    """The share of pixels on which the map painted along equals the map given."""
    style_args = [arg for style in styles for arg in ("--style", style)]
    cli = [sys.executable, "-m", "stylemixer.cli", "stylize", str(photo), *style_args, "--mix", "regions"]
    planned, followed = folder / "planned.png", folder / "followed.png"
    subprocess.run([*cli, "-o", str(folder / "a.jpg"), "--regions-out", str(planned)], check=True)
    subprocess.run(
        [*cli, "-o", str(folder / "b.jpg"), "--regions-in", str(planned), "--regions-out", str(followed)],
        check=True,
    )
    with Image.open(planned) as given, Image.open(followed) as got:
        return float((np.asarray(given) == np.asarray(got)).mean())


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)
    for name, photo, styles in cases():
        with tempfile.TemporaryDirectory() as folder:
            agreement = round_trip(photo, styles, Path(folder))
        with Image.open(photo) as img:
            size = f"{img.width} x {img.height}"
        print(f"{name:<18} {size:>11}  {len(styles)} styles  agreement {agreement * 100:.2f} %", flush=True)


if __name__ == "__main__":
    main()
