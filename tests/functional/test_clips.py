"""Clips through the whole path against moto: POST /uploads for a clip, POST /jobs reading its
container in storage, the worker streaming it through its disk, the painted MP4 in storage. Bad clips
are refused at POST /jobs with a code and a sentence: nothing queued, no job stored, nothing written.
The engine is the stand-in that inverts frames (through the real decoder and encoder); the real
engine paints clips in tests/unit/test_clip_painting.py and tests/functional/test_real_engine.py."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from stylemixer.clips.header import read_clip_file
from stylemixer.limits import MAX_CLIP_BYTES, MAX_UPLOAD_BYTES
from tests.support.aws import FakeEngine, Stack, assert_outcome, call_api, run_worker
from tests.support.aws import upload_through_presigned_post as upload
from tests.support.clips import pan_clip, tiny_clip

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def _made(make: Callable[[Path], Path]) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return make(Path(folder) / "clip.mp4").read_bytes()


def _job(upload_id: str, **extra: object) -> dict[str, object]:
    return {"content": upload_id, "styles": [{"preset": "tapestry"}], **extra}


def test_a_clip_is_painted_through_the_same_job(aws: Stack, fake_engine: FakeEngine) -> None:
    # Given a phone's clip with sound, uploaded as the page uploads it
    clip = pan_clip(size=(160, 96), frames=8, quarter_turn=True).read_bytes()
    upload_id = upload(clip, content_type="video/quicktime")
    # When a job is submitted and the worker runs it
    accepted = call_api("POST", "/jobs", _job(upload_id))
    assert accepted.status == 202, accepted.body
    assert run_worker(aws.receive()) == {"batchItemFailures": []}
    # Then the job succeeded with an MP4, served as a video for download
    job = call_api("GET", f"/jobs/{accepted.body['job_id']}").body
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert (result["format"], result["width"], result["height"]) == ("mp4", 96, 160)
    served = requests.get(result["url"], timeout=30)
    assert served.headers["Content-Type"] == "video/mp4"
    assert f"stylemixer-{accepted.body['job_id'][:8]}.mp4" in served.headers["Content-Disposition"]
    # And it is the clip painted: every frame, upright, in H.264, with its sound
    with tempfile.TemporaryDirectory() as folder:
        painted = Path(folder) / "painted.mp4"
        painted.write_bytes(served.content)
        header, _ = read_clip_file(painted)
    assert (header.codec, header.audio, header.frames) == ("avc1", "mp4a", 8)
    assert aws.keys("results/") == [f"results/{accepted.body['job_id']}.mp4"]


@pytest.mark.parametrize(
    ("make", "declared", "extra", "expected"),
    [
        (
            lambda: pan_clip(size=(160, 120), frames=12).read_bytes()[:6000],
            "video/mp4",
            {},
            "api:400:TruncatedClip",
        ),
        (lambda: b"Dear diary, this is not a clip.\n" * 40, "video/mp4", {}, "api:400:NotAVideo"),
        (lambda: _made(lambda p: tiny_clip(p, frames=62, fps=1)), "video/mp4", {}, "api:413:ClipTooLong"),
        (lambda: _made(lambda p: tiny_clip(p, "mpeg4")), "video/mp4", {}, "api:415:UnsupportedVideoCodec"),
        (
            lambda: _made(lambda p: tiny_clip(p, frames=2, size=(2048, 1152))),
            "video/mp4",
            {},
            "api:413:ClipDimensionsTooLarge",
        ),
        (
            lambda: pan_clip(size=(160, 120), frames=12).read_bytes(),
            "video/mp4",
            {"styles": [{"preset": "tapestry"}, {"preset": "swirling-night"}], "mix": "regions"},
            "api:400:RegionsNotForClips",
        ),
    ],
    ids=[
        "truncated",
        "not a video",
        "too long",
        "another codec",
        "4K-wide frames",
        "regions",
    ],
)
def test_a_bad_clip_is_refused_before_it_is_queued(  # noqa: PLR0917 (the cases' columns)
    aws: Stack, fake_engine: FakeEngine, make: Callable[[], bytes], declared: str, extra: dict, expected: str
) -> None:
    # Given a bad clip uploaded as a clip
    upload_id = upload(make(), content_type=declared)
    # When a job is submitted for it
    response = call_api("POST", "/jobs", {**_job(upload_id), **extra})
    # Then the API refuses it with its code and a sentence; nothing is queued, stored or painted
    assert_outcome(aws, response, expected)
    assert fake_engine.calls == 0


def test_a_clip_too_large_is_refused_before_it_is_signed(aws: Stack) -> None:
    request = {"purpose": "content", "content_type": "video/mp4", "size": MAX_CLIP_BYTES + 1}
    response = call_api("POST", "/uploads", request)
    assert (response.status, response.body["error"]["code"]) == (413, "ImageTooLarge")
    assert "200 MB for a clip" in response.body["error"]["message"]
    at_limit = call_api("POST", "/uploads", {**request, "size": MAX_CLIP_BYTES})
    assert at_limit.status == 201, at_limit.body
    assert at_limit.body["max_bytes"] == MAX_CLIP_BYTES
    # And a picture keeps its own limit
    picture = call_api(
        "POST", "/uploads", {**request, "content_type": "image/jpeg", "size": MAX_UPLOAD_BYTES + 1}
    )
    assert (picture.status, picture.body["error"]["code"]) == (413, "ImageTooLarge")


def test_a_clip_is_never_a_style(aws: Stack) -> None:
    # Given a clip declared as a style picture, or uploaded as one with a picture's type
    declared = call_api("POST", "/uploads", {"purpose": "style", "content_type": "video/mp4", "size": 1000})
    assert (declared.status, declared.body["error"]["code"]) == (415, "ClipNotAllowed")
    photo = upload(pan_clip(size=(160, 120), frames=12).read_bytes())
    style = upload(pan_clip(size=(160, 120), frames=12).read_bytes(), purpose="style")
    # Then a job naming it as a style is refused before it is queued
    response = call_api("POST", "/jobs", {"content": photo, "styles": [{"upload": style}]})
    assert_outcome(aws, response, "api:415:ClipNotAllowed")
