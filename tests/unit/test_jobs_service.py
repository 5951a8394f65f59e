"""The API's service functions on in-memory storage: what is signed, stored and queued, and when not."""

from __future__ import annotations

import pytest

from stylemixer.aws.fakes import InMemoryBlobStore, InMemoryJobQueue, InMemoryJobRepository
from stylemixer.errors import StyleMixerError
from stylemixer.jobs import service
from stylemixer.jobs.model import JobStatus, new_id, upload_key, utcnow
from stylemixer.jobs.ports import TransientError
from stylemixer.jobs.schemas import JobRequest, PresetRef, UploadRef, UploadRequest
from stylemixer.limits import MAX_UPLOAD_BYTES
from tests.support.paths import testdata_path


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
    store.write(
        upload_key("content", upload_id), testdata_path("photos", "sailboat.jpg").read_bytes(), "image/jpeg"
    )
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
    from stylemixer.jobs.model import JobResult

    job = service.submit_job(
        store,
        repo,
        queue,
        JobRequest(content=_content(store), styles=[PresetRef(preset="tapestry")]),
        utcnow(),
    )
    repo.start(job.job_id, utcnow())
    repo.succeed(job.job_id, JobResult(f"results/{job.job_id}.jpg", 8, 6, "jpeg", "r.png"), utcnow())
    out = service.describe_job(store, repo, job.job_id, utcnow())
    assert out.result is not None
    assert "type=image/jpeg" in out.result.url
    assert f"expires={service.RESULT_URL_SECONDS}" in out.result.url
    assert out.result.regions_url is not None
    assert "type=image/png" in out.result.regions_url
    assert service.RESULT_URL_SECONDS <= 3600
