"""The bad-input catalogue: every hostile file and request tried, with the outcome it must get.

One list, read three ways: the tests run it (:mod:`tests.functional.test_bad_files` the files of
:data:`FUNCTIONAL_FILE_CASES`, :mod:`tests.reliability.test_bad_input` the rest), and
``docs/reliability.md`` shows it as a table that a test keeps in step (written by
``python -m tests.support.reliability_doc``).

An outcome is ``api:<status>:<code>`` (refused before anything is queued), ``failed:<code>`` (the
job is accepted and the worker fails it with that reason, no retry), or ``succeeded``; the codes
and their statuses are the definitions of :mod:`stylemixer.errors` (:func:`api`, :func:`failed`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from stylemixer.errors import (
    ANIMATED_IMAGE,
    CODES,
    CORRUPT_IMAGE,
    EMPTY_IMAGE,
    IMAGE_DIMENSIONS_TOO_LARGE,
    IMAGE_TOO_LARGE,
    IMAGE_TOO_SMALL,
    INVALID_JOB_ID,
    INVALID_REQUEST,
    JOB_NOT_FOUND,
    MALFORMED_JSON,
    METHOD_NOT_ALLOWED,
    NOT_AN_IMAGE,
    NOT_FOUND,
    REGIONS_MAP_INVALID,
    REGIONS_MAP_MISMATCH,
    REGIONS_MAP_NEEDS_REGIONS,
    REGIONS_MAP_STYLE_MISSING,
    REGIONS_MAP_TOO_LARGE,
    REQUEST_TOO_LARGE,
    TRUNCATED_IMAGE,
    UNKNOWN_STYLE,
    UNSUPPORTED_IMAGE_TYPE,
    UNSUPPORTED_MEDIA_TYPE,
    UPLOAD_EXPIRED,
    UPLOAD_NOT_FOUND,
    VALIDATION_ERROR,
    WRONG_UPLOAD_KIND,
)
from stylemixer.limits import MAX_UPLOAD_BYTES, UPLOAD_REUSE_SECONDS
from stylemixer.options import option_spec
from tests.support import imagefiles as files

if TYPE_CHECKING:
    from collections.abc import Callable

FUNCTIONAL_FILES_TEST = "tests/functional/test_bad_files.py::test_bad_file_gets_a_clear_answer"
FILES_TEST = "tests/reliability/test_bad_input.py::test_hostile_file"
REQUESTS_TEST = "tests/reliability/test_bad_input.py::test_hostile_request"


def api(code: str) -> str:
    """The outcome "refused by the API with ``code``", at the status the code is defined with.

    Example:
        >>> api(EMPTY_IMAGE)
        'api:400:EmptyImage'
    """
    refusal = CODES.get(code, CODES[INVALID_REQUEST])  # an option's code is an invalid request's
    return f"api:{refusal.status}:{code}"


def failed(code: str) -> str:
    """The outcome "accepted, then failed by the worker with ``code``"."""
    return f"failed:{code}"


def option_code(name: str) -> str:
    """The code a bad value of the option ``name`` is refused with (``InvalidWeights``, ...)."""
    return option_spec(name).code


#: A well-formed id that no upload or job has.
NOBODY = "0123456789abcdef0123456789abcdef"


@dataclass(frozen=True)
class Uploads:
    """Real uploads a request case may name: a content photo, a style picture and a region map
    drawn for the photo (for a two-style regions mix)."""

    content: str
    style: str
    map: str


@dataclass(frozen=True)
class FileCase:
    """A file uploaded (declared as ``declared_type``) and named by a one-preset job."""

    name: str
    expected: str
    make: Callable[[], bytes] | None = None
    declared_type: str = "image/jpeg"
    purpose: str = "content"
    test: str = FILES_TEST


@dataclass(frozen=True)
class RequestCase:
    """One HTTP request to the API, built from real uploads, sent ``later`` after they were made."""

    name: str
    expected: str
    method: str
    path: str
    body: Callable[[Uploads], Any] | None = None
    raw: Callable[[Uploads], str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    later: timedelta = timedelta(0)
    test: str = REQUESTS_TEST


def _job(u: Uploads, **extra: Any) -> dict[str, Any]:
    return {"content": u.content, "styles": [{"preset": "tapestry"}], **extra}


def _two(u: Uploads, **extra: Any) -> dict[str, Any]:
    return {"content": u.content, "styles": [{"preset": "tapestry"}, {"preset": "swirling-night"}], **extra}


def _upload(**extra: Any) -> Callable[[Uploads], dict[str, Any]]:
    base = {"purpose": "content", "content_type": "image/jpeg", "size": 1000}
    return lambda _u: {**base, **extra}


def _regions(u: Uploads, **extra: Any) -> dict[str, Any]:
    """A two-style regions mix of ``u``'s photo placed by ``u``'s map."""
    return _two(u, mix="regions", regions_map=u.map, **extra)


def _map_upload(**extra: Any) -> Callable[[Uploads], dict[str, Any]]:
    base = {"purpose": "map", "content_type": "image/png", "size": 1000}
    return lambda _u: {**base, **extra}


def region_map(size: tuple[int, int], mode: str = "P", right: int = 1) -> bytes:
    """A map of ``size`` as a person might draw it: style 0 on the left half, ``right`` on the right.

    ``mode`` "P" is how the regions mix writes maps; "L" a grey PNG of the same numbers; "RGB" its
    colours, which are no numbers.
    """
    from PIL import Image

    from stylemixer.regionmap import with_palette

    numbers = Image.new("L", size, 0)
    numbers.paste(right, (size[0] // 2, 0, size[0], size[1]))
    picture = {"P": with_palette(numbers), "L": numbers}.get(mode) or with_palette(numbers).convert(mode)
    return files.encode(picture, "PNG")


def _noisy_map_over_the_limit() -> bytes:
    """A grey PNG map of random numbers (incompressible) larger than the map limit."""
    from PIL import Image

    noise = np.random.default_rng(0).integers(0, 256, (2200, 2200), dtype=np.uint8)
    return files.encode(Image.fromarray(noise, "L"), "PNG")


def _png_declared_as_jpeg() -> bytes:
    return files.encode(files.quadrants(96, 96), "PNG")


def _over_the_limit() -> bytes:
    head = files.encode(files.quadrants(64, 64), "JPEG")
    return head + bytes(MAX_UPLOAD_BYTES + 1 - len(head))


def _text() -> bytes:
    return b"<html><body>not a painting</body></html>\n" * 10


#: Odd and hostile files the functional suite runs through the whole path.
FUNCTIONAL_FILE_CASES: list[FileCase] = [
    FileCase(name, expected, make, test=f"{FUNCTIONAL_FILES_TEST}[{name}]")
    for name, make, expected in [
        ("empty file", lambda: b"", api(EMPTY_IMAGE)),
        (
            "text renamed .jpg",
            lambda: b"Dear diary, today I renamed a text file.\n" * 20,
            api(NOT_AN_IMAGE),
        ),
        ("animated GIF", lambda: files.animated("GIF"), api(UNSUPPORTED_IMAGE_TYPE)),
        ("JPEG XL", lambda: files.JXL_HEAD, api(UNSUPPORTED_IMAGE_TYPE)),
        ("SVG", lambda: files.SVG, api(UNSUPPORTED_IMAGE_TYPE)),
        (
            "truncated JPEG",
            lambda: files.truncated(files.encode(files.quadrants(256, 256), "JPEG")),
            failed(TRUNCATED_IMAGE),
        ),
        (
            "PNG claiming 50000 x 50000",
            lambda: files.png_claiming(50000, 50000),
            api(IMAGE_DIMENSIONS_TOO_LARGE),
        ),
        (
            "JPEG claiming 50000 x 50000",
            lambda: files.jpeg_claiming(50000, 50000),
            api(IMAGE_DIMENSIONS_TOO_LARGE),
        ),
        (
            "WebP claiming 16384 x 16384",
            lambda: files.webp_claiming(16384, 16384),
            api(IMAGE_DIMENSIONS_TOO_LARGE),
        ),
        ("20000 x 10 strip", lambda: files.png_claiming(20000, 10), api(IMAGE_TOO_SMALL)),
        (
            "photo past the largest size painted (a 10000 x 400 panorama)",
            lambda: files.flat_png((10000, 400)),
            "succeeded",
        ),
        ("1 x 1 picture", lambda: files.flat_png((1, 1)), failed(IMAGE_TOO_SMALL)),
        ("animated WebP", lambda: files.animated("WEBP"), failed(ANIMATED_IMAGE)),
        ("animated PNG", lambda: files.animated("PNG"), failed(ANIMATED_IMAGE)),
        ("CMYK JPEG", files.cmyk_jpeg, "succeeded"),
        ("16-bit PNG", lambda: files.png_rgb16(np.full((48, 48, 3), 40000, dtype=np.uint16)), "succeeded"),
        ("EXIF-rotated JPEG", lambda: files.exif_rotated_jpeg(6), "succeeded"),
        ("palette PNG with transparency", files.palette_alpha_png, "succeeded"),
        ("multi-picture JPEG", files.mpo, "succeeded"),
        ("HEIC header with no picture", lambda: files.HEIC_HEAD, failed(CORRUPT_IMAGE)),
        (
            "truncated HEIC",
            lambda: files.truncated(files.heic(files.quadrants(128, 96))),
            failed(TRUNCATED_IMAGE),
        ),
        (
            "HEIC claiming 40000 x 30000",
            lambda: files.with_declared_size(files.heic(files.quadrants(64, 64)), 40000, 30000),
            api(IMAGE_DIMENSIONS_TOO_LARGE),
        ),
        (
            "AVIF claiming 40000 x 30000",
            lambda: files.with_declared_size(files.avif(files.quadrants(64, 64)), 40000, 30000),
            api(IMAGE_DIMENSIONS_TOO_LARGE),
        ),
        ("animated AVIF", files.animated_avif, failed(ANIMATED_IMAGE)),
        ("EXIF-rotated HEIC", lambda: files.heic(files.quadrants(96, 64), orientation=6), "succeeded"),
        ("EXIF-rotated AVIF", lambda: files.avif(files.quadrants(96, 64), orientation=6), "succeeded"),
    ]
]


def map_case(name: str, expected: str, make: Callable[[], bytes]) -> FileCase:
    """A region map (a PNG as the page sends it) for the two-style regions mix of a 96 x 72 photo."""
    return FileCase(name, expected, make, declared_type="image/png", purpose="map")


#: Files run by :mod:`tests.reliability.test_bad_input`.
FILE_CASES: list[FileCase] = [
    FileCase("PNG declared as image/jpeg (the declared type lies)", "succeeded", _png_declared_as_jpeg),
    FileCase(
        "upload larger than the 64 MB limit (the stand-in bucket took it)",
        api(IMAGE_TOO_LARGE),
        _over_the_limit,
    ),
    FileCase("HTML page uploaded as a style picture", api(NOT_AN_IMAGE), _text, purpose="style"),
    # -- region maps (a two-style regions mix of a 96 x 72 photo) ---------------------------------
    map_case(
        "region map as the regions mix writes it (palette PNG, half the size)",
        "succeeded",
        lambda: region_map((48, 36)),
    ),
    map_case(
        "region map as a grey PNG of style numbers",
        "succeeded",
        lambda: region_map((96, 72), "L"),
    ),
    map_case(
        "region map that is a JPEG",
        api(REGIONS_MAP_INVALID),
        lambda: files.encode(files.quadrants(96, 72), "JPEG"),
    ),
    map_case(
        "region map PNG cut short",
        api(REGIONS_MAP_INVALID),
        lambda: files.truncated(region_map((960, 720))),
    ),
    map_case(
        "region map in colour (RGB PNG of the palette's colours)",
        api(REGIONS_MAP_INVALID),
        lambda: region_map((96, 72), "RGB"),
    ),
    map_case(
        "region map naming style 2 of a two-style mix",
        api(REGIONS_MAP_STYLE_MISSING),
        lambda: region_map((96, 72), right=2),
    ),
    map_case(
        "region map drawn for a portrait picture (the photo is landscape)",
        api(REGIONS_MAP_MISMATCH),
        lambda: region_map((72, 96)),
    ),
    map_case(
        "region map larger than 4 MB (the stand-in bucket took it)",
        api(REGIONS_MAP_TOO_LARGE),
        _noisy_map_over_the_limit,
    ),
    map_case(
        "region map claiming 50000 x 50000 pixels",
        api(REGIONS_MAP_TOO_LARGE),
        lambda: files.png_claiming(50000, 50000),
    ),
]

REQUEST_CASES: list[RequestCase] = [
    # -- uploads -------------------------------------------------------------------------------
    RequestCase(
        "upload of 100 MB declared",
        api(IMAGE_TOO_LARGE),
        "POST",
        "/uploads",
        _upload(size=100 * 1024 * 1024),
    ),
    RequestCase(
        "upload declaring image/gif",
        api(VALIDATION_ERROR),
        "POST",
        "/uploads",
        _upload(content_type="image/gif"),
    ),
    RequestCase(
        "upload declaring image/svg+xml",
        api(VALIDATION_ERROR),
        "POST",
        "/uploads",
        _upload(content_type="image/svg+xml"),
    ),
    RequestCase("upload of size 0", api(VALIDATION_ERROR), "POST", "/uploads", _upload(size=0)),
    RequestCase(
        "upload with an unknown purpose",
        api(VALIDATION_ERROR),
        "POST",
        "/uploads",
        _upload(purpose="avatar"),
    ),
    RequestCase(
        "upload request missing its content_type",
        api(VALIDATION_ERROR),
        "POST",
        "/uploads",
        lambda _u: {"purpose": "content", "size": 1000},
    ),
    RequestCase(
        "upload with a path as purpose",
        api(VALIDATION_ERROR),
        "POST",
        "/uploads",
        _upload(purpose="../results"),
    ),
    RequestCase(
        "map upload declaring image/jpeg",
        api(REGIONS_MAP_INVALID),
        "POST",
        "/uploads",
        _map_upload(content_type="image/jpeg"),
    ),
    RequestCase(
        "map upload of 5 MB declared",
        api(REGIONS_MAP_TOO_LARGE),
        "POST",
        "/uploads",
        _map_upload(size=5 * 1024 * 1024),
    ),
    # -- jobs: what they name ------------------------------------------------------------------
    RequestCase(
        "job naming an upload that was never made",
        api(UPLOAD_NOT_FOUND),
        "POST",
        "/jobs",
        lambda u: {"content": NOBODY, "styles": [{"preset": "tapestry"}]},
    ),
    RequestCase(
        "job naming a photo uploaded 21 hours before (another try, too late)",
        api(UPLOAD_EXPIRED),
        "POST",
        "/jobs",
        _job,
        later=timedelta(seconds=UPLOAD_REUSE_SECONDS + 3600),
    ),
    RequestCase(
        "job naming a style picture uploaded 21 hours before",
        api(UPLOAD_EXPIRED),
        "POST",
        "/jobs",
        lambda u: {"content": u.content, "styles": [{"upload": u.style}]},
        later=timedelta(seconds=UPLOAD_REUSE_SECONDS + 3600),
    ),
    RequestCase(
        "style picture named with a control character",
        api(VALIDATION_ERROR),
        "POST",
        "/jobs",
        lambda u: {"content": u.content, "styles": [{"upload": u.style, "name": "a\u0007b.jpg"}]},
    ),
    RequestCase(
        "style upload used as the content",
        api(WRONG_UPLOAD_KIND),
        "POST",
        "/jobs",
        lambda u: {"content": u.style, "styles": [{"preset": "tapestry"}]},
    ),
    RequestCase(
        "content upload used as a style",
        api(WRONG_UPLOAD_KIND),
        "POST",
        "/jobs",
        lambda u: {"content": u.content, "styles": [{"upload": u.content}]},
    ),
    RequestCase(
        "region map without the regions mix",
        api(REGIONS_MAP_NEEDS_REGIONS),
        "POST",
        "/jobs",
        lambda u: _two(u, regions_map=u.map),
    ),
    RequestCase(
        "region map upload that was never made",
        api(UPLOAD_NOT_FOUND),
        "POST",
        "/jobs",
        lambda u: _two(u, mix="regions", regions_map=NOBODY),
    ),
    RequestCase(
        "photo upload named as the region map",
        api(WRONG_UPLOAD_KIND),
        "POST",
        "/jobs",
        lambda u: _two(u, mix="regions", regions_map=u.content),
    ),
    RequestCase(
        "region map uploaded 21 hours before",
        api(UPLOAD_EXPIRED),
        "POST",
        "/jobs",
        _regions,
        later=timedelta(seconds=UPLOAD_REUSE_SECONDS + 3600),
    ),
    RequestCase("region map given back for a regions mix", "succeeded", "POST", "/jobs", _regions),
    RequestCase(
        "unknown preset",
        api(UNKNOWN_STYLE),
        "POST",
        "/jobs",
        lambda u: {"content": u.content, "styles": [{"preset": "mona-lisa"}]},
    ),
    RequestCase(
        "preset with HTML in its id",
        api(VALIDATION_ERROR),
        "POST",
        "/jobs",
        lambda u: {"content": u.content, "styles": [{"preset": "<img src=x onerror=alert(1)>"}]},
    ),
    RequestCase(
        "content id with ../",
        api(VALIDATION_ERROR),
        "POST",
        "/jobs",
        lambda u: {"content": "../../results/" + NOBODY[:18], "styles": [{"preset": "tapestry"}]},
    ),
    # -- jobs: options -------------------------------------------------------------------------
    RequestCase(
        "5 styles",
        api(VALIDATION_ERROR),
        "POST",
        "/jobs",
        lambda u: {"content": u.content, "styles": [{"preset": "tapestry"}] * 5},
    ),
    RequestCase(
        "no style", api(VALIDATION_ERROR), "POST", "/jobs", lambda u: {"content": u.content, "styles": []}
    ),
    RequestCase(
        "negative weight", api(VALIDATION_ERROR), "POST", "/jobs", lambda u: _two(u, weights=[1, -1])
    ),
    RequestCase(
        "NaN weight (bare NaN in the JSON)",
        api(VALIDATION_ERROR),
        "POST",
        "/jobs",
        raw=lambda u: json.dumps(_two(u))[:-1] + ', "weights": [NaN, 1]}',
    ),
    RequestCase(
        "Infinity weight",
        api(VALIDATION_ERROR),
        "POST",
        "/jobs",
        raw=lambda u: json.dumps(_two(u))[:-1] + ', "weights": [Infinity, 1]}',
    ),
    RequestCase(
        "weights all zero", api(option_code("weights")), "POST", "/jobs", lambda u: _two(u, weights=[0, 0])
    ),
    RequestCase(
        "wrong number of weights",
        api(option_code("weights")),
        "POST",
        "/jobs",
        lambda u: _two(u, weights=[1, 2, 3]),
    ),
    RequestCase("strength 2", api(VALIDATION_ERROR), "POST", "/jobs", lambda u: _job(u, strength=2)),
    RequestCase(
        "strength as a string", api(VALIDATION_ERROR), "POST", "/jobs", lambda u: _job(u, strength="1")
    ),
    RequestCase("max_size 0", api(VALIDATION_ERROR), "POST", "/jobs", lambda u: _job(u, max_size=0)),
    RequestCase("max_size 10^9", api(VALIDATION_ERROR), "POST", "/jobs", lambda u: _job(u, max_size=10**9)),
    RequestCase(
        "regions with one style", api(option_code("mix")), "POST", "/jobs", lambda u: _job(u, mix="regions")
    ),
    RequestCase(
        "unknown output format", api(VALIDATION_ERROR), "POST", "/jobs", lambda u: _job(u, format="bmp")
    ),
    RequestCase(
        "unknown field",
        api(VALIDATION_ERROR),
        "POST",
        "/jobs",
        lambda u: _job(u, callback_url="http://169.254.169.254/"),
    ),
    # -- jobs: the body itself -----------------------------------------------------------------
    RequestCase("malformed JSON", api(MALFORMED_JSON), "POST", "/jobs", raw=lambda u: '{"content": '),
    RequestCase(
        "1 MB JSON body",
        api(REQUEST_TOO_LARGE),
        "POST",
        "/jobs",
        raw=lambda u: json.dumps(_job(u, pad="x" * (1 << 20))),
    ),
    RequestCase(
        "JSON nested 5000 deep",
        api(MALFORMED_JSON),
        "POST",
        "/jobs",
        raw=lambda u: "[" * 5000 + "]" * 5000,
    ),
    RequestCase(
        "a JSON array, not an object",
        api(VALIDATION_ERROR),
        "POST",
        "/jobs",
        raw=lambda u: json.dumps([_job(u)]),
    ),
    RequestCase("no body", api(VALIDATION_ERROR), "POST", "/jobs"),
    RequestCase(
        "form-encoded body (Content-Type text/plain)",
        api(UNSUPPORTED_MEDIA_TYPE),
        "POST",
        "/jobs",
        raw=lambda u: f"content={u.content}",
        headers={"content-type": "text/plain"},
    ),
    RequestCase(
        "missing Content-Type header (JSON body)",
        "succeeded",
        "POST",
        "/jobs",
        raw=lambda u: json.dumps(_job(u, max_size=64)),
        headers={"content-type": ""},
    ),
    # -- job ids and routes --------------------------------------------------------------------
    RequestCase("job id that is not an id", api(INVALID_JOB_ID), "GET", "/jobs/hello"),
    RequestCase("job id in upper case", api(INVALID_JOB_ID), "GET", "/jobs/" + NOBODY.upper()),
    RequestCase("path-like job id (..)", api(INVALID_JOB_ID), "GET", "/jobs/.."),
    RequestCase("path-like job id (%2e%2e%2f)", api(INVALID_JOB_ID), "GET", "/jobs/%2e%2e%2fuploads"),
    RequestCase("path through ../ to another route", api(NOT_FOUND), "GET", "/jobs/../uploads/x"),
    RequestCase("job that does not exist", api(JOB_NOT_FOUND), "GET", f"/jobs/{NOBODY}"),
    RequestCase("wrong HTTP method (PATCH a job)", api(METHOD_NOT_ALLOWED), "PATCH", f"/jobs/{NOBODY}"),
    RequestCase("delete a job without its owner token", api(JOB_NOT_FOUND), "DELETE", f"/jobs/{NOBODY}"),
    RequestCase("wrong HTTP method (PUT /uploads)", api(METHOD_NOT_ALLOWED), "PUT", "/uploads"),
    RequestCase("unknown route", api(NOT_FOUND), "GET", "/admin"),
]


def all_cases() -> list[FileCase | RequestCase]:
    """Every case in the order the docs list them: the functional suite's files, the others, requests."""
    return [*FUNCTIONAL_FILE_CASES, *FILE_CASES, *REQUEST_CASES]


def kind_of(case: FileCase | RequestCase) -> str:
    return "file" if isinstance(case, FileCase) else "request"


def describe(expected: str) -> str:
    """An outcome in words for the table, e.g. ``415 UnsupportedImageType``.

    Example:
        >>> describe(failed(TRUNCATED_IMAGE))
        'job failed: TruncatedImage'
    """
    kind, _, detail = expected.partition(":")
    if kind == "api":
        status, code = detail.split(":")
        return f"{status} {code}"
    if kind == "failed":
        return f"job failed: {detail}"
    return "job succeeded"
