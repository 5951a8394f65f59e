"""Job options are checked before anything runs: each rule at and past its limit, with a stable code."""

from __future__ import annotations

import math
from typing import Any

import pytest

from stylemixer.errors import InvalidRequestError
from stylemixer.limits import MAX_OUTPUT_SIDE, MAX_STYLES, MIN_OUTPUT_SIDE
from stylemixer.options import (
    MAX_REGIONS,
    Choice,
    Mix,
    OutputFormat,
    Stroke,
    StylizeOptions,
    check_output_format,
    option_specs,
)


def _refusal(values: dict[str, Any], n_styles: int = 1, n_presets: int | None = None) -> str | None:
    """The code the options are refused with, if their message is a sentence (every refusal says why)."""
    try:
        StylizeOptions.checked(**values).validate(n_styles, n_presets)
    except InvalidRequestError as exc:
        return exc.code if exc.message.endswith(".") else f"{exc.code} without a sentence"
    return None


def test_defaults_are_valid_for_one_to_max_styles() -> None:
    for n in range(1, MAX_STYLES + 1):
        assert _refusal({}, n) is None


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"mix": "collage"}, "InvalidMix"),
        ({"weights": (1.0, -0.1)}, "InvalidWeights"),
        ({"weights": (1.0, math.nan)}, "InvalidWeights"),
        ({"weights": (1.0, math.inf)}, "InvalidWeights"),
        ({"weights": ("1", "2")}, "InvalidWeights"),
        ({"strength": 2.0}, "InvalidStrength"),
        ({"strength": -0.01}, "InvalidStrength"),
        ({"strength": math.nan}, "InvalidStrength"),
        ({"strength": "1"}, "InvalidStrength"),
        ({"strength": True}, "InvalidStrength"),
        ({"preserve_color": 1}, "InvalidPreserveColor"),
        ({"max_size": 0}, "InvalidMaxSize"),
        ({"max_size": MIN_OUTPUT_SIDE - 1}, "InvalidMaxSize"),
        ({"max_size": MAX_OUTPUT_SIDE + 1}, "InvalidMaxSize"),
        ({"max_size": 10**9}, "InvalidMaxSize"),
        ({"max_size": 100.5}, "InvalidMaxSize"),
        ({"max_size": "100"}, "InvalidMaxSize"),
        ({"stroke": "huge"}, "InvalidStroke"),
        ({"format": "bmp"}, "InvalidFormat"),
        ({"regions": 1}, "InvalidRegions"),
        ({"regions": MAX_REGIONS + 1}, "InvalidRegions"),
        ({"regions": True}, "InvalidRegions"),
        ({"position_weight": -0.1}, "InvalidPositionWeight"),
        ({"edge_softness": 1.5}, "InvalidEdgeSoftness"),
        ({"colour": "red"}, "UnknownOption"),
    ],
)
def test_an_option_out_of_range_is_refused_with_its_own_code(values: dict[str, Any], code: str) -> None:
    assert _refusal(values) == code


@pytest.mark.parametrize(
    ("values", "n_styles", "n_presets", "code"),
    [
        ({}, 0, None, "NoStyle"),
        ({}, MAX_STYLES + 1, None, "TooManyStyles"),
        ({"mix": "regions"}, 1, None, "InvalidMix"),
        ({"weights": (1.0,)}, 2, None, "InvalidWeights"),
        ({"weights": (0.0, 0.0)}, 2, None, "InvalidWeights"),
        ({"mix": "regions", "regions": 2}, 3, None, "InvalidRegions"),
        ({}, 2, 1, "MixedStyleKinds"),
    ],
)
def test_rules_about_the_styles_are_refused_with_their_code(
    values: dict[str, Any], n_styles: int, n_presets: int | None, code: str
) -> None:
    assert _refusal(values, n_styles, n_presets) == code


@pytest.mark.parametrize(("mix", "refused"), [("blend", True), ("regions", False)])
def test_a_region_map_is_taken_with_the_regions_mix_only(mix: str, refused: bool) -> None:
    # Given two styles and a region map to place them (the engine, the API, the worker and the CLI
    # all ask this one rule)
    options = StylizeOptions(mix=mix)
    # When the rules are asked with the map, Then a blend refuses it with the map's code
    if refused:
        with pytest.raises(InvalidRequestError) as info:
            options.validate(2, with_map=True)
        assert info.value.code == "RegionsMapNeedsRegions"
    else:
        options.validate(2, with_map=True)


@pytest.mark.parametrize(
    ("values", "n_styles", "n_presets"),
    [
        ({"max_size": MIN_OUTPUT_SIDE}, 1, None),
        ({"max_size": MAX_OUTPUT_SIDE}, 1, None),
        ({"max_size": 512.0}, 1, None),  # JSON's whole number
        ({"mix": "regions", "regions": 3}, 3, 3),
        ({"regions": 2}, 3, None),  # a blend ignores the regions' count
        ({"mix": "regions"}, 2, 1),  # regions place presets and pictures side by side
        ({"weights": [0, 1]}, 2, 0),
    ],
)
def test_values_at_the_limits_are_accepted(
    values: dict[str, Any], n_styles: int, n_presets: int | None
) -> None:
    assert _refusal(values, n_styles, n_presets) is None


def test_values_become_their_types() -> None:
    options = StylizeOptions.checked(
        mix="regions", stroke="fine", format="png", max_size=512.0, weights=[1, 2]
    )
    assert options.mix is Mix.REGIONS
    assert options.stroke is Stroke.FINE
    assert options.format is OutputFormat.PNG
    assert options.max_size == 512
    assert isinstance(options.max_size, int)
    assert options.weights == (1.0, 2.0)


def test_weights_are_normalised_and_default_to_equal() -> None:
    assert StylizeOptions(weights=(3, 1)).normalized_weights(2) == (0.75, 0.25)
    assert StylizeOptions().normalized_weights(4) == (0.25, 0.25, 0.25, 0.25)
    assert StylizeOptions(weights=(1e308, 1e308, 0)).normalized_weights(3) == (0.5, 0.5, 0.0)


@pytest.mark.parametrize(
    ("given", "expected"), [("JPG", "jpeg"), ("jpeg", "jpeg"), ("png", "png"), ("WebP", "webp")]
)
def test_output_formats_are_case_insensitive(given: str, expected: str) -> None:
    assert check_output_format(given) == expected


@pytest.mark.parametrize("given", ["gif", "", "tiff"])
def test_unknown_output_format_is_refused(given: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        check_output_format(given)
    assert info.value.code == "InvalidFormat"


def test_the_stored_form_round_trips_and_old_records_load() -> None:
    options = StylizeOptions(weights=(2.0, 1.0), mix=Mix.REGIONS, stroke=Stroke.COARSE, max_size=300)
    assert StylizeOptions.from_record(options.record()) == options
    # A record written before the regions controls existed, with the keys a job record has
    old = {"content": "0" * 32, "styles": [{"preset": "tapestry"}], "mix": "blend", "stroke": None}
    assert StylizeOptions.from_record(old) == StylizeOptions()


def test_every_option_is_described_for_people() -> None:
    for spec in option_specs():
        assert spec.title
        assert spec.description.endswith(".")
        if spec.type in ("number", "integer"):
            assert spec.minimum is not None
            assert spec.maximum is not None
    for enum in Choice.__subclasses__():
        assert all(member.label for member in enum)
