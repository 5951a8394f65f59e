"""The regions mix judged as a person would: each style in the right place, each looking like itself.

- Placement: points on photos, each labelled with the style a person would paint there (chosen
  by looking, before tuning; see ``region_points.json``), must mostly land on that style. The
  cases whose things appear in a painting in other colours (``kind_over_colour``) are reported
  apart, tuned and held out: the mix still matches them by colour more than by kind.
- Looks: inside each region's interior (the region map eroded by 3 % of the short side) the
  regions picture must have the same mean colour (CIELAB ΔE76) and at least 0.7 of the fine
  texture (luminance minus its Gaussian blur, sigma 2) of the same style painted alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from skimage.color import rgb2lab
from skimage.filters import gaussian
from skimage.morphology import erosion, footprint_rectangle

from stylemixer.images import read_image
from stylemixer.neural.regions import EdgeMap, region_image
from stylemixer.options import StylizeOptions
from stylemixer.styles import ImageStyle
from tests.support.paths import testdata_path

if TYPE_CHECKING:
    from PIL import Image

REGIONS = StylizeOptions(mix="regions")
CASES = json.loads((Path(__file__).parent / "region_points.json").read_text(encoding="utf-8"))["cases"]
#: Share of the labelled points that must land on the chosen style, over all cases and in each.
OVERALL, PER_CASE = 0.90, 0.75
#: The goal on the cases not tuned on, every kind included: this share of their points, and no case
#: below PER_CASE. Not met yet (about 0.70, two cases near 0: see the test).
HELD_OUT_GOAL = 0.95
#: Today's share of the held-out cases' points (113 of 162 when it was set): less is a regression.
HELD_OUT_FLOOR = 0.65
#: The looks bounds inside each region's interior, against the style alone (the texture neither
#: lost nor made up: at most 1 / 0.7 of the style's own).
MAX_DELTA_E, MIN_TEXTURE, MAX_TEXTURE = 6.0, 0.7, 1 / 0.7


def _picture(path: str) -> Image.Image:
    return read_image(testdata_path(*path.split("/")))


@pytest.fixture(scope="module")
def placement(engine) -> dict[str, tuple[int, int]]:
    """For each labelled case: how many of its points land on their style, and how many there are."""
    out = {}
    for case in CASES:
        photo = _picture(case["photo"])
        styles = [ImageStyle(_picture(p)) for p in case["styles"]]
        plan = engine.plan_regions(photo, styles, REGIONS)
        regions = np.asarray(region_image(EdgeMap(plan.weight_map, photo), photo))
        h, w = regions.shape
        hits = sum(
            int(regions[min(h - 1, int(y * h)), min(w - 1, int(x * w))] == k) for x, y, k in case["points"]
        )
        out[case["name"]] = (hits, len(case["points"]))
    return out


def _share(placement: dict[str, tuple[int, int]], names: list[str]) -> tuple[float, str]:
    """The share of the points of ``names`` that land on their style, and a line per case."""
    hits = sum(placement[name][0] for name in names)
    total = sum(placement[name][1] for name in names)
    return hits / total, ", ".join(f"{name} {placement[name][0]}/{placement[name][1]}" for name in names)


def _names(*, kind_over_colour: bool | None = None, tuned: bool | None = None) -> list[str]:
    return [
        case["name"]
        for case in CASES
        if (kind_over_colour is None or case.get("kind_over_colour", False) == kind_over_colour)
        and (tuned is None or case["tuned"] == tuned)
    ]


@pytest.mark.slow
def test_labelled_points_land_on_the_style_a_person_would_choose(placement) -> None:
    # Given ten labelled cases (the paper's three, seven composed from test photos and paintings)
    names = _names(kind_over_colour=False)
    # When each is planned with the default controls
    share, report = _share(placement, names)
    # Then at least 90 % of all points, and 75 % of each case's, land on the chosen style
    assert share >= OVERALL, report
    assert all(placement[name][0] / placement[name][1] >= PER_CASE for name in names), report


@pytest.mark.slow
def test_held_out_cases_do_not_fall_below_todays_placement(placement) -> None:
    # Given every case not tuned on, those whose things a painting shows in other colours included
    share, report = _share(placement, _names(tuned=False))
    tuned, tuned_report = _share(placement, _names(tuned=True))
    # Then their share holds at today's (the tuned ones' is reported beside it)
    assert share >= HELD_OUT_FLOOR, f"held out {share:.3f}: {report}; tuned {tuned:.3f}: {tuned_report}"


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="like is matched with like by colour more than by kind: a face goes to the painting with "
    "the photo's pale backdrop, not to the painted face (held out about 0.70, the goal 0.95)",
)
def test_held_out_cases_meet_the_goal(placement) -> None:
    # Given every case not tuned on; when planned with the default controls
    names = _names(tuned=False)
    share, report = _share(placement, names)
    # Then 95 % of their points, and 75 % of each case's, land on the chosen style
    assert share >= HELD_OUT_GOAL, report
    assert all(placement[name][0] / placement[name][1] >= PER_CASE for name in names), report


def _interior(regions: np.ndarray, k: int) -> np.ndarray:
    """Region k's pixels at least 3 % of the short side from any other region."""
    r = max(1, round(0.03 * min(regions.shape)))
    return erosion(regions == k, footprint_rectangle((2 * r + 1, 2 * r + 1)))


def _looks(mixed: Image.Image, alone: Image.Image, inside: np.ndarray) -> tuple[float, float]:
    """Mean-colour ΔE76 and fine-texture energy ratio of ``mixed`` against ``alone`` over ``inside``."""
    lab_m, lab_a = rgb2lab(np.asarray(mixed)), rgb2lab(np.asarray(alone))
    delta_e = float(np.linalg.norm(lab_m[inside].mean(axis=0) - lab_a[inside].mean(axis=0)))

    def texture(lab: np.ndarray) -> float:
        light = lab[..., 0]
        return float(((light - gaussian(light, sigma=2, preserve_range=True))[inside] ** 2).mean())

    return delta_e, texture(lab_m) / texture(lab_a)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["m1", "m2", "m3"])
def test_each_style_looks_as_it_does_alone_inside_its_region(engine, case: str) -> None:
    # Given one of the Style Mixer paper's cases, mixed by region, and each style painted alone
    content = _picture(f"multistyle/{case}/c.jpg")
    styles = [ImageStyle(_picture(f"multistyle/{case}/s{i}.jpg")) for i in (1, 2)]
    mixed = engine.stylize(content, styles, REGIONS)
    assert mixed.regions is not None
    regions = np.asarray(mixed.regions)
    for k, style in enumerate(styles):
        alone = engine.stylize(content, [style]).image
        inside = _interior(regions, k)
        assert inside.mean() > 0.05  # a real interior to judge
        # Then inside the region the colour and the fine texture are the style's own
        delta_e, texture = _looks(mixed.image, alone, inside)
        assert delta_e <= MAX_DELTA_E, f"style {k}: ΔE {delta_e:.2f}"
        assert MIN_TEXTURE <= texture <= MAX_TEXTURE, f"style {k}: texture {texture:.2f}x"
