"""One error type for everything a caller can get wrong, and every code a refusal carries, once.

Every refusal carries a stable ``code`` (what programs match on), a ``message`` written for a person,
and the HTTP ``status`` the API answers with. Anything that is *not* a :class:`StyleMixerError` is
a bug or an outage and is reported as a generic failure that leaks nothing internal.

Each code is one constant below, made with the status it is answered with and when it is given
(:data:`CODES`); the modules that refuse name the constant, never the string, so one refusal has
one code wherever it is found (``tests/unit/test_error_codes.py`` holds every code's string to this
module). The codes of a bad option value are made from the option's name instead
(``InvalidMaxSize`` for ``max_size``: :attr:`stylemixer.options.OptionSpec.code`). The table of codes
in ``docs/reliability.md`` and the bad-input catalogue's outcomes are written from :data:`CODES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Refusal:
    """What a code means: the HTTP ``status`` it is answered with (``None``: a job's failure reason,
    never an answer of the API) and ``when`` it is given, in a few words."""

    code: str
    status: int | None
    when: str


#: Every code, by its string.
CODES: dict[str, Refusal] = {}


def _code(code: str, status: int | None, when: str) -> str:
    """Register ``code`` and return it: ``NAME: Final = _code(...)`` is a code's one definition."""
    if code in CODES:
        raise ValueError(f"the error code {code!r} is defined twice")
    CODES[code] = Refusal(code, status, when)
    return code


# -- requests in general -------------------------------------------------------------------------
BAD_REQUEST: Final = _code("BadRequest", 400, "a request that cannot be read (a bad Content-Length)")
INVALID_REQUEST: Final = _code("InvalidRequest", 400, "a parameter out of range or an inconsistent request")
MALFORMED_JSON: Final = _code("MalformedJson", 400, "the body is not JSON")
REQUEST_TOO_LARGE: Final = _code("RequestTooLarge", 413, "the body is larger than the API reads")
UNSUPPORTED_MEDIA_TYPE: Final = _code("UnsupportedMediaType", 415, "the body is not sent as application/json")
VALIDATION_ERROR: Final = _code("ValidationError", 422, "the body does not match the route's model")
NOT_FOUND: Final = _code("NotFound", 404, "no such route")
METHOD_NOT_ALLOWED: Final = _code("MethodNotAllowed", 405, "the route exists with another method")
LENGTH_REQUIRED: Final = _code("LengthRequired", 411, "a chunked body sent to the local stack")
INTERNAL_ERROR: Final = _code("InternalError", 500, "anything unexpected (the message says nothing more)")
STARTING: Final = _code("Starting", 503, "the local stack is still starting")
EMBEDDED_AWS_CHANGED: Final = _code(
    "EmbeddedAwsChanged", 500, "the local stack's embedded AWS (moto) no longer behaves as it relies on"
)

# -- pictures ------------------------------------------------------------------------------------
INVALID_IMAGE: Final = _code("InvalidImage", 400, "bytes that are not a picture we can read")
EMPTY_IMAGE: Final = _code("EmptyImage", 400, "the file is empty")
NOT_AN_IMAGE: Final = _code("NotAnImage", 415, "the file's bytes are not a picture")
UNSUPPORTED_IMAGE_TYPE: Final = _code("UnsupportedImageType", 415, "a picture of another type (GIF, SVG...)")
ANIMATED_IMAGE: Final = _code("AnimatedImage", 415, "an animated WebP, PNG or AVIF")
TRUNCATED_IMAGE: Final = _code("TruncatedImage", 400, "the file ends before its picture does")
CORRUPT_IMAGE: Final = _code("CorruptImage", 400, "the picture's data is damaged")
FILE_NOT_READABLE: Final = _code("FileNotReadable", 400, "a picture's path that cannot be read")
IMAGE_TOO_LARGE: Final = _code("ImageTooLarge", 413, "more bytes than an upload may have")
IMAGE_DIMENSIONS_TOO_LARGE: Final = _code(
    "ImageDimensionsTooLarge", 413, "more pixels, or a longer side, than a picture may have"
)
IMAGE_TOO_SMALL: Final = _code("ImageTooSmall", 400, "a side shorter than a picture may have")

