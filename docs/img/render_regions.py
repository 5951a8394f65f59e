"""Render the pictures of docs/regions.md: the regions mix before and after each style was painted alone.

    PYTHONPATH=. .venv/bin/python docs/img/render_regions.py [--before 7e6d290]

For the Style Mixer paper's three cases (m1, m2, m3) and one case the regions mix was not tuned on,
one sheet each, ``regions-<case>.jpg``: the regions mix and its region map as the engine at the
commit ``--before`` made them (top row), as this checkout makes them (middle row), and each style
painted alone over the whole photo (bottom row). ``regions-methods.jpg``: the two ways of painting
measured in ``bench/regions_looks.py`` side by side on m1 and m2 (each style painted alone and
composited, as kept; one pass with each style normalised over its own region). The photos and
paintings are the shared test pictures (``../shared/testdata``, never copied into the project): the
sheets show only our own stylized outputs and region maps. The "before" engine is that commit's
tree (``git archive``) run in its own process with this checkout's converted weights.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

from bench.regions_looks import region_norm, weights_at
from stylemixer.images import read_image
from stylemixer.neural.engine import Engine
from stylemixer.neural.weights import ENV_WEIGHTS, default_weights_path
from stylemixer.options import StylizeOptions
from stylemixer.styles import ImageStyle

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TESTDATA = ROOT.parent / "shared" / "testdata"
TILE = 200  # tile height, px (taller for pictures narrower than 3:2, so each tile is 300 px wide)
#: case -> (photo, styles), paths under the shared test data.
CASES = {
    "m1": ("multistyle/m1/c.jpg", ("multistyle/m1/s1.jpg", "multistyle/m1/s2.jpg")),
    "m2": ("multistyle/m2/c.jpg", ("multistyle/m2/s1.jpg", "multistyle/m2/s2.jpg")),
    "m3": ("multistyle/m3/c.jpg", ("multistyle/m3/s1.jpg", "multistyle/m3/s2.jpg")),
    "bridge": ("photos/golden_gate.jpg", ("styles/brushstrokes.jpg", "styles/mondrian_cropped.jpg")),
}
#: Run by the "before" engine in its own process: argv[1] the output folder, then case, photo, styles...
BEFORE = """
import sys
from pathlib import Path
from stylemixer.images import read_image
from stylemixer.neural.engine import Engine
from stylemixer.options import StylizeOptions
from stylemixer.styles import ImageStyle
out, case, photo, *styles = sys.argv[1:]
result = Engine.default().stylize(
    read_image(Path(photo)), [ImageStyle(read_image(Path(s))) for s in styles], StylizeOptions(mix="regions")
)
result.image.save(Path(out) / f"{case}-picture.png")
result.regions.convert("RGB").save(Path(out) / f"{case}-map.png")
"""


def _label(img: Image.Image, text: str) -> Image.Image:
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 8 + 6 * len(text), 16), fill=(0, 0, 0))
    draw.text((4, 2), text, fill=(255, 255, 255))
    return img


def _tile(img: Image.Image, text: str) -> Image.Image:
    height = max(TILE, round(300 * img.height / img.width))
    width = round(img.width * height / img.height)
    return _label(img.convert("RGB").resize((width, height), Image.Resampling.LANCZOS), text)


def render_before(commit: str, work: Path) -> None:
    """The regions mix of every case as the engine at ``commit`` made it, into ``work``."""
    tree = work / "tree"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    env = {**os.environ, "PYTHONPATH": str(tree), ENV_WEIGHTS: str(default_weights_path())}
    for case, (photo, styles) in CASES.items():
        paths = [str(TESTDATA / photo), *(str(TESTDATA / s) for s in styles)]
        subprocess.run([sys.executable, "-c", BEFORE, str(work), case, *paths], env=env, check=True, cwd=work)


def render_sheet(engine: Engine, case: str, before: Path, label: str) -> None:
    photo_path, style_paths = CASES[case]
    photo = read_image(TESTDATA / photo_path)
    styles = [ImageStyle(read_image(TESTDATA / s)) for s in style_paths]
    after = engine.stylize(photo, styles, StylizeOptions(mix="regions"))
    assert after.regions is not None
    rows = [
        [
            _tile(Image.open(before / f"{case}-picture.png"), f"before ({label})"),
            _tile(Image.open(before / f"{case}-map.png"), "before: region map"),
        ],
        [_tile(after.image, "now"), _tile(after.regions, "now: region map")],
        [_tile(engine.stylize(photo, [s]).image, f"s{i + 1} alone") for i, s in enumerate(styles)],
    ]
    width = max(sum(t.width for t in row) for row in rows)
    height = rows[0][0].height
    sheet = Image.new("RGB", (width, height * len(rows)), "white")
    for r, row in enumerate(rows):
        x = 0
        for tile in row:
            sheet.paste(tile, (x, r * height))
            x += tile.width
    sheet.save(HERE / f"regions-{case}.jpg", quality=82, optimize=True)


def render_methods(engine: Engine) -> None:
    rows = []
    for case in ("m1", "m2"):
        photo_path, style_paths = CASES[case]
        photo = read_image(TESTDATA / photo_path)
        styles = [ImageStyle(read_image(TESTDATA / s)) for s in style_paths]
        composite = engine.stylize(photo, styles, StylizeOptions(mix="regions")).image
        normed = Image.fromarray(region_norm(engine, photo, styles, weights_at(engine, photo, styles)))
        rows.append(
            [
                _tile(composite, f"{case}: each style alone, composited (kept)"),
                _tile(normed, f"{case}: one pass, each style's own region statistics"),
            ]
        )
    width = max(sum(t.width for t in row) for row in rows)
    sheet = Image.new("RGB", (width, sum(row[0].height for row in rows)), "white")
    y = 0
    for row in rows:
        x = 0
        for tile in row:
            sheet.paste(tile, (x, y))
            x += tile.width
        y += row[0].height
    sheet.save(HERE / "regions-methods.jpg", quality=82, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", default="7e6d290", help="the commit whose regions mix is 'before'")
    args = parser.parse_args()
    engine = Engine.default()
    with tempfile.TemporaryDirectory() as tmp:
        render_before(args.before, Path(tmp))
        for case in CASES:
            render_sheet(engine, case, Path(tmp), args.before)
    render_methods(engine)


if __name__ == "__main__":
    main()
