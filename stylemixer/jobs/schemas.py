"""The HTTP API's request and response bodies, as pydantic models.

Requests forbid unknown fields and bound every field, so Powertools' validation refuses a malformed
request before any code of ours runs, and the OpenAPI document it generates states the same bounds.
Rules that need more than one field (one weight per style, regions needs two styles) are checked by
:meth:`stylemixer.options.StylizeOptions.validate` in the service.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from stylemixer.jobs.model import ID_PATTERN
from stylemixer.limits import MAX_OUTPUT_SIDE, MAX_STYLES, MIN_OUTPUT_SIDE
from stylemixer.options import (
    DEFAULT_EDGE_SOFTNESS,
    DEFAULT_POSITION_WEIGHT,
    MAX_POSITION_WEIGHT,
    MAX_REGIONS,
    MIN_REGIONS,
)

#: Ceiling on the size a client may *declare*; the real limit (a 413 with a sentence) is in the service.
_MAX_DECLARED_BYTES = 1 << 40

UploadId = Annotated[
    str, Field(pattern=ID_PATTERN, min_length=32, max_length=32, description="An upload id.")
]
ContentType = Literal["image/jpeg", "image/png", "image/webp", "image/heic", "image/avif", "image/heif"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class UploadRequest(_Request):
    """Ask for a presigned POST for one picture."""

    purpose: Literal["content", "style"] = Field(
        description="The photo to paint, or a picture to paint it like."
    )
    content_type: ContentType
    size: int = Field(ge=1, le=_MAX_DECLARED_BYTES, description="The file's size in bytes.")


class PresetRef(_Request):
    """A preset style by id (see ``GET /styles``)."""

    preset: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")


class UploadRef(_Request):
    """A style picture uploaded with purpose ``style``."""

    upload: UploadId


class JobRequest(_Request):
    """One stylization: a content upload, one to four styles, and how to mix them."""

    content: UploadId
    styles: list[PresetRef | UploadRef] = Field(min_length=1, max_length=MAX_STYLES)
    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = Field(
        default=None, max_length=MAX_STYLES, description="Relative weights, one per style."
    )
    mix: Literal["blend", "regions"] = "blend"
    strength: float = Field(default=1.0, ge=0.0, le=1.0, allow_inf_nan=False)
    preserve_color: bool = False
    max_size: int | None = Field(default=None, ge=MIN_OUTPUT_SIDE, le=MAX_OUTPUT_SIDE)
    format: Literal["jpeg", "png", "webp"] = "jpeg"
    stroke: Literal["fine", "medium", "coarse"] | None = Field(
        default=None,
        description="Stroke size relative to the picture: fine, medium or coarse (default: medium).",
    )
    regions: int | None = Field(
        default=None,
        ge=MIN_REGIONS,
        le=MAX_REGIONS,
        description="Regions mix: how many regions the photo is cut into (default: twice the styles).",
    )
    position_weight: float = Field(
        default=DEFAULT_POSITION_WEIGHT,
        ge=0.0,
        le=MAX_POSITION_WEIGHT,
        allow_inf_nan=False,
        description="Regions mix: how much a pixel's position counts against its content.",
    )
    edge_softness: float = Field(
        default=DEFAULT_EDGE_SOFTNESS,
        ge=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="Regions mix: how far styles fade into each other at a region edge (0 sharp, 1 soft).",
    )


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
    expires_at: str
    max_bytes: int


class JobLinks(BaseModel):
    self: str


class JobAccepted(BaseModel):
    job_id: str
    status: Literal["queued"] = "queued"
    links: JobLinks


class ResultOut(BaseModel):
    url: str
    width: int
    height: int
    format: str
    regions_url: str | None = None
    expires_at: str


class JobOut(BaseModel):
    job_id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    stage: str
    progress: int = Field(ge=0, le=100)
    created_at: str
    updated_at: str
    error: ErrorBody | None = None
    result: ResultOut | None = None