# -- region maps (stylemixer.regionmap) ----------------------------------------------------------
REGIONS_MAP_INVALID: Final = _code(
    "RegionsMapInvalid", 400, "not a PNG, cut short, damaged, animated, or not one style number per pixel"
)
REGIONS_MAP_TOO_LARGE: Final = _code("RegionsMapTooLarge", 413, "more bytes or pixels than a map may have")
REGIONS_MAP_STYLE_MISSING: Final = _code("RegionsMapStyleMissing", 400, "a pixel names no style of the job")
REGIONS_MAP_MISMATCH: Final = _code("RegionsMapMismatch", 400, "the map's shape is not the photo's")
REGIONS_MAP_NEEDS_REGIONS: Final = _code("RegionsMapNeedsRegions", 400, "a map given without the regions mix")
REGIONS_MAP_ONE_PHOTO: Final = _code("RegionsMapOnePhoto", 400, "a map given for several photos at once")

# -- clips (stylemixer.clips; docs/clips.md) -----------------------------------------------------
NOT_A_VIDEO: Final = _code("NotAVideo", 400, "the bytes are not a video container, or it holds only sound")
TRUNCATED_CLIP: Final = _code("TruncatedClip", 400, "a clip that ends before its boxes or its frames do")
CORRUPT_CLIP: Final = _code("CorruptClip", 400, "a clip's container or video that cannot be read")
UNSUPPORTED_VIDEO_CODEC: Final = _code(
    "UnsupportedVideoCodec", 415, "a clip's video in another codec than H.264 or HEVC (ProRes, AV1...)"
)
CLIP_TOO_LONG: Final = _code("ClipTooLong", 413, "a clip longer than the longest accepted")
CLIP_DIMENSIONS_TOO_LARGE: Final = _code("ClipDimensionsTooLarge", 413, "a clip's frames larger than 1080p")
CLIP_TOO_SMALL: Final = _code("ClipTooSmall", 400, "a clip's frames with a side shorter than a picture's")
CLIP_TOO_MUCH_WORK: Final = _code(
    "ClipTooMuchWork", 413, "more painting than one job may do at the stroke and output size asked"
)
CLIP_TOO_LARGE: Final = _code("ClipTooLarge", 413, "more bytes than a clip may have")
REGIONS_NOT_FOR_CLIPS: Final = _code("RegionsNotForClips", 400, "the regions mix or a region map for a clip")
CLIP_NOT_ALLOWED: Final = _code("ClipNotAllowed", 415, "a clip where only a picture can be (a style)")

# -- styles and options (stylemixer.options, stylemixer.presets) ---------------------------------
NO_STYLE: Final = _code("NoStyle", 400, "no style chosen")
TOO_MANY_STYLES: Final = _code("TooManyStyles", 400, "more styles than can be mixed")
MIXED_STYLE_KINDS: Final = _code("MixedStyleKinds", 400, "a blend of presets with pictures")
UNKNOWN_STYLE: Final = _code("UnknownStyle", 400, "a preset id that does not exist")
UNKNOWN_OPTION: Final = _code("UnknownOption", 400, "an option that does not exist")

# -- jobs and uploads (stylemixer.jobs) ----------------------------------------------------------
INVALID_JOB_ID: Final = _code("InvalidJobId", 400, "a job id that is not 32 hex digits")
JOB_NOT_FOUND: Final = _code("JobNotFound", 404, "no job has that id (or it expired)")
UPLOAD_NOT_FOUND: Final = _code("UploadNotFound", 404, "an upload never completed, or deleted")
UPLOAD_EXPIRED: Final = _code("UploadExpired", 410, "an upload too old for new jobs")
WRONG_UPLOAD_KIND: Final = _code("WrongUploadKind", 400, "an upload named as another kind than it is")
TIMED_OUT: Final = _code("TimedOut", 503, "painting did not finish within the function's time")
PROCESSING_FAILED: Final = _code("ProcessingFailed", None, "the worker failed on every allowed attempt")
QUEUE_UNAVAILABLE: Final = _code("QueueUnavailable", None, "the job could not be queued")
WEIGHTS_MISSING: Final = _code("WeightsMissing", 500, "the weight file is not built (an operator's problem)")

