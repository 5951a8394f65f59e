"""What a stylization asks for: every option written once, with its type, bounds, default and help.

:class:`StylizeOptions` is the one description. Everything else is derived from it: the CLI's flags
(:func:`option_specs`), the API's request model and so its OpenAPI document (``JobRequest`` extends
it), the job record (stored as the model's JSON), the page's ``config.json`` and the engine's
options (this class itself). Allowed values are enums (:class:`Mix`, :class:`Stroke`,
:class:`OutputFormat`); the rules that involve more than one option or the styles (one weight per
style, regions needs two styles, what a blend can combine) are :meth:`StylizeOptions.validate`, with
their JSON Schema form beside them (:func:`styles_rules_schema`) so the OpenAPI document states them
too. Torch-free: the API checks a job with these same rules before it is queued (a caller's mistake
is a 4xx, not a failed job), and the engine checks them again before it runs.

Example:
    >>> options = StylizeOptions.checked(mix="regions", strength=0.8)
    >>> options.mix is Mix.REGIONS, options.region_count(2)
    (True, 6)
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from stylemixer.errors import (
    MIXED_STYLE_KINDS,
    NO_STYLE,
    REGIONS_MAP_NEEDS_REGIONS,
    TOO_MANY_STYLES,
    UNKNOWN_OPTION,
    InvalidRequestError,
)
from stylemixer.limits import MAX_OUTPUT_SIDE, MAX_STYLES, MIN_OUTPUT_SIDE

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
#: The sentence refusing a blend of presets and pictures (:data:`~stylemixer.errors.MIXED_STYLE_KINDS`),
#: which the page shows before uploading anything (it reads it from ``config.json``, see
#: :func:`stylemixer.page.site_config`).
MIXED_KINDS_MESSAGE = (
    "A blend can combine presets with presets or your own pictures with each other, "
    "not both; choose the regions mix to combine them."
)


class Choice(StrEnum):
    """An allowed value with a label for people: ``Mix.BLEND == "blend"``, ``Mix.BLEND.label``.

    Example:
        >>> Stroke("fine").label
        'Fine'
    """

    label: str

    def __new__(cls, value: str, label: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class Mix(Choice):
    """How several styles combine."""

    BLEND = "blend", "Blend, by weight"
    REGIONS = "regions", "Regions (Style Mixer)"


class Stroke(Choice):
    """How big the strokes are relative to the picture (see :mod:`stylemixer.neural.stroke`)."""

    FINE = "fine", "Fine"
    MEDIUM = "medium", "Medium"
    COARSE = "coarse", "Coarse"


class OutputFormat(Choice):
    """The file type of a result."""

    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"
    WEBP = "webp", "WebP"

    @property
    def content_type(self) -> str:
        """Its media type (each of ours is registered as ``image/<value>``).

        Example:
            >>> OutputFormat.JPEG.content_type
            'image/jpeg'
        """
        return f"image/{self.value}"

    @property
    def extension(self) -> str:
        """Its usual file name suffix, without the dot.

        Example:
            >>> OutputFormat.JPEG.extension, OutputFormat.PNG.extension
            ('jpg', 'png')
        """
        return "jpg" if self is OutputFormat.JPEG else self.value


@dataclass(frozen=True, slots=True)
class Flag:
    """How an option is spelled on the command line, where that differs from its name and type.

    ``name`` replaces ``--<name-with-dashes>``; ``default`` replaces the option's own default (the
    CLI decides the format from the output's suffix); ``help`` is added to the description.
    """

    name: str | None = None
    metavar: str | None = None
    default: Any = ...
    help: str | None = None


def _whole(value: object) -> object:
    """JSON has one number type: ``64.0`` is the whole number 64 (JSON Schema agrees), ``64.5`` is not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


#: A whole number as JSON Schema means it: ``64`` or ``64.0``, never ``"64"`` or ``true`` (bounds go
#: before it: ``Annotated[int, Field(ge=1), WHOLE]``).
WHOLE = BeforeValidator(_whole)
#: One style's relative weight.
Weight = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
OutputSide = Annotated[int, Field(ge=MIN_OUTPUT_SIDE, le=MAX_OUTPUT_SIDE), WHOLE]
RegionCount = Annotated[int, Field(ge=MIN_REGIONS, le=MAX_REGIONS), WHOLE]


