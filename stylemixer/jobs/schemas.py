"""The HTTP API's request and response bodies, as pydantic models.

Requests forbid unknown fields and bound every field, so Powertools' validation refuses a malformed
request before any code of ours runs, and the OpenAPI document it generates states the same bounds:
ids with their pattern, presets by name, sizes with their limits. A job's options are
:class:`~stylemixer.options.StylizeOptions` itself; the rules that need more than one field (one
weight per style, regions needs two styles) are checked by its ``validate`` in the service and stated
in the document by :func:`~stylemixer.options.styles_rules_schema`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag
from pydantic_core import PydanticCustomError

from stylemixer.jobs.model import ID_PATTERN, UPLOAD_PURPOSES, UploadPurpose
from stylemixer.limits import (
    CLIP_CONTENT_TYPES,
    MAX_CLIP_BYTES,
    MAX_DECODED_SIDE,
    MAX_MAP_BYTES,
    MAX_STYLES,
    MAX_UPLOAD_BYTES,
    UPLOAD_CONTENT_TYPES,
)
from stylemixer.options import WHOLE, StylizeOptions, regions_map_rule, styles_rules_schema
from stylemixer.presets import PRESET_IDS

if TYPE_CHECKING:
    from collections.abc import Callable


def _one_of(values: tuple[str, ...], expected: str) -> Callable[[str], str]:
    """A check that a string is one of ``values`` (the document lists them as an ``enum``)."""
    allowed = frozenset(values)

    def check(value: str) -> str:
        if value not in allowed:
            raise PydanticCustomError("enum", "Input should be {expected}", {"expected": expected})
        return value

    return check


#: Longest name a caller may give an uploaded style picture (in characters).
MAX_LABEL_LENGTH = 100

#: An id we hand out (a job's or an upload's): 32 lower-case hex digits.
Id = Annotated[str, Field(pattern=ID_PATTERN, min_length=32, max_length=32)]
UploadId = Annotated[Id, Field(description="An upload id, from POST /uploads.")]
#: What an upload may declare itself: a picture's type, or a clip's (the photo to paint only).
UPLOAD_TYPES: tuple[str, ...] = (*UPLOAD_CONTENT_TYPES, *CLIP_CONTENT_TYPES)
ContentType = Annotated[
    str,
    Field(json_schema_extra={"enum": list(UPLOAD_TYPES)}),
    AfterValidator(_one_of(UPLOAD_TYPES, "one of " + ", ".join(UPLOAD_TYPES))),
]
PresetId = Annotated[
    str,
    Field(json_schema_extra={"enum": list(PRESET_IDS)}),
    AfterValidator(_one_of(PRESET_IDS, "the id of a preset (see GET /styles)")),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def map_upload_rule() -> dict[str, Any]:
    """As JSON Schema, what the service requires of an upload of purpose ``map``: a PNG, no larger
    than a map may be (the model takes any picture type and size; the service refuses with its codes).

    Example:
        >>> map_upload_rule()["anyOf"][1]["properties"]["content_type"]
        {'const': 'image/png'}
    """
    pictures = [p for p in UPLOAD_PURPOSES if p != "map"]
    return {
        "anyOf": [
            {"properties": {"purpose": {"enum": pictures}}},
            {
                "properties": {
                    "purpose": {"const": "map"},
                    "content_type": {"const": "image/png"},
                    "size": {"maximum": MAX_MAP_BYTES},
                }
            },
        ]
    }


def upload_size_rule() -> dict[str, Any]:
    """As JSON Schema, what the service requires of an upload's declared size and kind: a picture
    of at most MAX_UPLOAD_BYTES, or a clip (purpose content) of at most MAX_CLIP_BYTES.

    Example:
        >>> upload_size_rule()["anyOf"][1]["properties"]["size"]
        {'maximum': 209715200}
    """
    return {
        "anyOf": [
            {
                "properties": {
                    "content_type": {"enum": list(UPLOAD_CONTENT_TYPES)},
                    "size": {"maximum": MAX_UPLOAD_BYTES},
                }
            },
            {
                "properties": {
                    "purpose": {"const": "content"},
                    "content_type": {"enum": list(CLIP_CONTENT_TYPES)},
                    "size": {"maximum": MAX_CLIP_BYTES},
                }
            },
        ]
    }


class UploadRequest(_Request):
    """Ask for a presigned POST for one picture (or one region map)."""

    model_config = ConfigDict(json_schema_extra={**map_upload_rule(), "allOf": [upload_size_rule()]})

    purpose: UploadPurpose = Field(
        description="The photo or clip to paint (content), a picture to paint it like (style), or a "
        "region map for a regions mix (map: a PNG of style numbers, see POST /jobs's regions_map)."
    )
    content_type: ContentType = Field(
        description="The file's type (its bytes are checked too): a picture's, a clip's (video/mp4 or "
        "video/quicktime, purpose content only); a map is image/png."
    )
    size: Annotated[int, Field(ge=1, le=MAX_CLIP_BYTES), WHOLE] = Field(
        description=f"The file's size in bytes: a picture's at most {MAX_UPLOAD_BYTES}, a clip's at most "
        f"{MAX_CLIP_BYTES}, a map's at most {MAX_MAP_BYTES}."
    )


class PresetRef(_Request):
    """A preset style by id (see ``GET /styles``)."""

    preset: PresetId = Field(description="A preset's id, from GET /styles.")


#: A name a person gave a picture (its file name, say): printable, short, shown back as text.
Label = Annotated[str, Field(min_length=1, max_length=MAX_LABEL_LENGTH, pattern=r"^[^\x00-\x1f\x7f]+$")]


class UploadRef(_Request):
    """A style picture uploaded with purpose ``style``."""

    upload: UploadId
    name: Label | None = Field(
        None, description="What to call the picture (e.g. its file name); GET /jobs/{job_id} shows it back."
    )


def _style_kind(value: Any) -> str | None:
    """Which kind of style ``value`` is, so that a refusal speaks of that kind only."""
    if isinstance(value, dict):
        return "upload" if "upload" in value else "preset"
    if isinstance(value, PresetRef | UploadRef):
        return "preset" if isinstance(value, PresetRef) else "upload"
    return None


StyleChoice = Annotated[
    Annotated[PresetRef, Tag("preset")] | Annotated[UploadRef, Tag("upload")], Discriminator(_style_kind)
]


class PhotoSize(_Request):
    """A photo's own size in pixels, upright (as it is shown)."""

    width: Annotated[int, Field(ge=1, le=MAX_DECODED_SIDE), WHOLE]
    height: Annotated[int, Field(ge=1, le=MAX_DECODED_SIDE), WHOLE]


