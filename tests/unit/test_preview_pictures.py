"""The preview's picture arithmetic (static_site/js/preview/resample.js) against Pillow's, with Node.

The preview is meant to paint what the job paints, so it must feed the networks the pixels the
engine feeds them: the photo reduced as ``stylemixer.images.fit_within`` reduces it, the painting's
centre square as ``square_crop`` makes it, colours kept and strength faded as the engine does.
Node runs the page's own module on real pictures; the bytes are compared with Pillow's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image

from stylemixer.images import fit_within
from stylemixer.neural.engine import keep_colors, square_crop
from tests.support.paths import ROOT
from tests.support.pictures import sample_photo

if TYPE_CHECKING:
    from pathlib import Path

MODULE = ROOT / "static_site" / "js" / "preview" / "resample.js"

RUN = """
import { readFileSync, writeFileSync } from "node:fs";
import * as pictures from "%s";
const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const src = { width: job.width, height: job.height, data: new Uint8Array(readFileSync(job.input)) };
const other = job.other ? { ...src, data: new Uint8Array(readFileSync(job.other)) } : null;
let out;
if (job.op === "fit") out = pictures.fitWithin(src, job.size);
if (job.op === "square") out = pictures.squareCrop(src, job.size);
if (job.op === "keep") out = pictures.keepColors(src, other);
if (job.op === "fade") out = pictures.fadeToPhoto(src, other, job.size);
writeFileSync(job.output, out.data);
console.log(JSON.stringify([out.width, out.height]));
"""


def run_js(
    tmp_path: Path, op: str, image: Image.Image, size: float, other: Image.Image | None = None
) -> Image.Image:
    """``op`` of resample.js on ``image`` (and ``other``), through Node; the result as a Pillow image."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (make setup needs it for the page)")
    script = tmp_path / "run.mjs"
    script.write_text(RUN % MODULE.as_uri(), encoding="utf-8")
    (tmp_path / "in.rgb").write_bytes(image.tobytes())
    job = {
        "op": op,
        "size": size,
        "width": image.width,
        "height": image.height,
        "input": str(tmp_path / "in.rgb"),
        "output": str(tmp_path / "out.rgb"),
    }
    if other is not None:
        (tmp_path / "other.rgb").write_bytes(other.tobytes())
        job["other"] = str(tmp_path / "other.rgb")
    (tmp_path / "job.json").write_text(json.dumps(job), encoding="utf-8")
    done = subprocess.run(
        [node, str(script), str(tmp_path / "job.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    width, height = json.loads(done.stdout)
    return Image.frombytes("RGB", (width, height), (tmp_path / "out.rgb").read_bytes())


def diff(a: Image.Image, b: Image.Image) -> np.ndarray:
    assert a.size == b.size
    return np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16))


def tall_hubble() -> Image.Image:
    """1000 x 872 turned on its side: a picture taller than wide."""
    return sample_photo("hubble").transpose(Image.Transpose.ROTATE_90)


@pytest.mark.parametrize(
    ("image", "size"),
    [
        (sample_photo("rocket"), 384),  # Lanczos alone
        (sample_photo("coffee"), 200),
        (tall_hubble(), 384),
    ],
    ids=["rocket", "coffee", "tall-hubble"],
)
def test_fit_within_is_pillows_bit_for_bit(tmp_path: Path, image: Image.Image, size: int) -> None:
    assert diff(run_js(tmp_path, "fit", image, size), fit_within(image, size)).max() == 0


def test_fit_within_with_a_box_reduction_first_is_within_one_level(tmp_path: Path) -> None:
    # More than three times too large: Pillow reduces by whole blocks first (reducing_gap=3)
    image = tall_hubble()  # 872 x 1000 -> 87 x 100
    got = run_js(tmp_path, "fit", image, 100)
    assert got.size == fit_within(image, 100).size
    assert diff(got, fit_within(image, 100)).max() <= 1


def test_square_crop_is_pillows_bit_for_bit(tmp_path: Path) -> None:
    image = sample_photo("hubble")
    assert diff(run_js(tmp_path, "square", image, 256), square_crop(image)).max() == 0


def test_keep_colors_and_fade_are_the_engines(tmp_path: Path) -> None:
    # Given a stylization (here the photo mirrored, so every pixel differs) and the photo
    small = fit_within(sample_photo("astronaut"), 128)
    painted = small.transpose(Image.Transpose.FLIP_LEFT_RIGHT)

    # Then keeping the colours differs from Pillow's fixed-point YCbCr by a few levels at most
    kept = run_js(tmp_path, "keep", painted, 0, other=small)
    assert diff(kept, keep_colors(painted, small)).max() <= 3
    assert diff(kept, keep_colors(painted, small)).mean() < 0.2
    # And the fade of strength is Pillow's blend exactly
    faded = run_js(tmp_path, "fade", small, 0.35, other=painted)
    assert diff(faded, Image.blend(small, painted, 0.35)).max() == 0