class StylizeOptions(BaseModel):
    """Everything about a stylization except the pictures themselves.

    Building one checks every option on its own (a ``ValidationError``, or with :meth:`checked` an
    :class:`~stylemixer.errors.InvalidRequestError` with a stable code and a sentence);
    :meth:`validate` checks the rules that involve the styles. ``weights`` are relative (normalised
    to sum 1; ``None`` means equal). ``format`` is for whoever writes the result; the engine ignores it.

    Example:
        >>> StylizeOptions(weights=(2.0, 1.0), strength=0.8).normalized_weights(2)
        (0.6666666666666666, 0.3333333333333333)
    """

    # Strict: "1" is not a number and 1 is not true. Enums take their values ("blend"), and the
    # weights any sequence, as they arrive from JSON.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    weights: Annotated[
        tuple[Weight, ...] | None, Flag(name="--weight", metavar="W", help="Give one per --style.")
    ] = Field(
        None,
        strict=False,
        max_length=MAX_STYLES,
        title="Weights",
        description="Relative weights, one per style (default: equal).",
    )
    mix: Mix = Field(
        Mix.BLEND,
        strict=False,
        title="Mix",
        description="How several styles combine: blend mixes the looks everywhere; regions gives each "
        "part of the photo the style that fits it best.",
    )
    strength: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        title="Strength",
        description="0 keeps the photo, 1 is the full style.",
    )
    preserve_color: bool = Field(
        False,
        title="Keep the photo's colours",
        description="Keep the photo's original colours; take only the style's brushwork.",
    )
    max_size: Annotated[OutputSide | None, Flag(metavar="PX")] = Field(
        None,
        title="Output size",
        description="Cap the output's longer side, in pixels (default: the photo's size).",
    )
    stroke: Stroke | None = Field(
        None,
        strict=False,
        title="Stroke size",
        description="How big the strokes are relative to the picture, on any photo: coarse paints at "
        "512 px (big strokes), fine at the photo's own resolution (at least 1024 px), medium between "
        "(default: medium).",
    )
    format: Annotated[OutputFormat, Flag(default=None, help="Default: from the output's suffix.")] = Field(
        OutputFormat.JPEG,
        strict=False,
        title="Output format",
        description="The result's file type.",
    )
    regions: RegionCount | None = Field(
        None,
        title="Number of regions",
        description="Regions mix: how many regions the photo is cut into, at least one per style "
        f"(default: {REGIONS_PER_STYLE} per style, at most {MAX_REGIONS}).",
    )
    position_weight: float = Field(
        DEFAULT_POSITION_WEIGHT,
        ge=0.0,
        le=MAX_POSITION_WEIGHT,
        allow_inf_nan=False,
        title="Position weight",
        description="Regions mix: how much a pixel's position counts against its content.",
    )
    edge_softness: float = Field(
        DEFAULT_EDGE_SOFTNESS,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        title="Edge softness",
        description="Regions mix: how softly styles meet at a region edge, 0 (sharp) to 1 (soft).",
    )

    @classmethod
    def checked(cls, **values: Any) -> Self:
        """Build from loose values (a command line, a script), refusing a bad one with its own code.

        Example:
            >>> StylizeOptions.checked(strength=2)
            Traceback (most recent call last):
            ...
            stylemixer.errors.InvalidRequestError: Strength must be a number from 0 to 1.
        """
        try:
            return cls(**values)
        except ValidationError as exc:
            raise _refusal(exc) from None

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> StylizeOptions:
        """The options of a stored job: the options' keys of ``data``; absent ones take their default.

        Records written before an option existed lack it, so they load with the default it had.
        Stored values passed the API's checks, so they are read as JSON reads them.

        Example:
            >>> StylizeOptions.from_record({"content": "...", "mix": "regions", "weights": [1, 2]}).weights
            (1.0, 2.0)
        """
        names = StylizeOptions.model_fields
        return StylizeOptions.model_validate({k: v for k, v in data.items() if k in names}, strict=False)

    def options(self) -> StylizeOptions:
        """Just the options (a request that extends them carries its pictures too).

        Example:
            >>> StylizeOptions(strength=0.5).options() == StylizeOptions(strength=0.5)
            True
        """
        return StylizeOptions.model_validate(
            {name: getattr(self, name) for name in StylizeOptions.model_fields}
        )

    def record(self) -> dict[str, Any]:
        """The options as stored with a job: plain JSON values, every option present.

        Example:
            >>> StylizeOptions(mix="regions").record()["mix"]
            'regions'
        """
        return self.options().model_dump(mode="json")

    def validate(self, n_styles: int, n_presets: int | None = None, *, with_map: bool = False) -> None:
        """Refuse what no option can judge alone: how many styles, one weight each, what regions and
        a blend need. ``n_presets`` (how many of the styles are presets) checks what a blend combines;
        ``with_map``, that a region map given to place the styles comes with the regions mix.

        Every entry asks these rules before it paints: the engine (``Engine.stylize`` and
        ``Engine.paint_regions``), and, before they read a picture, the API, the worker and the CLI.
        :func:`styles_rules_schema` and :func:`regions_map_rule` state the same rules as JSON Schema;
        change both together.

        Example:
            >>> StylizeOptions(mix="regions").validate(1)
            Traceback (most recent call last):
            ...
            stylemixer.errors.InvalidRequestError: Regions mode needs at least two styles to place.
        """
        if n_styles < 1:
            raise InvalidRequestError(NO_STYLE, "Choose at least one style.")
        if n_styles > MAX_STYLES:
            raise InvalidRequestError(
                TOO_MANY_STYLES, f"You chose {n_styles} styles; at most {MAX_STYLES} can be mixed."
            )
        if self.mix is Mix.REGIONS and n_styles < 2:
            message = "Regions mode needs at least two styles to place."
            raise InvalidRequestError(option_spec("mix").code, message)
        if self.weights is not None:
            self.normalized_weights(n_styles)
        if self.mix is Mix.REGIONS and self.regions is not None and self.regions < n_styles:
            raise InvalidRequestError(
                option_spec("regions").code,
                f"The number of regions must be a whole number from {max(MIN_REGIONS, n_styles)} "
                f"(at least one per style) to {MAX_REGIONS}.",
            )
        if self.mix is Mix.BLEND and n_presets is not None and 0 < n_presets < n_styles:
            # Presets are points of one network's style space and pictures of another's.
            raise InvalidRequestError(MIXED_STYLE_KINDS, MIXED_KINDS_MESSAGE)
        if with_map and self.mix is not Mix.REGIONS:
            raise InvalidRequestError(
                REGIONS_MAP_NEEDS_REGIONS,
                "A region map places the styles of the regions mix (mix: regions); ask for that mix "
                "with the map, or leave the map out.",
            )

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
        """The weights scaled to sum 1, or equal weights; refuses a wrong count, or all zero.

        Example:
            >>> StylizeOptions(weights=(1e308, 1e308)).normalized_weights(2)
            (0.5, 0.5)
        """
        if self.weights is None:
            return tuple(1.0 / n_styles for _ in range(n_styles))
        if len(self.weights) != n_styles:
            raise InvalidRequestError(
                option_spec("weights").code,
                f"Give one weight per style: {n_styles} styles but {len(self.weights)} weights.",
            )
        largest = max(self.weights, default=0.0)
        if largest <= 0:
            raise InvalidRequestError(option_spec("weights").code, "At least one weight must be above 0.")
        scaled = [w / largest for w in self.weights]  # so that huge weights cannot sum to infinity
        total = sum(scaled)
        return tuple(w / total for w in scaled)


