"""Odd and hostile files through the whole path: each gets a 4xx, a job failed with its reason, or a result.

Never a 5xx, never a worker crash (a retry), never a result left behind for a failed job. The files
are made at test time by :mod:`tests.support.imagefiles` (the image I/O tests' own factory).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from tests.support import imagefiles as files
from tests.support.aws import FakeEngine, Stack, assert_outcome, call_api
from tests.support.aws import upload_through_presigned_post as upload

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

#: (case, file factory, expected outcome): an API refusal "api:<status>:<code>", a job failure
#: "failed:<code>", or "succeeded".
CASES: list[tuple[str, Callable[[], bytes], str]] = [
    ("empty file", lambda: b"", "api:400:EmptyImage"),
    ("text renamed .jpg", lambda: b"Dear diary, today I renamed a text file.\n" * 20, "api:415:NotAnImage"),
    ("animated GIF", lambda: files.animated("GIF"), "api:415:UnsupportedImageType"),
    ("JPEG XL", lambda: files.JXL_HEAD, "api:415:UnsupportedImageType"),
    ("SVG", lambda: files.SVG, "api:415:UnsupportedImageType"),
    (
        "truncated JPEG",
        lambda: files.truncated(files.encode(files.quadrants(256, 256), "JPEG")),
        "failed:TruncatedImage",
    ),
    (
        "PNG claiming 50000 x 50000",
        lambda: files.png_claiming(50000, 50000),
        "failed:ImageDimensionsTooLarge",
    ),
    (
        "JPEG claiming 50000 x 50000",
        lambda: files.jpeg_claiming(50000, 50000),
        "failed:ImageDimensionsTooLarge",
    ),
    (
        "WebP claiming 16384 x 16384",
        lambda: files.webp_claiming(16384, 16384),
        "failed:ImageDimensionsTooLarge",
    ),
    ("20000 x 10 strip", lambda: files.png_claiming(20000, 10), "failed:ImageDimensionsTooLarge"),
    ("1 x 1 picture", lambda: files.flat_png((1, 1)), "failed:ImageTooSmall"),
    ("animated WebP", lambda: files.animated("WEBP"), "failed:AnimatedImage"),
    ("animated PNG", lambda: files.animated("PNG"), "failed:AnimatedImage"),
    ("CMYK JPEG", files.cmyk_jpeg, "succeeded"),
    ("16-bit PNG", lambda: files.png_rgb16(np.full((48, 48, 3), 40000, dtype=np.uint16)), "succeeded"),
    ("EXIF-rotated JPEG", lambda: files.exif_rotated_jpeg(6), "succeeded"),
    ("palette PNG with transparency", files.palette_alpha_png, "succeeded"),
    ("multi-picture JPEG", files.mpo, "succeeded"),
    ("HEIC header with no picture", lambda: files.HEIC_HEAD, "failed:CorruptImage"),
    (
        "truncated HEIC",
        lambda: files.truncated(files.heic(files.quadrants(128, 96))),
        "failed:TruncatedImage",
    ),
    (
        "HEIC claiming 40000 x 30000",
        lambda: files.with_declared_size(files.heic(files.quadrants(64, 64)), 40000, 30000),
        "failed:ImageDimensionsTooLarge",
    ),
    (
        "AVIF claiming 40000 x 30000",
        lambda: files.with_declared_size(files.avif(files.quadrants(64, 64)), 40000, 30000),
        "failed:ImageDimensionsTooLarge",
    ),
    ("animated AVIF", files.animated_avif, "failed:AnimatedImage"),
    ("EXIF-rotated HEIC", lambda: files.heic(files.quadrants(96, 64), orientation=6), "succeeded"),
    ("EXIF-rotated AVIF", lambda: files.avif(files.quadrants(96, 64), orientation=6), "succeeded"),
]


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_file_gets_a_clear_answer(
    aws: Stack, fake_engine: FakeEngine, make: Callable[[], bytes], expected: str
) -> None:
    # Given the file uploaded as a JPEG (its declared type may lie; the bytes decide)
    data = make()
    upload_id = upload(data) if data else _empty_upload(aws)
    # When a job is submitted for it
    response = call_api("POST", "/jobs", {"content": upload_id, "styles": [{"preset": "tapestry"}]})
    # Then the API refuses it, or the worker fails the job with its reason, or it succeeds
    assert_outcome(aws, response, expected)


def _empty_upload(aws: Stack) -> str:
    """An empty object under a real upload id (a browser cannot POST 0 bytes under the policy)."""
    ticket = call_api(
        "POST", "/uploads", {"purpose": "content", "content_type": "image/jpeg", "size": 1}
    ).body
    aws.put_upload("content", ticket["upload_id"], b"")
    return ticket["upload_id"]
