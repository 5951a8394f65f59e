"""A region map given back is followed: the round trip through ``--regions-out`` and ``--regions-in``
keeps the map, a map drawn by hand is painted as drawn, and a bad map is one line, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image

from stylemixer.regionmap import with_palette
from tests.support.catalogue import region_map
from tests.support.paths import ROOT, testdata_path
from tests.support.pictures import sample_painting_file, sample_photo_file

if TYPE_CHECKING:
    from pathlib import Path

#: The least share of pixels on which the map painted along equals the map given.
ROUND_TRIP_AGREEMENT = 0.99


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stylemixer.cli", "stylize", *args],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
    )  # fmt: skip


def _refused(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    for word in words:
        assert word.lower() in line.lower(), line


def _numbers(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        assert img.mode == "P"
        return np.asarray(img)


def _round_trip(tmp_path: Path, photo: Path, styles: list[str]) -> float:
    """Paint ``photo`` with the regions mix, give its map back, and return the share of pixels on
    which the second painting's map equals the map given."""
    style_args = [arg for style in styles for arg in ("--style", style)]
    planned = tmp_path / "planned.png"
    first = _cli(str(photo), "-o", str(tmp_path / "first.jpg"), *style_args, "--mix", "regions",
                 "--regions-out", str(planned))  # fmt: skip
    assert first.returncode == 0, first.stderr
    followed = tmp_path / "followed.png"
    second = _cli(str(photo), "-o", str(tmp_path / "second.jpg"), *style_args, "--mix", "regions",
                  "--regions-in", str(planned), "--regions-out", str(followed), "--json")  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["regions"] == str(followed)
    given, got = _numbers(planned), _numbers(followed)
    assert given.shape == got.shape
    assert len(np.unique(given)) == len(styles)  # every style has a region to keep
    return float((given == got).mean())


@pytest.mark.usefixtures("weights_path")
@pytest.mark.parametrize(
    ("photo", "styles"),
    [
        ("cornell.jpg", ["grey-ink", "la_muse.jpg"]),
        ("chicago.jpg", ["swirling-night", "sketch.png", "tapestry"]),
    ],
)
def test_a_map_given_back_is_kept_on_real_photos(tmp_path: Path, photo: str, styles: list[str]) -> None:
    # Given a real photo, presets and real paintings
    resolved = [str(testdata_path("styles", s)) if "." in s else s for s in styles]
    # When it is painted, and painted again along the map the first painting wrote
    agreement = _round_trip(tmp_path, testdata_path("photos", photo), resolved)
    # Then the second painting's map is the map given on at least 99 % of the pixels
    assert agreement >= ROUND_TRIP_AGREEMENT, agreement


@pytest.mark.usefixtures("weights_path")
def test_a_map_given_back_is_kept_on_a_sample_photo(tmp_path: Path) -> None:
    agreement = _round_trip(
        tmp_path, sample_photo_file("coffee"), ["grey-ink", str(sample_painting_file("scarlet-blaze"))]
    )
    assert agreement >= ROUND_TRIP_AGREEMENT, agreement


@pytest.mark.usefixtures("weights_path")
def test_a_hand_drawn_rectangle_is_painted_as_drawn(tmp_path: Path) -> None:
    # Given a 600 x 400 photo and a map drawn small (60 x 40): a rectangle of the painting in the
    # middle, the preset around it
    numbers = np.zeros((40, 60), dtype=np.uint8)
    numbers[10:30, 15:45] = 1
    drawn = tmp_path / "drawn.png"
    with_palette(Image.fromarray(numbers, "L")).save(drawn)
    out, regions = tmp_path / "out.png", tmp_path / "regions.png"
    # When it is painted along that map
    proc = _cli(str(sample_photo_file("coffee")), "-o", str(out), "--style", "grey-ink",
                "--style", str(sample_painting_file("scarlet-blaze")), "--mix", "regions",
                "--regions-in", str(drawn), "--regions-out", str(regions))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # Then the output's map is the rectangle at the photo's size away from its edge (where the edge
    # may move onto the photo's own, a few pixels)
    got = _numbers(regions)
    assert got.shape == (400, 600)
    expected = np.zeros((400, 600), dtype=np.uint8)
    expected[100:300, 150:450] = 1
    margin = 12
    near_edge = np.zeros_like(expected, dtype=bool)
    for r0, r1, c0, c1 in ((100, 300, 150, 450),):
        near_edge[r0 - margin : r1 + margin, c0 - margin : c1 + margin] = True
        near_edge[r0 + margin : r1 - margin, c0 + margin : c1 - margin] = False
    assert (got[~near_edge] == expected[~near_edge]).all()
    assert (got == expected).mean() >= ROUND_TRIP_AGREEMENT


def test_without_the_regions_mix_a_map_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    # Given a map and a blend of two styles
    drawn = tmp_path / "map.png"
    drawn.write_bytes(region_map((60, 40)))
    out = tmp_path / "o.jpg"
    # When the CLI is asked to paint along the map
    proc = _cli(str(sample_photo_file("coffee")), "-o", str(out), "--style", "grey-ink",
                "--style", "tapestry", "--regions-in", str(drawn))  # fmt: skip
    # Then it is refused by the rule every entry asks (the engine's, the API's), nothing written
    _refused(proc, "regions mix (mix: regions)")
    assert not out.exists()


def test_one_map_for_several_photos_is_refused_before_anything_is_painted(tmp_path: Path) -> None:
    drawn = tmp_path / "map.png"
    drawn.write_bytes(region_map((60, 40)))
    photos = [str(sample_photo_file("coffee")), str(sample_photo_file("rocket"))]
    proc = _cli(*photos, "-o", str(tmp_path / "out") + "/", "--style", "grey-ink", "--style", "tapestry",
                "--mix", "regions", "--regions-in", str(drawn))  # fmt: skip
    _refused(proc, "one photo")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: region_map((60, 40), "RGB"), "colour"),
        (lambda: region_map((60, 40), right=2), "style number 2"),
        (lambda: region_map((40, 60)), "another picture"),
        (lambda: region_map((600, 400))[:300], "cut off"),
        ((ROOT / "static_site" / "presets" / "tapestry.jpg").read_bytes, "not a PNG"),
        (None, "no region map"),
    ],
    ids=["RGB", "value with no style", "other shape", "truncated", "JPEG", "missing"],
)
def test_a_bad_map_is_one_line_and_nothing_is_written(tmp_path: Path, make, words: str) -> None:
    # Given a 600 x 400 photo, two styles and a map that is wrong in one way
    drawn = tmp_path / "map.png"
    if make is not None:
        drawn.write_bytes(make())
    out, regions = tmp_path / "o.jpg", tmp_path / "r.png"
    # When it is given
    proc = _cli(str(sample_photo_file("coffee")), "-o", str(out), "--style", "grey-ink",
                "--style", "tapestry", "--mix", "regions", "--regions-in", str(drawn),
                "--regions-out", str(regions))  # fmt: skip
    # Then one line says what is wrong, and nothing is written
    _refused(proc, words)
    assert not out.exists()
    assert not regions.exists()
