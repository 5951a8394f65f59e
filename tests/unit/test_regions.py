"""The regions mix: styles go where they fit, every style shows, the same inputs give the same map."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image

from stylemixer.errors import InvalidRequestError
from stylemixer.images import read_image
from stylemixer.neural.regions import PALETTE, assign, kmeans
from stylemixer.options import StylizeOptions
from stylemixer.styles import ImageStyle, PresetStyle
from tests.support.paths import ROOT, testdata_path

if TYPE_CHECKING:
    from pathlib import Path

REGIONS = StylizeOptions(mix="regions")


def _halves(left: Image.Image, right: Image.Image, size: tuple[int, int] = (512, 384)) -> Image.Image:
    width, height = size
    photo = Image.new("RGB", size)
    photo.paste(left.resize((width // 2, height)), (0, 0))
    photo.paste(right.resize((width // 2, height)), (width // 2, 0))
    return photo


@pytest.mark.parametrize(
    ("left", "right"), [("la_muse.jpg", "sketch.png"), ("mondrian_cropped.jpg", "brushstrokes.jpg")]
)
def test_each_half_goes_to_the_style_that_matches_it(engine, left: str, right: str) -> None:
    # Given a picture whose two halves are two clearly different paintings, and those paintings as styles
    a = read_image(testdata_path("styles", left))
    b = read_image(testdata_path("styles", right))
    photo = _halves(a, b)
    # When it is painted with the regions mix (styles given in both orders)
    for order in ((a, b), (b, a)):
        result = engine.stylize(photo, [ImageStyle(order[0]), ImageStyle(order[1])], REGIONS)
        regions = np.asarray(result.regions)
        left_k, right_k = (0, 1) if order[0] is a else (1, 0)
        # Then at least 90 % of the pixels go to the style of their own half
        half = regions.shape[1] // 2
        correct = (regions[:, :half] == left_k).sum() + (regions[:, half:] == right_k).sum()
        assert correct / regions.size >= 0.9


@pytest.mark.parametrize("case", ["m1", "m2", "m3"])
def test_every_style_gets_a_real_share_on_the_papers_cases(engine, case: str) -> None:
    # Given the Style Mixer paper's own multi-style cases
    content = read_image(testdata_path("multistyle", case, "c.jpg"))
    styles = [ImageStyle(read_image(testdata_path("multistyle", case, f"s{i}.jpg"))) for i in (1, 2)]
    # When the two styles are mixed by region
    result = engine.stylize(content, styles, REGIONS)
    # Then each gets between 10 % and 90 % of the picture, and the map is the output's size
    regions = np.asarray(result.regions)
    assert result.regions.size == result.image.size == content.size
    for k in range(2):
        assert 0.1 <= float((regions == k).mean()) <= 0.9


def test_the_same_inputs_give_the_same_map_twice(engine) -> None:
    content = read_image(testdata_path("multistyle", "m1", "c.jpg"))
    styles = [ImageStyle(read_image(testdata_path("multistyle", "m1", f"s{i}.jpg"))) for i in (1, 2)]
    first = engine.stylize(content, styles, REGIONS)
    second = engine.stylize(content, styles, REGIONS)
    assert np.array_equal(np.asarray(first.regions), np.asarray(second.regions))
    assert np.array_equal(np.asarray(first.image), np.asarray(second.image))


def test_presets_and_custom_styles_combine_by_region(engine) -> None:
    # Given a photo, a preset and a painting (a blend of the two kinds is refused)
    photo = read_image(testdata_path("photos", "golden_gate.jpg")).resize((320, 240))
    styles = [PresetStyle("swirling-night"), ImageStyle(read_image(testdata_path("styles", "la_muse.jpg")))]
    # When they are mixed by region
    result = engine.stylize(photo, styles, REGIONS)
    # Then the picture is repainted, the map is a palette image of its size, and both styles are used
    assert result.image.size == photo.size
    assert result.regions is not None
    assert result.regions.mode == "P"
    assert result.regions.getpalette()[:6] == [*PALETTE[0], *PALETTE[1]]
    values = np.asarray(result.regions)
    assert set(np.unique(values).tolist()) == {0, 1}
    diff = np.abs(np.asarray(result.image, np.float32) - np.asarray(photo, np.float32)).mean()
    assert diff > 15


def test_more_regions_and_less_position_change_the_map(engine) -> None:
    content = read_image(testdata_path("multistyle", "m2", "c.jpg"))
    styles = [PresetStyle("tapestry"), PresetStyle("indigo-brush")]
    plain = engine.plan_regions(content, styles, REGIONS)
    finer = engine.plan_regions(
        content, styles, StylizeOptions(mix="regions", regions=6, position_weight=0.0)
    )
    assert int(plain.labels.max()) + 1 == 4  # default: two regions per style
    assert int(finer.labels.max()) + 1 == 6
    sharp = engine.plan_regions(content, styles, StylizeOptions(mix="regions", edge_softness=0.0))
    soft = engine.plan_regions(content, styles, StylizeOptions(mix="regions", edge_softness=1.0))

    def mixed(plan) -> float:  # share of pixels where no style has 95 % of the weight
        return float((plan.weight_map.max(dim=1).values < 0.95).float().mean())

    assert mixed(soft) > mixed(sharp)


def test_kmeans_is_deterministic_and_numbers_regions_in_reading_order() -> None:
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(5, 0.1, (20, 3)), rng.normal(0, 0.1, (20, 3))])
    labels = kmeans(points, 2)
    assert labels.tolist() == [0] * 20 + [1] * 20
    assert np.array_equal(kmeans(points, 2), labels)


def test_assign_gives_every_style_a_tenth_when_it_can() -> None:
    # Given three regions that all fit style 0 best, the last one least
    fit = np.array([[0.3, 0.0], [0.2, 0.0], [0.1, 0.05]])
    area = np.array([0.5, 0.3, 0.2])
    # Then style 1 still gets a region of at least a tenth of the picture: the one it loses least on
    assert assign(fit, area) == (0, 0, 1)


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"regions": 1}, "InvalidRegions"),
        ({"regions": 9}, "InvalidRegions"),
        ({"position_weight": -0.1}, "InvalidPositionWeight"),
        ({"position_weight": float("nan")}, "InvalidPositionWeight"),
        ({"edge_softness": 1.5}, "InvalidEdgeSoftness"),
    ],
)
def test_region_controls_out_of_range_are_refused(values: dict[str, float], code: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        StylizeOptions.checked(mix="regions", **values).validate(2)
    assert info.value.code == code
    assert info.value.message


def test_fewer_regions_than_styles_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as info:
        StylizeOptions(mix="regions", regions=2).validate(3)
    assert info.value.code == "InvalidRegions"
    StylizeOptions(mix="regions", regions=3).validate(3)
    StylizeOptions(mix="regions", regions=8, position_weight=2.0, edge_softness=0.0).validate(4)


@pytest.mark.usefixtures("weights_path")
def test_cli_writes_the_region_map(tmp_path: Path) -> None:
    # Given a photo, a preset and a painting on the command line
    out, regions = tmp_path / "out.jpg", tmp_path / "regions.png"
    case = testdata_path("multistyle", "m1")
    proc = subprocess.run(
        [
            sys.executable, "-m", "stylemixer.cli", "stylize", str(case / "c.jpg"),
            "-o", str(out), "--style", "grey-ink", "--style", str(case / "s2.jpg"),
            "--mix", "regions", "--regions", "3", "--position-weight", "0.5", "--edge-softness", "0.1",
            "--regions-out", str(regions), "--json",
        ],
        capture_output=True, text=True, timeout=300, cwd=ROOT, check=False,
    )  # fmt: skip
    # Then the picture and a palette PNG of the same size are written, and the report names the map
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["mix"] == "regions"
    assert report["regions"] == str(regions)
    with Image.open(out) as img, Image.open(regions) as reg:
        assert reg.format == "PNG"
        assert reg.mode == "P"
        assert reg.size == img.size
        assert set(np.unique(np.asarray(reg)).tolist()) <= {0, 1}


def test_cli_refuses_a_bad_region_count(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable, "-m", "stylemixer.cli", "stylize", str(testdata_path("photos", "cornell.jpg")),
            "-o", str(tmp_path / "o.jpg"), "--style", "tapestry", "--style", "grey-ink",
            "--mix", "regions", "--regions", "12",
        ],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "regions" in proc.stderr.lower()
