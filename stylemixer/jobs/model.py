"""A job and the rules it moves by: ``queued -> running -> succeeded | failed``, never backwards.

The rules are written once here and enforced twice: by the storage adapters as conditional writes
(so two workers racing on one job cannot undo each other) and by the in-memory fakes the unit tests
use (so the tests exercise the same rules).
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from stylemixer.errors import INVALID_JOB_ID, JOB_NOT_FOUND, UPLOAD_EXPIRED, UPLOAD_NOT_FOUND, StyleMixerError
from stylemixer.options import StylizeOptions
from stylemixer.resources import RESULTS_PREFIX, UPLOADS_PREFIX


class JobStatus(StrEnum):
    """Where a job is in its life; ``succeeded`` and ``failed`` are final."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINAL_STATUSES: frozenset[JobStatus] = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED})
#: A worker may (re)start a job that is queued, or running after a crash or a visibility timeout.
START_FROM: frozenset[JobStatus] = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})
#: Only a running job can succeed (its result was just written by the worker that runs it).
SUCCEED_FROM: frozenset[JobStatus] = frozenset({JobStatus.RUNNING})
#: Any job that has not finished can fail (the dead-letter handler fails queued ones too).
FAIL_FROM: frozenset[JobStatus] = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})

#: What an upload is for: the photo, a style picture, or a region map (regions mix; see
#: :mod:`stylemixer.regionmap`). Each has its own key prefix, so one cannot pose as another.
UploadPurpose = Literal["content", "style", "map"]
UPLOAD_PURPOSES: tuple[UploadPurpose, ...] = ("content", "style", "map")

#: Ids are 32 lower-case hex digits (a uuid4: 122 random bits, unguessable).
_ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
ID_PATTERN = _ID_PATTERN.pattern


class JobNotFoundError(StyleMixerError):
    """No job has this id (or it expired)."""

    code = JOB_NOT_FOUND


class UploadNotFoundError(StyleMixerError):
    """A job names an upload that was never completed or has expired (404, as a job id that names
    nothing: the request is well formed, what it names is not there)."""

    code = UPLOAD_NOT_FOUND


class UploadExpiredError(StyleMixerError):
    """A job names an upload stored longer ago than new jobs may use it (410: it was there, and is
    gone for this purpose; upload the picture again). See :data:`stylemixer.limits.UPLOAD_REUSE_SECONDS`."""

    code = UPLOAD_EXPIRED


def new_id() -> str:
    """A fresh unguessable id for a job or an upload.

    Example:
        >>> len(new_id())
        32
    """
    return uuid.UUID(bytes=secrets.token_bytes(16), version=4).hex


def is_valid_id(value: object) -> bool:
    """True when ``value`` has the shape of an id we hand out (checked before any lookup)."""
    return isinstance(value, str) and _ID_PATTERN.fullmatch(value) is not None


def check_job_id(value: str) -> str:
    """Return ``value`` if it is a well-formed job id, else refuse it (400, not 404 or 500)."""
    if not is_valid_id(value):
        raise StyleMixerError(INVALID_JOB_ID, "That is not a job id: ids are 32 hexadecimal characters.")
    return value


def upload_key(purpose: UploadPurpose, upload_id: str) -> str:
    """The object key of an upload; the purpose is part of it, so a style cannot pose as content.

    Example:
        >>> upload_key("content", "0" * 32)
        'uploads/content/00000000000000000000000000000000'
    """
    return f"{UPLOADS_PREFIX}{purpose}/{upload_id}"


#: A painted clip's result key ends so: ``results/<job id>.mp4``, H.264 in MP4 (see :mod:`stylemixer.clips`).
CLIP_EXTENSION = "mp4"


def result_key(job_id: str, extension: str) -> str:
    """The deterministic key of a job's picture, so a redelivered message overwrites it with the same."""
    return f"{RESULTS_PREFIX}{job_id}.{extension}"


def regions_key(job_id: str) -> str:
    """The deterministic key of a job's region map (regions mix only)."""
    return f"{RESULTS_PREFIX}{job_id}.regions.png"


def thumbnail_key(job_id: str) -> str:
    """The deterministic key of a painted picture's small copy, which lists of results show
    instead of the full-size picture (see :func:`stylemixer.images.thumbnail_jpeg`)."""
    return f"{RESULTS_PREFIX}{job_id}.thumb.jpg"