def styles_rules_schema(
    styles: str = "styles", preset: str = "preset", upload: str = "upload"
) -> dict[str, Any]:
    """:meth:`StylizeOptions.validate`'s rules as JSON Schema, for a request whose list of styles is
    ``styles``, each an object with a ``preset`` or an ``upload`` key.

    One branch per number of styles *n*: ``n`` weights or none, at least one above 0; a blend of
    presets only or of pictures only; regions only from two styles, with at least *n* regions.

    Example:
        >>> len(styles_rules_schema()["anyOf"]) == MAX_STYLES
        True
    """
    blend = {
        "properties": {
            "mix": {"const": Mix.BLEND.value},
            styles: {"anyOf": [{"items": {"required": [preset]}}, {"items": {"required": [upload]}}]},
        }
    }

    def branch(n: int) -> dict[str, Any]:
        weights = {
            "type": "array",
            "minItems": n,
            "maxItems": n,
            "contains": {"type": "number", "exclusiveMinimum": 0},
        }
        regions = {
            "required": ["mix"],
            "properties": {
                "mix": {"const": Mix.REGIONS.value},
                "regions": {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": max(MIN_REGIONS, n)}]},
            },
        }
        return {
            "properties": {
                styles: {"minItems": n, "maxItems": n},
                "weights": {"anyOf": [{"type": "null"}, weights]},
            },
            "anyOf": [blend, regions] if n >= 2 else [blend],
        }

    return {"anyOf": [branch(n) for n in range(1, MAX_STYLES + 1)]}


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One option as the CLI and the page need it, read from :class:`StylizeOptions`.

    ``type`` is its JSON Schema type (``"array"`` for the per-style weights); ``choices`` its enum.

    Example:
        >>> spec = option_spec("strength")
        >>> spec.type, spec.minimum, spec.maximum, spec.default
        ('number', 0.0, 1.0, 1.0)
    """

    name: str
    type: str
    title: str
    description: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: type[Choice] | None = None
    flag: Flag = Flag()

    @property
    def code(self) -> str:
        """The code a bad value is refused with: ``InvalidMaxSize`` for ``max_size``."""
        return "Invalid" + "".join(part.capitalize() for part in self.name.split("_"))

    def refusal(self) -> InvalidRequestError:
        """The refusal of a bad value, with a sentence that says what is allowed.

        Example:
            >>> option_spec("max_size").refusal().message
            'Output size must be a whole number from 64 to 8192.'
        """
        if self.choices is not None:
            allowed = f"one of {', '.join(self.choices)}"
        elif self.type == "boolean":
            allowed = "true or false"
        elif self.type == "array":
            return InvalidRequestError(
                self.code, f"{self.title} must be finite numbers of {self.minimum:g} or more."
            )
        else:
            kind = "a whole number" if self.type == "integer" else "a number"
            allowed = f"{kind} from {self.minimum:g} to {self.maximum:g}"
        return InvalidRequestError(self.code, f"{self.title} must be {allowed}.")


@functools.cache
def option_specs() -> tuple[OptionSpec, ...]:
    """Every option of :class:`StylizeOptions`, in order, read from its JSON Schema and its fields.

    Example:
        >>> [spec.name for spec in option_specs()][:3]
        ['weights', 'mix', 'strength']
    """
    schema = StylizeOptions.model_json_schema()
    specs = []
    for name, field in StylizeOptions.model_fields.items():
        prop = _resolve(schema, schema["properties"][name])
        bounds = prop.get("items", prop)
        specs.append(
            OptionSpec(
                name=name,
                type=prop["type"],
                title=str(field.title),
                description=str(field.description),
                default=field.default,
                minimum=bounds.get("minimum"),
                maximum=bounds.get("maximum"),
                choices=_choice_type(field.annotation),
                flag=next((m for m in field.metadata if isinstance(m, Flag)), Flag()),
            )
        )
    return tuple(specs)


def option_spec(name: str) -> OptionSpec:
    """The spec of one option, by name."""
    return next(spec for spec in option_specs() if spec.name == name)


def check_output_format(fmt: str) -> OutputFormat:
    """The output format ``fmt`` names (any case; ``jpg`` is JPEG), or refuse it.

    Example:
        >>> check_output_format("JPG")
        <OutputFormat.JPEG: 'jpeg'>
    """
    lowered = fmt.lower() if isinstance(fmt, str) else ""
    try:
        return OutputFormat("jpeg" if lowered == "jpg" else lowered)
    except ValueError:
        raise option_spec("format").refusal() from None


def regions_map_rule(regions_map: str = "regions_map") -> dict[str, Any]:
    """:meth:`StylizeOptions.validate`'s rule for a region map (only with the regions mix) as JSON
    Schema, for a request whose map is ``regions_map``.

    Example:
        >>> regions_map_rule()["anyOf"][1]["properties"]["mix"]
        {'const': 'regions'}
    """
    return {
        "anyOf": [
            {"properties": {regions_map: {"type": "null"}}},  # absent or null
            {"required": ["mix"], "properties": {"mix": {"const": Mix.REGIONS.value}}},
        ]
    }


def _resolve(schema: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    """A property's own schema: ``$ref`` followed, ``null`` left out of an ``anyOf``."""
    for choice in prop.get("anyOf", ()):
        if choice.get("type") != "null":
            return _resolve(schema, choice)
    if "$ref" in prop:
        return schema["$defs"][prop["$ref"].rsplit("/", 1)[-1]]
    return prop


def _choice_type(annotation: Any) -> type[Choice] | None:
    if isinstance(annotation, type) and issubclass(annotation, Choice):
        return annotation
    return next(filter(None, map(_choice_type, getattr(annotation, "__args__", ()))), None)


def _refusal(exc: ValidationError) -> InvalidRequestError:
    """The first problem of ``exc`` as the refusal of the option it is about."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else ""
    if name not in StylizeOptions.model_fields:
        return InvalidRequestError(UNKNOWN_OPTION, f"There is no option called {_printable(name)}.")
    return option_spec(name).refusal()


def _printable(name: str) -> str:
    return repr(re.sub(r"[^\w-]", "?", name[:40]))