class JobRequest(StylizeOptions):
    """One stylization: a content upload, one to four styles, and how to paint them."""

    model_config = ConfigDict(json_schema_extra={**styles_rules_schema(), "allOf": [regions_map_rule()]})

    content: UploadId
    styles: list[StyleChoice] = Field(min_length=1, max_length=MAX_STYLES)
    regions_map: UploadId | None = Field(
        None,
        description="Regions mix only: where each style goes, as drawn, instead of planned. An upload "
        "of purpose map: a PNG of the photo's shape whose pixel value k (a palette's index, or a grey "
        "value) is the k-th style, as a job's regions_url gives it; every value must name a style.",
    )
    reduced_from: PhotoSize | None = Field(
        None,
        description="The photo's own size, when it was brought down to the largest size painted before "
        "it was uploaded (the page does, where the browser can decode the photo): the job's painting then "
        "says it is painted smaller than the photo. Brought down, it must give the size of the photo "
        "uploaded; a photo only.",
    )

    def validate(self, n_styles: int, n_presets: int | None = None, *, with_map: bool = False) -> None:
        """The options' rules (:meth:`StylizeOptions.validate`), with this request's region map.

        Example:
            >>> request = JobRequest(content="0" * 32, styles=[PresetRef(preset="tapestry")] * 2,
            ...                      regions_map="1" * 32)
            >>> request.validate(2)
            Traceback (most recent call last):
            ...
            stylemixer.errors.InvalidRequestError: A region map places the styles of the regions mix (mix: ...
        """
        super().validate(n_styles, n_presets, with_map=with_map or self.regions_map is not None)


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    """Every refusal: a stable code for programs and a sentence for people."""

    error: ErrorBody


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class StyleOut(BaseModel):
    id: str
    name: str
    thumbnail_url: str