def utcnow() -> datetime:
    """Now, timezone-aware, to the millisecond (what is stored)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso(moment: datetime) -> str:
    """An ISO 8601 UTC timestamp with a ``Z``, as the API returns them."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class StyleRef:
    """One style of a job: a preset id or a style upload id (exactly one is set); an upload may
    carry the ``name`` the caller gave it (a file name), shown back with the job.

    Example:
        >>> StyleRef.from_dict(StyleRef(upload="0" * 32, name="muse.jpg").to_dict()).name
        'muse.jpg'
    """

    preset: str | None = None
    upload: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, str]:
        if self.preset is not None:
            return {"preset": self.preset}
        return {"upload": str(self.upload)} | ({"name": self.name} if self.name is not None else {})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StyleRef:
        return cls(preset=data.get("preset"), upload=data.get("upload"), name=data.get("name"))


@dataclass(frozen=True, slots=True)
class JobParams:
    """What the caller asked for, already validated by the API (stored with the job).

    Stored as one flat JSON object: ``content``, ``styles``, ``regions_map`` when a map was given
    (the upload id of a region map that replaces the planning of a regions mix), ``reduced_from``
    when the photo was brought down before it was sent (its own size, ``{"width", "height"}``: the
    worker tells the person so, see :mod:`stylemixer.jobs.painting`), and the options' own keys
    (records written before an option existed lack it and load with its default).

    Example:
        >>> params = JobParams("0" * 32, (StyleRef(preset="tapestry"),))
        >>> JobParams.from_dict(params.to_dict()) == params
        True
        >>> drawn = JobParams("0" * 32, params.styles * 2, regions_map="1" * 32, reduced_from=(9000, 40))
        >>> "regions_map" in params.to_dict(), JobParams.from_dict(drawn.to_dict()) == drawn
        (False, True)
    """

    content: str
    styles: tuple[StyleRef, ...]
    options: StylizeOptions = field(default_factory=StylizeOptions)
    regions_map: str | None = None
    reduced_from: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        styles = [s.to_dict() for s in self.styles]
        given: dict[str, Any] = {"regions_map": self.regions_map} if self.regions_map is not None else {}
        if self.reduced_from is not None:
            given["reduced_from"] = {"width": self.reduced_from[0], "height": self.reduced_from[1]}
        return {"content": self.content, "styles": styles, **given, **self.options.record()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobParams:
        sent_from = data.get("reduced_from")
        return cls(
            content=data["content"],
            styles=tuple(StyleRef.from_dict(s) for s in data["styles"]),
            options=StylizeOptions.from_record(data),
            regions_map=data.get("regions_map"),
            reduced_from=(int(sent_from["width"]), int(sent_from["height"])) if sent_from else None,
        )


@dataclass(frozen=True, slots=True)
class JobError:
    """Why a job failed: a stable code and a sentence for a person."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class JobResult:
    """Where a succeeded job's picture is, and what it is."""

    key: str
    width: int
    height: int
    format: str
    regions_key: str | None = None
    #: The picture's small copy (None for a clip, and for jobs painted before there were any).
    thumbnail_key: str | None = None


@dataclass(frozen=True, slots=True)
class Painting:
    """The size a job's photo is painted at (``width`` x ``height``) and the photo's own, and whether
    it was brought down to the largest size painted (``reduced``; ``max_size`` makes a picture
    smaller without that).

    Kept with the job, not only answered once to ``POST /jobs``: whoever opens the job later (after
    a reload, from a shared link) is told too that the result was painted smaller than the photo.
    Taken from the photo's header when the job is posted, then from the photo itself by the worker
    once it has painted it (see :mod:`stylemixer.jobs.painting`).
    """

    width: int
    height: int
    reduced: bool
    photo_width: int
    photo_height: int


@dataclass(frozen=True, slots=True)
class Job:
    """One stylization request and its progress, as stored."""

    job_id: str
    params: JobParams
    created_at: datetime
    updated_at: datetime
    expires_at_epoch: int
    status: JobStatus = JobStatus.QUEUED
    stage: str = "queued"
    progress: int = 0
    attempts: int = 0
    error: JobError | None = None
    result: JobResult | None = None
    #: The SHA-256 of the owner token POST /jobs handed out (the token itself is never stored); None
    #: for a job made before jobs had owners, which no one can then delete or see the photo of.
    owner_hash: str | None = None
    #: The size the photo is painted at and its own; None for a clip, for a photo whose header did
    #: not say until the worker has painted it, and for a job made before jobs kept it.
    painting: Painting | None = None

    def with_changes(self, **changes: Any) -> Job:
        """A copy with ``changes`` applied (jobs are immutable values)."""
        return replace(self, **changes)
