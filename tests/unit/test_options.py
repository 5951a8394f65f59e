"""Job options are checked before anything runs: each rule at and past its limit."""

from __future__ import annotations

import math

import pytest

from stylemixer.errors import InvalidRequestError
from stylemixer.limits import MAX_OUTPUT_SIDE, MAX_STYLES, MIN_OUTPUT_SIDE
from stylemixer.options import StylizeOptions, check_output_format


def _code(options: StylizeOptions, n_styles: int) -> str | None:
    try:
        options.validate(n_styles)
    except InvalidRequestError as exc:
        return exc.code if exc.message else "<no message>"  # every refusal says why in words
    return None


def test_defaults_are_valid_for_one_to_max_styles() -> None:
    for n in range(1, MAX_STYLES + 1):
        assert _code(StylizeOptions(), n) is None


@pytest.mark.parametrize(
    ("options", "n_styles", "code"),
    [
        (StylizeOptions(), 0, "NoStyle"),
        (StylizeOptions(), MAX_STYLES + 1, "TooManyStyles"),
        (StylizeOptions(mix="regions"), 1, "InvalidMix"),
        (StylizeOptions(mix="collage"), 2, "InvalidMix"),  # type: ignore[arg-type]
        (StylizeOptions(weights=(1.0,)), 2, "InvalidWeights"),
        (StylizeOptions(weights=(1.0, -0.1)), 2, "InvalidWeights"),
        (StylizeOptions(weights=(1.0, math.nan)), 2, "InvalidWeights"),
        (StylizeOptions(weights=(1.0, math.inf)), 2, "InvalidWeights"),
        (StylizeOptions(weights=(0.0, 0.0)), 2, "InvalidWeights"),
        (StylizeOptions(strength=2.0), 1, "InvalidStrength"),
        (StylizeOptions(strength=-0.01), 1, "InvalidStrength"),
        (StylizeOptions(strength=math.nan), 1, "InvalidStrength"),
        (StylizeOptions(max_size=0), 1, "InvalidMaxSize"),
        (StylizeOptions(max_size=MIN_OUTPUT_SIDE - 1), 1, "InvalidMaxSize"),
        (StylizeOptions(max_size=MAX_OUTPUT_SIDE + 1), 1, "InvalidMaxSize"),
        (StylizeOptions(max_size=10**9), 1, "InvalidMaxSize"),
        (StylizeOptions(stroke="huge"), 1, "InvalidStroke"),  # type: ignore[arg-type]
    ],
)
def test_out_of_range_options_are_refused_with_a_stable_code(
    options: StylizeOptions, n_styles: int, code: str
) -> None:
    assert _code(options, n_styles) == code


@pytest.mark.parametrize("max_size", [MIN_OUTPUT_SIDE, MAX_OUTPUT_SIDE])
def test_max_size_limits_themselves_are_accepted(max_size: int) -> None:
    assert _code(StylizeOptions(max_size=max_size), 1) is None


def test_weights_are_normalised_and_default_to_equal() -> None:
    assert StylizeOptions(weights=(3, 1)).normalized_weights(2) == (0.75, 0.25)
    assert StylizeOptions().normalized_weights(4) == (0.25, 0.25, 0.25, 0.25)


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
