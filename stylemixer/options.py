"""What a stylization asks for, checked without torch.

The API validates a job with these same rules before it is queued (so a caller's mistake is a 4xx,
not a failed job), and the engine checks them again before it runs (the CLI and the worker call it
directly).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from stylemixer.errors import InvalidRequestError
from stylemixer.limits import MAX_OUTPUT_SIDE, MAX_STYLES, MIN_OUTPUT_SIDE, OUTPUT_FORMATS

MixMode = Literal["blend", "regions"]
Stroke = Literal["fine", "medium", "coarse"]
OutputFormat = Literal["jpeg", "png", "webp"]
MIX_MODES: tuple[str, ...] = ("blend", "regions")
STROKES: tuple[str, ...] = ("fine", "medium", "coarse")
#: Regions mix: how many regions the photo is cut into (None: three per style, at most 8).
MIN_REGIONS, MAX_REGIONS = 2, 8
REGIONS_PER_STYLE = 3
#: Regions mix: how much a pixel's position counts against its content when regions are formed
#: (0: content only, regions may be scattered; 1: crossing the picture counts about as much as a
#: clear change of content, regions become bands and blocks).
MAX_POSITION_WEIGHT = 2.0
DEFAULT_POSITION_WEIGHT = 1.0
#: Regions mix: how far styles fade into each other at a region edge, 0 (sharp) to 1 (very soft).
DEFAULT_EDGE_SOFTNESS = 0.25


@dataclass(frozen=True, slots=True)
class StylizeOptions:
    """Everything about a stylization except the pictures themselves.

    ``weights`` are relative (normalised to sum 1); ``None`` means equal weights. ``strength`` 0 keeps
    the photo, 1 is the full style. ``max_size`` caps the longer side of the output (downscale only).

    Example:
        >>> StylizeOptions(weights=(2.0, 1.0), strength=0.8).normalized_weights(2)
        (0.6666666666666666, 0.3333333333333333)
    """

    weights: tuple[float, ...] | None = None
    mix: MixMode = "blend"
    strength: float = 1.0
    preserve_color: bool = False
    max_size: int | None = None
    stroke: Stroke | None = None
    regions: int | None = None
    position_weight: float = DEFAULT_POSITION_WEIGHT
    edge_softness: float = DEFAULT_EDGE_SOFTNESS

    def validate(self, n_styles: int) -> None:
        """Refuse anything out of range, with a sentence that says what is allowed."""
        if n_styles < 1:
            raise InvalidRequestError("NoStyle", "Choose at least one style.")
        if n_styles > MAX_STYLES:
            raise InvalidRequestError(
                "TooManyStyles", f"You chose {n_styles} styles; at most {MAX_STYLES} can be mixed."
            )
        if self.mix not in MIX_MODES:
            raise InvalidRequestError("InvalidMix", f"Mix must be one of {', '.join(MIX_MODES)}.")
        if self.mix == "regions" and n_styles < 2:
            raise InvalidRequestError("InvalidMix", "Regions mode needs at least two styles to place.")
        if self.weights is not None:
            self.normalized_weights(n_styles)
        if not (isinstance(self.strength, int | float) and 0.0 <= self.strength <= 1.0):
            raise InvalidRequestError("InvalidStrength", "Strength must be a number from 0 to 1.")
        if self.max_size is not None and not (
            isinstance(self.max_size, int) and MIN_OUTPUT_SIDE <= self.max_size <= MAX_OUTPUT_SIDE
        ):
            raise InvalidRequestError(
                "InvalidMaxSize",
                "The output size must be a whole number of pixels "
                f"from {MIN_OUTPUT_SIDE} to {MAX_OUTPUT_SIDE}.",
            )
        if self.stroke is not None and self.stroke not in STROKES:
            raise InvalidRequestError("InvalidStroke", f"Stroke size must be one of {', '.join(STROKES)}.")
        self._validate_region_controls(n_styles)

    def _validate_region_controls(self, n_styles: int) -> None:
        least = max(MIN_REGIONS, n_styles) if self.mix == "regions" else MIN_REGIONS
        if self.regions is not None and not (
            isinstance(self.regions, int)
            and not isinstance(self.regions, bool)
            and least <= self.regions <= MAX_REGIONS
        ):
            raise InvalidRequestError(
                "InvalidRegions",
                f"The number of regions must be a whole number from {least} (at least one per style) "
                f"to {MAX_REGIONS}.",
            )
        if not (
            isinstance(self.position_weight, int | float)
            and 0.0 <= self.position_weight <= MAX_POSITION_WEIGHT
        ):
            raise InvalidRequestError(
                "InvalidPositionWeight",
                f"Position weight must be a number from 0 to {MAX_POSITION_WEIGHT:g}.",
            )
        if not (isinstance(self.edge_softness, int | float) and 0.0 <= self.edge_softness <= 1.0):
            raise InvalidRequestError("InvalidEdgeSoftness", "Edge softness must be a number from 0 to 1.")

    def region_count(self, n_styles: int) -> int:
        """The number of regions asked for, or the default: three per style, at most the maximum.

        Example:
            >>> StylizeOptions(mix="regions").region_count(2)
            6
        """
        if self.regions is not None:
            return self.regions
        return max(MIN_REGIONS, min(REGIONS_PER_STYLE * n_styles, MAX_REGIONS))

    def normalized_weights(self, n_styles: int) -> tuple[float, ...]:
        """The weights scaled to sum 1, or equal weights; refuses a wrong count, negatives, NaN, all zero."""
        if self.weights is None:
            return tuple(1.0 / n_styles for _ in range(n_styles))
        if len(self.weights) != n_styles:
            raise InvalidRequestError(
                "InvalidWeights",
                f"Give one weight per style: {n_styles} styles but {len(self.weights)} weights.",
            )
        if any(not isinstance(w, int | float) or not math.isfinite(w) or w < 0 for w in self.weights):
            raise InvalidRequestError("InvalidWeights", "Weights must be finite numbers of 0 or more.")
        total = float(sum(self.weights))
        if total <= 0:
            raise InvalidRequestError("InvalidWeights", "At least one weight must be above 0.")
        return tuple(float(w) / total for w in self.weights)


def check_output_format(fmt: str) -> OutputFormat:
    """Return ``fmt`` lower-cased if it is an output format we write, else refuse it."""
    lowered = fmt.lower() if isinstance(fmt, str) else ""
    if lowered == "jpg":
        lowered = "jpeg"
    if lowered not in OUTPUT_FORMATS:
        raise InvalidRequestError(
            "InvalidFormat", f"The output format must be one of {', '.join(OUTPUT_FORMATS)}."
        )
    return lowered  # type: ignore[return-value]
