"""The API's service functions on in-memory storage: what is signed, stored and queued, and when not."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from stylemixer.aws.fakes import InMemoryBlobStore, InMemoryJobQueue, InMemoryJobRepository
from stylemixer.errors import StyleMixerError
from stylemixer.images import encode_image
from stylemixer.jobs import service
from stylemixer.jobs.model import JobResult, JobStatus, Painting, iso, new_id, upload_key, utcnow
from stylemixer.jobs.owner import new_owner_token
from stylemixer.jobs.ports import TransientError
from stylemixer.jobs.schemas import JobAccepted, JobRequest, PresetRef, UploadRef, UploadRequest
from stylemixer.limits import MAX_SIDE, MAX_UPLOAD_BYTES, UPLOAD_REUSE_SECONDS
from stylemixer.options import StylizeOptions
from tests.support import imagefiles as files
from tests.support.clips import tiny_clip
from tests.support.pictures import sample_jpeg, sample_painting_file

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def store() -> InMemoryBlobStore:
    return InMemoryBlobStore()


@pytest.fixture
def repo() -> InMemoryJobRepository:
    return InMemoryJobRepository()


@pytest.fixture
def queue() -> InMemoryJobQueue:
    return InMemoryJobQueue()


def _content(store: InMemoryBlobStore) -> str:
    upload_id = new_id()
    store.write(upload_key("content", upload_id), sample_jpeg("chelsea"), "image/jpeg")
    return upload_id


def test_upload_is_signed_for_its_own_key_with_the_declared_size(store: InMemoryBlobStore) -> None:
    ticket = service.create_upload(
        store, UploadRequest(purpose="style", content_type="image/webp", size=999), utcnow()
    )
    assert ticket.fields["key"] == f"uploads/style/{ticket.upload_id}"
    assert ticket.fields["Content-Type"] == "image/webp"
    assert ticket.fields["policy"] == f"1-999/{service.UPLOAD_URL_SECONDS}s"
    assert service.UPLOAD_URL_SECONDS <= 15 * 60


def test_upload_at_the_limit_is_signed_and_past_it_refused(store: InMemoryBlobStore) -> None:
    at = UploadRequest(purpose="content", content_type="image/jpeg", size=MAX_UPLOAD_BYTES)
    assert service.create_upload(store, at, utcnow()).max_bytes == MAX_UPLOAD_BYTES
    with pytest.raises(StyleMixerError) as refused:
        service.create_upload(store, at.model_copy(update={"size": MAX_UPLOAD_BYTES + 1}), utcnow())
    assert (refused.value.code, refused.value.status) == ("ImageTooLarge", 413)


def test_job_is_stored_then_queued(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, queue: InMemoryJobQueue
) -> None:
    request = JobRequest(content=_content(store), styles=[PresetRef(preset="tapestry")])
    job = service.submit_job(store, repo, queue, request, utcnow())
    assert queue.sent == [job.job_id]
    assert repo.get(job.job_id) == job
    assert job.status is JobStatus.QUEUED


def test_job_is_failed_not_left_queued_when_the_queue_is_down(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, queue: InMemoryJobQueue
) -> None:
    queue.faults.arm("send")
    request = JobRequest(content=_content(store), styles=[PresetRef(preset="tapestry")])
    with pytest.raises(TransientError):
        service.submit_job(store, repo, queue, request, utcnow())
    (job,) = repo.jobs.values()
    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.code == "QueueUnavailable"


def test_nothing_is_stored_for_a_refused_job(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, queue: InMemoryJobQueue
) -> None:
    request = JobRequest(content=_content(store), styles=[UploadRef(upload=new_id())])
    with pytest.raises(StyleMixerError, match="never completed"):
        service.submit_job(store, repo, queue, request, utcnow())
    assert (repo.jobs, queue.sent) == ({}, [])


def test_styles_thumbnails_follow_the_site_url() -> None:
    assert service.list_styles(None).styles[0].thumbnail_url == "/presets/soft-pastel.jpg"
    assert service.list_styles("http://127.0.0.1:8000/").styles[0].thumbnail_url == (
        "http://127.0.0.1:8000/presets/soft-pastel.jpg"
    )


def test_a_succeeded_job_shows_fresh_short_lived_links(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, queue: InMemoryJobQueue
) -> None:
    job = service.submit_job(
        store,
        repo,
        queue,
        JobRequest(content=_content(store), styles=[PresetRef(preset="tapestry")]),
        utcnow(),
    )
    repo.start(job.job_id, utcnow())
    result = JobResult(f"results/{job.job_id}.jpg", 8, 6, "jpeg", "r.png", f"results/{job.job_id}.thumb.jpg")
    repo.succeed(job.job_id, result, utcnow())
    out = service.describe_job(store, repo, job.job_id, utcnow())
    assert out.result is not None
    assert "type=image/jpeg" in out.result.url
    assert f"expires={service.RESULT_URL_SECONDS}" in out.result.url
    assert out.result.regions_url is not None
    assert "type=image/png" in out.result.regions_url
    assert out.result.thumbnail_url is not None
    assert f"{job.job_id}.thumb.jpg" in out.result.thumbnail_url
    assert "type=image/jpeg" in out.result.thumbnail_url
    assert f"expires={service.RESULT_URL_SECONDS}" in out.result.thumbnail_url
    assert service.RESULT_URL_SECONDS <= 3600


def test_a_job_painted_before_thumbnails_answers_none_for_one(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, queue: InMemoryJobQueue
) -> None:
    request = JobRequest(content=_content(store), styles=[PresetRef(preset="tapestry")])
    job = service.submit_job(store, repo, queue, request, utcnow())
    repo.start(job.job_id, utcnow())
    repo.succeed(job.job_id, JobResult(f"results/{job.job_id}.jpg", 8, 6, "jpeg"), utcnow())
    out = service.describe_job(store, repo, job.job_id, utcnow())
    assert out.result is not None
    assert out.result.thumbnail_url is None  # the page's strip then shows the picture itself


def _style(store: InMemoryBlobStore) -> str:
    upload_id = new_id()
    store.write(upload_key("style", upload_id), sample_painting_file("tapestry").read_bytes(), "image/jpeg")
    return upload_id


def test_an_upload_says_until_when_new_jobs_may_name_it(store: InMemoryBlobStore) -> None:
    # Given a moment, When an upload is signed then
    now = utcnow()
    ticket = service.create_upload(
        store, UploadRequest(purpose="content", content_type="image/jpeg", size=999), now
    )
    # Then it may be named by jobs for the reuse window, counted from the signing
    assert ticket.usable_until == iso(now + timedelta(seconds=UPLOAD_REUSE_SECONDS))
    # And that window ends well before the bucket deletes uploads (a day at the least)
    assert UPLOAD_REUSE_SECONDS <= 24 * 3600 - 3 * 3600


def test_one_upload_serves_several_jobs(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, queue: InMemoryJobQueue
) -> None:
    # Given one content upload
    content = _content(store)
    # When two jobs name it, with other styles
    first = service.submit_job(
        store, repo, queue, JobRequest(content=content, styles=[PresetRef(preset="tapestry")]), utcnow()
    )
    second = service.submit_job(
        store, repo, queue, JobRequest(content=content, styles=[PresetRef(preset="grey-ink")]), utcnow()
    )
    # Then both are queued with the same photo
    assert queue.sent == [first.job_id, second.job_id]
    assert first.params.content == second.params.content == content


@pytest.mark.parametrize("purpose", ["content", "style"])
@pytest.mark.parametrize("age", [UPLOAD_REUSE_SECONDS - 60, UPLOAD_REUSE_SECONDS + 60], ids=["at", "past"])
def test_an_upload_is_named_again_until_its_reuse_window_ends(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, queue: InMemoryJobQueue, purpose: str, age: int
) -> None:
    # Given a photo and a style picture, one of them stored `age` seconds ago
    content, style = _content(store), _style(store)
    aged = upload_key(purpose, content if purpose == "content" else style)  # type: ignore[arg-type]
    now = utcnow()
    store.stored_at[aged] = now - timedelta(seconds=age)
    request = JobRequest(content=content, styles=[UploadRef(upload=style)])
    # When a job names both
    if age < UPLOAD_REUSE_SECONDS:
        assert service.submit_job(store, repo, queue, request, now).status is JobStatus.QUEUED
        return
    with pytest.raises(StyleMixerError) as refused:
        service.submit_job(store, repo, queue, request, now)
    # Then past the window it is a 410 that says to upload again, and nothing is stored or queued
    assert (refused.value.code, refused.value.status) == ("UploadExpired", 410)
    word = "photo" if purpose == "content" else "style picture"
    assert refused.value.message.startswith(f"The {word} was uploaded more than 20 hours ago")
    assert "upload it again" in refused.value.message
    assert (repo.jobs, queue.sent) == ({}, [])


def test_a_job_shows_what_was_asked_with_names_and_links(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, queue: InMemoryJobQueue
) -> None:
    # Given a regions job of a preset and two pictures, one sent with its file name
    content, named, unnamed = _content(store), _style(store), _style(store)
    request = JobRequest(
        content=content,
        styles=[
            PresetRef(preset="tapestry"),
            UploadRef(upload=named, name="la_muse.jpg"),
            UploadRef(upload=unnamed),
        ],
        mix="regions",
        strength=0.75,
    )
    token = new_owner_token()
    job = service.submit_job(store, repo, queue, request, utcnow(), owner_token=token)
    # When it is described to its owner, on a site with a known address
    asked = service.describe_job(
        store, repo, job.job_id, utcnow(), "https://site.example/", owner_token=token
    ).request
    # Then the photo comes back with its upload id and a short-lived link to see it
    assert asked.content.upload == content
    assert asked.content.url.startswith(f"memory://bucket/uploads/content/{content}?type=stored")
    assert f"expires={service.RESULT_URL_SECONDS}" in asked.content.url
    # And each style with a name and a picture: the preset's, the name given, a numbered default
    preset, first, second = asked.styles
    assert (preset.preset, preset.name) == ("tapestry", "Tapestry")
    assert preset.thumbnail_url == "https://site.example/presets/tapestry.jpg"
    assert (first.upload, first.name, second.name) == (named, "la_muse.jpg", "Your picture 2")
    assert first.thumbnail_url.startswith(f"memory://bucket/uploads/style/{named}?type=stored")
    # And every option as the job uses it
    assert (asked.mix, asked.strength, asked.weights, asked.format) == ("regions", 0.75, None, "jpeg")
    assert set(StylizeOptions.model_fields) <= set(asked.model_dump())


def test_only_the_owner_sees_the_photo_and_anyone_sees_the_result_and_the_styles(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, queue: InMemoryJobQueue
) -> None:
    # Given a job sent with an owner token
    token = new_owner_token()
    request = JobRequest(content=_content(store), styles=[PresetRef(preset="tapestry")])
    job = service.submit_job(store, repo, queue, request, utcnow(), owner_token=token)
    # Then only the token's hash is stored
    assert repo.get(job.job_id).owner_hash != token
    # When it is described without the token, or with another one
    for other in (None, new_owner_token()):
        out = service.describe_job(store, repo, job.job_id, utcnow(), owner_token=other)
        # Then it shows the styles but not the photo, and says the caller is not its owner
        assert (out.owner, out.request.content, out.request.regions_map) == (False, None, None)
        assert [s.preset for s in out.request.styles] == ["tapestry"]
    # And with the token, the photo too
    out = service.describe_job(store, repo, job.job_id, utcnow(), owner_token=token)
    assert out.owner is True
    assert out.request.content is not None


def test_links_live_at_most_fifteen_minutes(store: InMemoryBlobStore) -> None:
    assert service.RESULT_URL_SECONDS <= 15 * 60


def _photo(store: InMemoryBlobStore, size: tuple[int, int], fmt: str = "PNG") -> str:
    """A plain photo of ``size`` as a content upload (a strip past the longest side painted is cheap)."""
    upload_id = new_id()
    store.write(
        upload_key("content", upload_id), encode_image(Image.new("RGB", size), fmt.lower()), "image/png"
    )
    return upload_id


def _posted(
    store: InMemoryBlobStore,
    repo: InMemoryJobRepository,
    queue: InMemoryJobQueue,
    content: str,
    **fields: object,
) -> JobAccepted:
    request = JobRequest.model_validate({"content": content, "styles": [{"preset": "tapestry"}], **fields})
    return service.accept_job(store, repo, queue, request, utcnow(), owner_token=new_owner_token())


def test_the_job_answers_the_size_it_paints_at_as_the_post_did_then_as_the_worker_painted_it(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, queue: InMemoryJobQueue
) -> None:
    # Given a job on a strip past the longest side painted (a PNG: its header's shape taken as it is)
    accepted = _posted(store, repo, queue, _photo(store, (MAX_SIDE + 808, 40)))
    posted = {"width": MAX_SIDE, "height": 36, "reduced": True, "photo_width": 9000, "photo_height": 40}
    assert accepted.painting is not None
    assert accepted.painting.model_dump() == posted
    # When anyone asks for the job, the owner or not
    seen = service.describe_job(store, repo, accepted.job_id, utcnow())
    # Then it answers the same painting, long after the POST's answer is gone
    assert seen.painting is not None
    assert seen.painting.model_dump() == posted
    # And once the worker has painted it, the size it painted at
    repo.start(accepted.job_id, utcnow())
    result = JobResult(f"results/{accepted.job_id}.jpg", MAX_SIDE, 36, "jpeg")
    repo.succeed(accepted.job_id, result, utcnow(), Painting(MAX_SIDE, 36, True, 9000, 40))
    done = service.describe_job(store, repo, accepted.job_id, utcnow()).model_dump(mode="json")
    assert done["painting"] == posted
    assert (done["result"]["width"], done["result"]["height"]) == (MAX_SIDE, 36)


def test_a_job_whose_photo_header_does_not_say_its_size_answers_no_painting_until_it_is_painted(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, queue: InMemoryJobQueue
) -> None:
    # Given a JPEG whose size comes after more metadata than the API reads of it
    upload_id = new_id()
    store.write(
        upload_key("content", upload_id),
        files.jpeg_with_late_header((96, 64), service.HEADER_BYTES),
        "image/jpeg",
    )
    # When it is posted / Then neither the answer nor the job says a size yet
    accepted = _posted(store, repo, queue, upload_id)
    assert accepted.painting is None
    assert service.describe_job(store, repo, accepted.job_id, utcnow()).painting is None


def test_a_photo_brought_down_before_it_was_sent_is_painted_smaller_as_the_job_says(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, queue: InMemoryJobQueue
) -> None:
    # Given the strip past the cap brought down before it was sent: 9000 x 40 sent as 8192 x 36
    content = _photo(store, (MAX_SIDE, 36), "JPEG")
    # When the job says the photo's own size
    accepted = _posted(store, repo, queue, content, reduced_from={"width": 9000, "height": 40})
    # Then the answer and the job say it is painted smaller than the photo
    painting = {"width": MAX_SIDE, "height": 36, "reduced": True, "photo_width": 9000, "photo_height": 40}
    assert accepted.painting is not None
    assert accepted.painting.model_dump() == painting
    seen = service.describe_job(store, repo, accepted.job_id, utcnow()).painting
    assert seen is not None
    assert seen.model_dump() == painting
    # And the worker is told the photo's own size with the job
    stored = repo.get(accepted.job_id)
    assert stored is not None
    assert stored.params.reduced_from == (9000, 40)


@pytest.mark.parametrize(
    ("reduced_from", "code"),
    [
        ({"width": 9000, "height": 400}, "InvalidRequest"),  # brought down, not the photo sent
        ({"width": 20000, "height": 40}, "InvalidRequest"),  # brought down, too thin to paint
        ({"width": 30000, "height": 30000}, "ImageDimensionsTooLarge"),  # larger than any photo read
    ],
)
def test_a_photo_size_that_is_not_the_photo_sent_brought_down_is_refused(
    store: InMemoryBlobStore,
    repo: InMemoryJobRepository,
    queue: InMemoryJobQueue,
    reduced_from: dict[str, int],
    code: str,
) -> None:
    content = _photo(store, (MAX_SIDE, 36), "JPEG")
    with pytest.raises(StyleMixerError) as refused:
        _posted(store, repo, queue, content, reduced_from=reduced_from)
    assert refused.value.code == code
    assert (repo.jobs, queue.sent) == ({}, [])


def test_a_clip_answers_no_painting_and_takes_no_photo_size(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, queue: InMemoryJobQueue, tmp_path: Path
) -> None:
    # Given a clip to paint
    upload_id = new_id()
    store.write(upload_key("content", upload_id), tiny_clip(tmp_path / "clip.mp4").read_bytes(), "video/mp4")
    # When it is posted / Then no painting is answered, nor kept (a clip is painted at its own size)
    accepted = _posted(store, repo, queue, upload_id)
    assert accepted.painting is None
    assert service.describe_job(store, repo, accepted.job_id, utcnow()).painting is None
    # And a photo's size brought down is refused for it
    with pytest.raises(StyleMixerError) as refused:
        _posted(store, repo, queue, upload_id, reduced_from={"width": 9000, "height": 40})
    assert refused.value.code == "InvalidRequest"