class StylesResponse(BaseModel):
    styles: list[StyleOut]


class UploadTicket(BaseModel):
    """POST ``fields`` plus the file (last, named ``file``) to ``url`` as multipart/form-data."""

    upload_id: str
    url: str
    fields: dict[str, str]
    expires_at: str = Field(description="The POST must be made before then.")
    max_bytes: int
    usable_until: str = Field(
        description="New jobs may name the upload until then (it is deleted some hours later); "
        "after that, upload the picture again."
    )


class JobLinks(BaseModel):
    self: str


class PaintingOut(BaseModel):
    """The size a job paints at: the photo's own, or, for a photo past the largest size painted (50
    megapixels, 8192 pixels on a side), that size (``reduced``), keeping its shape; within
    ``max_size`` if the job asks for less. From the photo's header when the job is posted, from the
    photo itself once it is painted."""

    width: int
    height: int
    reduced: bool = Field(
        description="The photo is larger than the largest size painted and is brought down to it."
    )
    photo_width: int = Field(
        description="The photo's own width: as its header gives it, or the request's reduced_from."
    )
    photo_height: int = Field(
        description="The photo's own height: as its header gives it, or the request's reduced_from."
    )


class JobAccepted(BaseModel):
    job_id: str
    status: Literal["queued"] = "queued"
    links: JobLinks
    owner_token: str = Field(
        description="Given once, here, and never again: sent as `Authorization: Bearer <owner_token>`, it "
        "shows the job's photo and deletes the job. Keep it; the job's link alone shows the result."
    )
    painting: PaintingOut | None = Field(
        None,
        description="The size the result will have, which GET /jobs/{job_id} answers too; null when the "
        "photo's header does not say its size (the worker reads it, and the job answers it once painted), "
        "and for a clip. For a PNG, WebP, HEIC or AVIF turned upright by metadata "
        "stored after its header, width and height may be the other way round.",
    )


class ResultOut(BaseModel):
    url: str
    width: int
    height: int
    format: str
    regions_url: str | None = None
    thumbnail_url: str | None = Field(
        None,
        description="Presigned GET of a small JPEG of the picture (shorter side 400 pixels, longer at "
        "most 1600, never larger than the picture), for lists of results; null for a clip and for a "
        "job painted before thumbnails were made.",
    )
    expires_at: str


class PictureOut(BaseModel):
    """An uploaded picture a job names: its upload id, and a short-lived link to see it."""

    upload: str
    url: str = Field(
        description="Presigned GET, valid 15 minutes, fresh on every poll; it fails once the upload "
        "itself has been deleted (a day after it was stored, or when the job is deleted)."
    )


class StyleAsked(BaseModel):
    """One style of a job as asked for: a preset or an upload, with a name and a picture to show."""

    preset: str | None = None
    upload: str | None = None
    name: str = Field(description="The preset's name, or the name given to the picture when it was sent.")
    thumbnail_url: str = Field(description="The preset's thumbnail, or a presigned GET of the picture.")


class JobAsked(StylizeOptions):
    """What a job asked for: the photo, the styles, and every option as the job uses it."""

    model_config = ConfigDict(strict=False, frozen=False)

    content: PictureOut | None = Field(
        description="The photo: for the job's owner only (the request carries its owner token), else null."
    )
    styles: list[StyleAsked]
    regions_map: PictureOut | None = Field(
        None,
        description="The region map the job was given (regions mix), if it was given one; for the "
        "owner only.",
    )


class JobOut(BaseModel):
    job_id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    stage: str
    progress: int = Field(ge=0, le=100)
    created_at: str
    updated_at: str
    request: JobAsked = Field(description="What was asked for, with names and links to show it.")
    owner: bool = Field(
        description="Whether the request carried the job's owner token (then the photo is shown too)."
    )
    links_expire_at: str = Field(description="When the links in this answer stop working: ask again.")
    painting: PaintingOut | None = Field(
        None,
        description="The size the job paints at and the photo's own (reduced: painted smaller than the "
        "photo, brought down to the largest size painted): as POST /jobs answered, then, once the job "
        "has succeeded, as it was painted. Null for a clip, and while the size is not known (the photo's "
        "header did not say it).",
    )
    error: ErrorBody | None = None
    result: ResultOut | None = None