# -- a public page: limits per client, admission, owners (stylemixer.admission, stylemixer.jobs) ---
TOO_MANY_JOBS: Final = _code("TooManyJobs", 429, "a client sent as many jobs as it may in a clock hour")
TOO_MANY_JOBS_IN_FLIGHT: Final = _code(
    "TooManyJobsInFlight", 429, "a client has as many jobs queued or running as it may"
)
UPLOAD_QUOTA_EXCEEDED: Final = _code(
    "UploadQuotaExceeded", 429, "a client declared as many upload bytes as it may in a clock hour"
)
BUSY: Final = _code("Busy", 503, "the queue holds more work than the workers finish in the allowed minutes")
UPLOAD_USED_UP: Final = _code("UploadUsedUp", 410, "an upload named by as many jobs as one may be")
NOT_OWNER: Final = _code("NotOwner", 403, "a request that needs the job's owner token without it")
USE_THE_SITE: Final = _code(
    "UseTheSite", 403, "behind the site's CloudFront, a request sent to the API's own address"
)
TOO_MANY_REQUESTS: Final = _code(
    "TooManyRequests", 429, "behind the site's CloudFront, an address over the firewall's rate"
)
QUEUE_EXPIRED: Final = _code("QueueExpired", None, "the job waited longer than the queue keeps a message")

# -- the command line and the local stack (stylemixer.cli, stylemixer.batch, stylemixer.local) ---
INPUT_NOT_FOUND: Final = _code("InputNotFound", 400, "no file at a photo's path")
CANNOT_WRITE: Final = _code("CannotWrite", 400, "an output that cannot be written")
OUTPUT_NOT_A_FOLDER: Final = _code("OutputNotAFolder", 400, "several photos and an output that is a file")
OUTPUT_IS_INPUT: Final = _code("OutputIsInput", 400, "a result would overwrite a photo")
OUTPUT_CLASH: Final = _code("OutputClash", 400, "two results would be written to one file")
SITE_MISSING: Final = _code("SiteMissing", 400, "the local stack is started outside a checkout")
PORT_UNAVAILABLE: Final = _code("PortUnavailable", 400, "the local stack's port is taken")


class StyleMixerError(Exception):
    """A failure the caller can understand and act on.

    ``status`` is the code's own (:data:`CODES`) unless given. A subclass names the code a refusal
    of its kind takes when none is given: the kinds several modules raise are below, the others
    beside what raises them (``UnknownStyleError`` in :mod:`stylemixer.presets`, the jobs' in
    :mod:`stylemixer.jobs.model`...).

    Example:
        >>> error = StyleMixerError(IMAGE_TOO_LARGE, "The picture is 60 MB; the limit is 25 MB.")
        >>> error.status, error.to_dict()
        (413, {'code': 'ImageTooLarge', 'message': 'The picture is 60 MB; the limit is 25 MB.'})
    """

    code: str = BAD_REQUEST

    def __init__(self, code: str | None = None, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if status is None:  # the code's own; a code made from an option's name is a bad request's
            status = getattr(CODES.get(self.code), "status", None) or CODES[BAD_REQUEST].status
        self.status: int = status
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """The body the API and the CLI's ``--json`` report: ``{"code", "message"}``."""
        return {"code": self.code, "message": self.message}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class InvalidImageError(StyleMixerError):
    """The bytes are not a picture we can read (not an image, truncated, unsupported type)."""

    code = INVALID_IMAGE


class ImageTooLargeError(StyleMixerError):
    """The picture is larger than a limit allows (bytes, pixels or side length)."""

    code = IMAGE_TOO_LARGE


class InvalidRequestError(StyleMixerError):
    """A parameter is out of range or the request is inconsistent (e.g. too many styles)."""

    code = INVALID_REQUEST
