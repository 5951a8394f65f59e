"""The regions mix: styles go where they fit, every style shows, the same inputs give the same map."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import numpy as np
import pytest
import torch
from PIL import Image

from stylemixer.errors import (
    REGIONS_MAP_INVALID,
    REGIONS_MAP_NEEDS_REGIONS,
    REGIONS_MAP_STYLE_MISSING,
    InvalidRequestError,
)
from stylemixer.images import read_image
from stylemixer.neural.regions import EdgeMap, region_image
from stylemixer.neural.regions.plan import choose, kmeans, superpixels, to_lab
from stylemixer.neural.tensors import image_to_tensor
from stylemixer.options import StylizeOptions
from stylemixer.regionmap import PALETTE
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


@pytest.mark.parametrize("budget", [None, 1 << 20], ids=["plan beside the painting", "in bands"])
def test_the_progress_never_returns_to_an_earlier_stage(engine, budget: int | None) -> None:
    # Given a regions mix, painted in one pass (the plan made beside it) or in bands (the plan first)
    from stylemixer.neural.engine import Engine
    from tests.support.pictures import sample_photo

    painter = engine if budget is None else Engine(engine.networks, budget=budget)
    seen: list[tuple[str, float]] = []
    # When it reports its progress
    painter.stylize(
        sample_photo("astronaut").resize((256, 256)),
        [PresetStyle("swirling-night"), PresetStyle("grey-ink")],
        REGIONS,
        progress=lambda stage, fraction: seen.append((stage, fraction)),
    )
    # Then the stages come in their order, each once, and the figure never falls
    order = ["prepare", "style", "stylize", "finish"]
    stages = [stage for i, (stage, _) in enumerate(seen) if i == 0 or seen[i - 1][0] != stage]
    assert stages == sorted(set(stages), key=order.index)
    assert stages[0] == "prepare"
    assert stages[-1] == "finish"
    fractions = [fraction for _, fraction in seen]
    assert fractions == sorted(fractions)


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
        content, styles, StylizeOptions(mix="regions", regions=8, position_weight=0.0)
    )
    assert int(plain.labels.max()) + 1 == 6  # default: three regions per style
    assert int(finer.labels.max()) + 1 == 8
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


def test_every_style_gets_a_tenth_when_it_can() -> None:
    # Given three superpixels that all fit style 0 best, the last one least
    fit = torch.tensor([[0.3, 0.0], [0.2, 0.0], [0.1, 0.05]])
    area = torch.tensor([5.0, 3.0, 2.0])
    # Then style 1 still gets at least a tenth of the picture: the superpixel it loses least on
    assert choose(fit, area).tolist() == [0, 0, 1]
    # and a style that already holds a tenth keeps what it wins
    assert choose(torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([1.0, 1.0])).tolist() == [0, 1]


def test_superpixels_follow_the_edges_of_the_picture() -> None:
    # Given a picture of two flat colours meeting along a slanted edge, and noise on top
    h, w = 120, 160
    rows, cols = np.mgrid[0:h, 0:w]
    left = cols < 40 + 0.6 * rows
    rgb = np.where(left[..., None], [200, 60, 40], [40, 90, 200]).astype(np.float32)
    rgb += np.random.default_rng(0).normal(0, 6, rgb.shape)
    picture = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    # When it is cut into superpixels
    labels = superpixels(to_lab(image_to_tensor(picture)), n_segments=60).numpy()
    # Then about that many come out, and each lies on one side of the edge
    n = labels.max() + 1
    assert 40 <= n <= 80
    for k in range(n):
        side = left[labels == k]
        assert min(side.mean(), 1 - side.mean()) < 0.02


def test_the_map_follows_the_photos_own_edges_at_full_resolution() -> None:
    # Given a photo whose bright left part ends at column 301 (of 800), and a map at a quarter of its
    # resolution whose boundary is a map pixel off, at column 304 (as a plan's map may be)
    photo = np.full((400, 800, 3), 40, dtype=np.uint8)
    photo[:, :301] = 220
    coarse = torch.zeros(1, 2, 100, 200)
    coarse[:, 0, :, :76] = 1.0
    coarse[:, 1] = 1.0 - coarse[:, 0]
    # When the map is brought to the photo's size along its edges
    picture = Image.fromarray(photo)
    regions = np.asarray(region_image(EdgeMap(coarse, picture), picture))
    # Then the styles change where the photo changes, not where the coarse map did
    boundary = (regions[:, 1:] != regions[:, :-1]).any(axis=0).nonzero()[0] + 1
    assert boundary.tolist() == [301]


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


def test_a_drawn_map_drives_the_painting_and_each_style_is_itself_inside(engine) -> None:
    # Given a photo, a preset and a painting, and a map a person drew: the left half for the preset
    photo = read_image(testdata_path("photos", "golden_gate.jpg")).resize((320, 240))
    styles = [PresetStyle("swirling-night"), ImageStyle(read_image(testdata_path("styles", "la_muse.jpg")))]
    drawn = np.zeros((60, 80), dtype=np.int64)
    drawn[:, 40:] = 1
    # When the engine paints from that map
    result = engine.paint_regions(photo, styles, drawn)
    # Then the region map is the drawn one at the photo's size (its edge may move onto the photo's)
    assert result.regions is not None
    regions = np.asarray(result.regions)
    assert regions.shape == (240, 320)
    assert (regions[:, :150] == 0).all()
    assert (regions[:, 170:] == 1).all()
    # and away from the edge each half is exactly its style painted alone
    picture = np.asarray(result.image)
    for k, style in enumerate(styles):
        alone = np.asarray(engine.stylize(photo, [style]).image)
        inside = slice(0, 140) if k == 0 else slice(180, 320)
        assert np.array_equal(picture[:, inside], alone[:, inside])


def test_the_plan_is_the_painting_step_s_input(engine) -> None:
    # Given a plan made for two paintings on the paper's first case
    content = read_image(testdata_path("multistyle", "m1", "c.jpg"))
    styles = [ImageStyle(read_image(testdata_path("multistyle", "m1", f"s{i}.jpg"))) for i in (1, 2)]
    plan = engine.plan_regions(content, styles, REGIONS)
    # When the painting step is given that plan's map
    painted = engine.paint_regions(content, styles, plan.weight_map)
    # Then it paints what the regions mix paints
    whole = engine.stylize(content, styles, REGIONS)
    assert np.array_equal(np.asarray(painted.image), np.asarray(whole.image))
    assert np.array_equal(np.asarray(painted.regions), np.asarray(whole.regions))


@pytest.mark.parametrize(
    "weights",
    [
        torch.ones(1, 3, 8, 8) / 3,  # three planes for two styles
        -torch.ones(1, 2, 8, 8),  # negative weights
        torch.full((1, 2, 8, 8), float("nan")),
        np.full((8, 8), 2, dtype=np.int64),  # a style number past the last style
        np.full((8, 8), -1, dtype=np.int64),  # a number that is no style
        np.zeros((8, 8), dtype=np.float32),  # not whole style numbers
    ],
    ids=["planes", "negative", "nan", "index", "negative-index", "float-labels"],
)
def test_a_bad_map_is_refused_with_a_reason(engine, weights) -> None:
    # Given a map that is not one, When the engine is asked to paint along it
    photo = Image.new("RGB", (64, 48), (90, 120, 150))
    with pytest.raises(InvalidRequestError) as info:
        engine.paint_regions(photo, [PresetStyle("tapestry"), PresetStyle("grey-ink")], weights)
    # Then it is refused with the code a bad map file gets, or the one for a style it does not have
    numbers = isinstance(weights, np.ndarray) and weights.dtype == np.int64
    assert info.value.code == (REGIONS_MAP_STYLE_MISSING if numbers else REGIONS_MAP_INVALID)
    assert info.value.message


def test_the_engine_refuses_a_map_without_the_regions_mix(engine) -> None:
    # Given a drawn map and a blend (the options the API, the worker and the CLI also check)
    photo = Image.new("RGB", (64, 48), (90, 120, 150))
    drawn = np.zeros((8, 8), dtype=np.int64)
    styles = [PresetStyle("tapestry"), PresetStyle("grey-ink")]
    # When the engine is asked to paint along it, Then it refuses with the map's own code
    with pytest.raises(InvalidRequestError) as info:
        engine.paint_regions(photo, styles, drawn, StylizeOptions())
    assert info.value.code == REGIONS_MAP_NEEDS_REGIONS
