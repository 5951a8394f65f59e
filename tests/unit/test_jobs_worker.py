"""The worker's steps on in-memory storage: throttled progress, retries, faults, nothing half-written."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageOps

from stylemixer.aws.fakes import InMemoryBlobStore, InMemoryJobQueue, InMemoryJobRepository
from stylemixer.errors import InvalidRequestError
from stylemixer.images.writing import THUMBNAIL_SHORT_SIDE
from stylemixer.jobs.model import Job, JobParams, JobStatus, Painting, StyleRef, new_id, upload_key, utcnow
from stylemixer.jobs.ports import TransientError
from stylemixer.jobs.schemas import JobRequest
from stylemixer.jobs.service import HEADER_BYTES, submit_job
from stylemixer.jobs.worker import (
    RETRY_MAX_DELAY,
    JobTimedOutError,
    ProgressWriter,
    fail_abandoned,
    process_job,
    retry_delay,
)
from stylemixer.limits import MAX_SIDE
from stylemixer.neural.weights import WeightsMissingError
from stylemixer.options import StylizeOptions
from stylemixer.styles import ImageStyle, PresetStyle, StylizeResult
from tests.support import imagefiles as files
from tests.support.pictures import sample_jpeg, sample_painting_file

if TYPE_CHECKING:
    from collections.abc import Callable

#: The maxReceiveCount of the queue these tests' messages come from (the worker is told it).
MAX_RECEIVE_COUNT = 3


class Engine:
    """Inverts the photo; records what it was given; reports progress in many small steps."""

    def __init__(self, error: Exception | None = None, regions: bool = False) -> None:
        self.error = error
        self.regions = regions
        self.calls: list[tuple[Any, ...]] = []

    def stylize(self, content: Any, styles: Any, options: Any = None, progress: Any = None) -> StylizeResult:
        self.calls.append((content.size, list(styles), options))
        if self.error is not None:
            raise self.error
        for step in range(101):
            progress("stylize", step / 100)
        image = ImageOps.invert(content)
        regions = Image.new("P", image.size, 0) if self.regions else None
        return StylizeResult(image=image, regions=regions)


@pytest.fixture
def photo() -> bytes:
    return sample_jpeg("rocket", max_side=200)


@pytest.fixture
def store(photo: bytes) -> InMemoryBlobStore:
    return InMemoryBlobStore()


@pytest.fixture
def repo() -> InMemoryJobRepository:
    return InMemoryJobRepository()


def _queued(store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes, **params: Any) -> Job:
    content = new_id()
    store.write(upload_key("content", content), photo, "image/jpeg")
    styles = params.pop("styles", (StyleRef(preset="tapestry"),))
    now = utcnow()
    job = Job(
        job_id=new_id(),
        params=JobParams(content=content, styles=styles, options=StylizeOptions.checked(**params)),
        created_at=now,
        updated_at=now,
        expires_at_epoch=int((now + timedelta(days=7)).timestamp()),
    )
    repo.create(job)
    return job


def _run(
    store: InMemoryBlobStore,
    repo: InMemoryJobRepository,
    job: Job,
    engine: Engine,
    count: int = 1,
    *,
    progress_interval: float | None = None,
    max_receives: int = MAX_RECEIVE_COUNT,
    queue: InMemoryJobQueue | None = None,
    remaining_seconds: Callable[[], float] | None = None,
) -> Any:
    extra: dict[str, Any] = {} if progress_interval is None else {"progress_interval": progress_interval}
    if queue is not None:
        extra["retry_later"] = lambda seconds: queue.retry_later(f"receipt-{count}", seconds)
    return process_job(
        job.job_id,
        store=store,
        repo=repo,
        engine=lambda: engine,
        receive_count=count,
        max_receives=max_receives,
        remaining_seconds=remaining_seconds,
        **extra,
    )


def test_job_runs_to_success_with_its_result_written_first(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    # Given
    job = _queued(
        store,
        repo,
        photo,
        format="png",
        styles=(StyleRef(preset="tapestry"), StyleRef(preset="terracotta")),
        mix="regions",
    )
    engine = Engine(regions=True)
    # When
    outcome = _run(store, repo, job, engine)
    # Then
    assert outcome.status == "succeeded"
    assert outcome.input_megapixels is not None
    assert outcome.input_megapixels > 0.01
    stored = repo.get(job.job_id)
    assert stored is not None
    assert stored.status is JobStatus.SUCCEEDED
    assert stored.progress == 100
    assert stored.result is not None
    assert store.objects[stored.result.key][1] == "image/png"
    assert store.objects[f"results/{job.job_id}.regions.png"][0][:4] == b"\x89PNG"
    assert stored.result.regions_key == f"results/{job.job_id}.regions.png"
    assert [type(s) for s in engine.calls[0][1]] == [PresetStyle, PresetStyle]


def test_a_painted_picture_gets_a_small_copy_of_itself_for_lists(
    store: InMemoryBlobStore, repo: InMemoryJobRepository
) -> None:
    # Given a job whose photo is larger than a thumbnail
    job = _queued(store, repo, sample_jpeg("rocket", max_side=1200))
    # When it is painted
    assert _run(store, repo, job, Engine()).status == "succeeded"
    # Then beside the result is a JPEG of it with a 400-pixel shorter side, in the job's record
    stored = repo.get(job.job_id)
    assert stored is not None
    assert stored.result is not None
    assert stored.result.thumbnail_key == f"results/{job.job_id}.thumb.jpg"
    data, content_type = store.objects[stored.result.thumbnail_key]
    assert content_type == "image/jpeg"
    small = Image.open(io.BytesIO(data))
    result = Image.open(io.BytesIO(store.objects[stored.result.key][0])).convert("RGB")
    assert small.format == "JPEG"
    assert min(small.size) == THUMBNAIL_SHORT_SIDE
    assert abs(small.width / small.height - result.width / result.height) < 0.01
    # of the painting (the engine here inverts the photo), not of the photo
    shrunk = result.resize(small.size, Image.Resampling.LANCZOS)
    photo = Image.open(io.BytesIO(store.objects[upload_key("content", job.params.content)][0]))
    photo = photo.convert("RGB").resize(small.size, Image.Resampling.LANCZOS)
    assert np.asarray(ImageChops.difference(small.convert("RGB"), shrunk)).mean() < 3
    assert np.asarray(ImageChops.difference(small.convert("RGB"), photo)).mean() > 30


def test_style_uploads_are_decoded_and_passed_as_pictures(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    style_id = new_id()
    store.write(upload_key("style", style_id), sample_painting_file("tapestry").read_bytes(), "image/jpeg")
    job = _queued(store, repo, photo, styles=(StyleRef(upload=style_id),))
    engine = Engine()
    assert _run(store, repo, job, engine).status == "succeeded"
    (style,) = engine.calls[0][1]
    assert isinstance(style, ImageStyle)
    assert style.image.mode == "RGB"


def test_a_style_upload_stored_as_content_is_not_found(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    # Given a job naming a style id that only exists under the content prefix
    job = _queued(store, repo, photo)
    job2 = _queued(store, repo, photo, styles=(StyleRef(upload=job.params.content),))
    # When / Then
    outcome = _run(store, repo, job2, Engine())
    assert (outcome.status, outcome.reason) == ("failed", "UploadNotFound")


def test_a_job_shorter_than_the_interval_writes_no_progress(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    # Given an engine that reports 101 steps in a few milliseconds
    job = _queued(store, repo, photo)
    # When
    outcome = _run(store, repo, job, Engine())
    # Then the job's start and its result are its only writes: no progress write in between
    assert outcome.status == "succeeded"
    assert repo.progress_writes == []


def test_progress_writes_are_throttled_monotone_and_mark_each_stage(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    # Given a writer that may write every time (no interval)
    job = _queued(store, repo, photo)
    # When the job runs
    _run(store, repo, job, Engine(), progress_interval=0.0)
    # Then each stage is written, figures never go backwards
    stages = [stage for stage, _ in repo.progress_writes]
    assert list(dict.fromkeys(stages)) == ["fetching", "stylize", "saving"]
    figures = [p for _, p in repo.progress_writes]
    assert figures == sorted(figures)


def test_progress_writer_writes_again_after_the_interval() -> None:
    # Given a clock we move by hand, and a job that has just started
    repo = InMemoryJobRepository()
    now = utcnow()
    job = Job(
        job_id=new_id(),
        params=JobParams(content=new_id(), styles=()),
        created_at=now,
        updated_at=now,
        expires_at_epoch=0,
    )
    repo.create(job)
    repo.start(job.job_id, now)
    clock = [0.0]
    writer = ProgressWriter(repo, job.job_id, interval=0.5, clock=lambda: clock[0])
    # When
    writer("fetching", 0.05)  # too soon after the start
    clock[0] = 0.6
    writer("stylize", 0.10)
    clock[0] = 0.8
    writer("stylize", 0.20)  # too soon
    writer("encode", 0.30)  # a new stage, too soon as well
    clock[0] = 1.2
    writer("encode", 0.30)
    clock[0] = 1.8
    writer("encode", 0.30)  # nothing moved
    clock[0] = 5.0
    writer("encode", 1.0)  # 100 % is kept for the final succeed
    # Then
    assert repo.progress_writes == [("stylize", 10), ("encode", 30), ("encode", 99)]


def test_a_failed_progress_write_does_not_stop_the_job(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    # Given a job whose second progress write fails (and a writer that writes at every step)
    job = _queued(store, repo, photo)
    repo.faults.arm("record_progress", 2)
    # When it runs, then it succeeds, with the other progress writes stored
    assert _run(store, repo, job, Engine(), progress_interval=0.0).status == "succeeded"
    assert len(repo.progress_writes) >= 2


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "EmptyImage"),
        (b"just some text", "NotAnImage"),
        (b"GIF89a" + bytes(40), "UnsupportedImageType"),
    ],
)
def test_unreadable_upload_fails_the_job_at_once(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, data: bytes, code: str
) -> None:
    job = _queued(store, repo, data)
    engine = Engine()
    outcome = _run(store, repo, job, engine)
    assert (outcome.status, outcome.reason) == ("failed", code)
    assert engine.calls == []
    stored = repo.get(job.job_id)
    assert stored is not None
    assert stored.status is JobStatus.FAILED
    assert stored.error is not None


def test_a_rule_broken_at_run_time_fails_the_job(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    # Given stored parameters that no longer pass validation (e.g. written by an older version)
    job = _queued(store, repo, photo, weights=(1.0, 2.0))
    outcome = _run(store, repo, job, Engine())
    assert (outcome.status, outcome.reason) == ("failed", "InvalidWeights")


def test_engine_refusal_fails_the_job_with_its_words(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    job = _queued(store, repo, photo)
    words = "Presets and pictures of your own cannot be blended."
    outcome = _run(store, repo, job, Engine(InvalidRequestError("MixedStyleKinds", words)))
    assert outcome.reason == "MixedStyleKinds"
    stored = repo.get(job.job_id)
    assert stored is not None
    assert stored.error is not None
    assert stored.error.message == words


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("bug"),
        TransientError("throttled"),
        WeightsMissingError(message="no weights on this machine"),
    ],
    ids=["bug", "transient", "operator-error"],
)
def test_other_errors_are_raised_for_a_retry_then_fail_the_job_on_the_last_receive(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes, error: Exception
) -> None:
    # Given
    job = _queued(store, repo, photo)
    engine = Engine(error)
    # When the early receives fail, they raise (SQS retries)
    for count in range(1, MAX_RECEIVE_COUNT):
        with pytest.raises(type(error)):
            _run(store, repo, job, engine, count)
        stored = repo.get(job.job_id)
        assert stored is not None
        assert stored.status is JobStatus.RUNNING
    # And the last one fails the job with a reason that leaks nothing
    outcome = _run(store, repo, job, engine, MAX_RECEIVE_COUNT)
    assert (outcome.status, outcome.reason) == ("failed", "ProcessingFailed")
    stored = repo.get(job.job_id)
    assert stored is not None
    assert stored.error is not None
    assert str(error) not in stored.error.message


def test_a_job_that_fails_after_writing_its_result_leaves_no_result(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    # Given the table refusing the final succeed on the last receive
    job = _queued(store, repo, photo)
    repo.faults.arm("succeed", 1)
    # When
    outcome = _run(store, repo, job, Engine(), MAX_RECEIVE_COUNT)
    # Then the job is failed and its orphan result removed
    assert outcome.status == "failed"
    assert not [k for k in store.objects if k.startswith("results/")]


def test_a_storage_fault_on_reading_is_retried(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    job = _queued(store, repo, photo)
    store.faults.arm("read", 1)
    with pytest.raises(TransientError):
        _run(store, repo, job, Engine(), 1)
    assert _run(store, repo, job, Engine(), 2).status == "succeeded"


def test_finished_jobs_are_skipped(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    job = _queued(store, repo, photo)
    engine = Engine()
    assert _run(store, repo, job, engine).status == "succeeded"
    again = _run(store, repo, job, engine, 2)
    assert (again.status, again.reason) == ("skipped", "already succeeded")
    assert len(engine.calls) == 1
    assert _run(store, repo, job.with_changes(job_id=new_id()), engine).reason == "unknown job"


def test_dead_letter_fails_unfinished_jobs_only(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    done, stuck = _queued(store, repo, photo), _queued(store, repo, photo)
    _run(store, repo, done, Engine())
    assert not fail_abandoned(store, repo, done.job_id)
    assert fail_abandoned(store, repo, stuck.job_id)
    assert not fail_abandoned(store, repo, new_id())
    stored = repo.get(stuck.job_id)
    assert stored is not None
    assert stored.status is JobStatus.FAILED


def _clock(start: float, step: float) -> Any:
    """Seconds left that drop by ``step`` at every reading (a job racing the function's timeout)."""
    left = [start + step]

    def remaining() -> float:
        left[0] -= step
        return left[0]

    return remaining


def test_a_job_about_to_time_out_stops_and_is_retried(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    # Given 100 s left that drain by 2 s per progress report (the margin is 10 s)
    job = _queued(store, repo, photo)
    engine = Engine()
    # When
    with pytest.raises(JobTimedOutError):
        _run(store, repo, job, engine, remaining_seconds=_clock(100, 2))
    # Then the engine was stopped part-way, nothing was written, and the job awaits its retry
    assert len(engine.calls) == 1
    assert not [k for k in store.objects if k.startswith("results/")]
    stored = repo.get(job.job_id)
    assert stored is not None
    assert stored.status is JobStatus.RUNNING


def test_a_job_that_times_out_on_its_last_receive_fails_with_that_reason(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    job = _queued(store, repo, photo)
    outcome = _run(store, repo, job, Engine(), count=MAX_RECEIVE_COUNT, remaining_seconds=_clock(100, 2))
    assert (outcome.status, outcome.reason) == ("failed", "TimedOut")
    stored = repo.get(job.job_id)
    assert stored is not None
    assert stored.error is not None
    assert "smaller output size" in stored.error.message


def test_a_job_with_time_to_spare_is_not_stopped(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    job = _queued(store, repo, photo)
    outcome = _run(store, repo, job, Engine(), remaining_seconds=_clock(900, 0.01))
    assert outcome.status == "succeeded"


def test_the_same_message_twice_at_once_gives_one_result(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    # Given two deliveries of one job racing each other
    import threading

    job = _queued(store, repo, photo)
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []
    written: dict[str, set[bytes]] = {}
    real_write = store.write

    def recording_write(key: str, data: bytes, content_type: str) -> None:
        written.setdefault(key, set()).add(data)
        real_write(key, data, content_type)

    store.write = recording_write  # type: ignore[method-assign]

    def deliver() -> None:
        barrier.wait()
        outcomes.append(_run(store, repo, job, Engine()))

    # When
    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then the job succeeded once; any second write was the very same bytes at the same key
    assert sorted(o.status for o in outcomes) == ["skipped", "succeeded"]
    assert [len(versions) for versions in written.values()] == [1, 1]
    results = sorted(k for k in store.objects if k.startswith("results/"))
    assert results == [f"results/{job.job_id}.jpg", f"results/{job.job_id}.thumb.jpg"]
    stored = repo.get(job.job_id)
    assert stored is not None
    assert stored.status is JobStatus.SUCCEEDED


# -- retries: back-off and the queue's receive count ----------------------------------------------


def test_retry_delay_doubles_from_15_s_and_never_exceeds_two_minutes() -> None:
    # Without jitter: 15, 30, 60, then capped at 120 s however many receives
    assert [retry_delay(n, jitter=lambda: 0.0) for n in range(1, 8)] == [15, 30, 60, 120, 120, 120, 120]
    # With the most jitter, half of that; never zero, never more than the cap
    assert [retry_delay(n, jitter=lambda: 1.0) for n in range(1, 5)] == [8, 15, 30, 60]
    assert all(1 <= retry_delay(n) <= RETRY_MAX_DELAY for n in range(1, 50))


def test_a_passing_failure_hands_the_message_back_with_the_back_off_then_raises(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    # Given storage failing the first two reads of the upload
    job = _queued(store, repo, photo)
    queue = InMemoryJobQueue()
    store.faults.arm("read", 2)
    # When the first two receives fail and the third succeeds
    for count in (1, 2):
        with pytest.raises(TransientError):
            _run(store, repo, job, Engine(), count, queue=queue)
    outcome = _run(store, repo, job, Engine(), 3, queue=queue)
    # Then each failure asked the queue for the next delivery within the back-off (not 90 minutes)
    assert [receipt for receipt, _ in queue.retries] == ["receipt-1", "receipt-2"]
    assert 8 <= queue.retries[0][1] <= 15
    assert 15 <= queue.retries[1][1] <= 30
    assert outcome.status == "succeeded"


def test_no_early_retry_for_the_callers_mistake_or_on_the_last_receive(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    queue = InMemoryJobQueue()
    # A rule of the engine fails the job at once: nothing to retry
    refused = _queued(store, repo, photo)
    _run(store, repo, refused, Engine(InvalidRequestError("Nope", "not like this")), 1, queue=queue)
    # The last receive fails the job for good: nothing to retry either
    crashing = _queued(store, repo, photo)
    _run(store, repo, crashing, Engine(RuntimeError("bug")), MAX_RECEIVE_COUNT, queue=queue)
    assert queue.retries == []


def test_a_queue_that_refuses_the_early_retry_leaves_the_original_failure(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes
) -> None:
    # Given a queue that cannot change the message's visibility (it then returns after its timeout)
    job = _queued(store, repo, photo)
    queue = InMemoryJobQueue()
    queue.faults.arm("retry_later", 1)
    # When the job fails for a passing reason, the engine's error is what SQS is told about
    with pytest.raises(RuntimeError, match="bug"):
        _run(store, repo, job, Engine(RuntimeError("bug")), 1, queue=queue)
    assert queue.retries == []


@pytest.mark.parametrize("max_receives", [1, 3, 5])
def test_the_queues_receive_count_decides_which_failure_is_final(
    store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes, max_receives: int
) -> None:
    # Given a job whose engine always crashes, and a queue that gives up after max_receives
    job = _queued(store, repo, photo)
    engine = Engine(RuntimeError("bug"))
    # When it is received that many times
    for count in range(1, max_receives):
        with pytest.raises(RuntimeError):
            _run(store, repo, job, engine, count, max_receives=max_receives)
    outcome = _run(store, repo, job, engine, max_receives, max_receives=max_receives)
    # Then only the last receive failed the job, after exactly that many attempts
    assert (outcome.status, outcome.reason) == ("failed", "ProcessingFailed")
    assert len(engine.calls) == max_receives


def _posted(store: InMemoryBlobStore, repo: InMemoryJobRepository, photo: bytes, **fields: Any) -> Job:
    """A job posted through the API's service, so it holds the painting its photo's header gave."""
    content = new_id()
    store.write(upload_key("content", content), photo, "image/jpeg")
    request = JobRequest.model_validate({"content": content, "styles": [{"preset": "tapestry"}], **fields})
    return submit_job(store, repo, InMemoryJobQueue(), request, utcnow())


def _painting(repo: InMemoryJobRepository, job: Job) -> Painting | None:
    stored = repo.get(job.job_id)
    assert stored is not None
    assert stored.status is JobStatus.SUCCEEDED, stored.error
    return stored.painting


def test_the_worker_tells_the_size_it_painted_at_when_the_photos_header_did_not(
    store: InMemoryBlobStore, repo: InMemoryJobRepository
) -> None:
    # Given a job on a photo whose header does not say its size within what the API reads
    job = _posted(store, repo, files.jpeg_with_late_header((96, 64), HEADER_BYTES))
    assert job.painting is None
    # When the worker paints it
    assert _run(store, repo, job, Engine()).status == "succeeded"
    # Then the job says the size it painted at, and the photo's own
    assert _painting(repo, job) == Painting(96, 64, False, 96, 64)


def test_the_worker_corrects_a_photo_turned_upright_by_metadata_after_its_header(
    store: InMemoryBlobStore, repo: InMemoryJobRepository
) -> None:
    # Given a strip past the longest side painted, a PNG stored lying down and turned upright by EXIF
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = files.encode(Image.new("RGB", (MAX_SIDE + 808, 40), (90, 120, 60)), "PNG", exif=exif.tobytes())
    job = _posted(store, repo, stored)
    assert job.painting == Painting(MAX_SIDE, 36, True, MAX_SIDE + 808, 40)  # as the header gives it
    # When the worker paints it / Then the job says the photo's upright size and the size painted
    assert _run(store, repo, job, Engine()).status == "succeeded"
    assert _painting(repo, job) == Painting(36, MAX_SIDE, True, 40, MAX_SIDE + 808)


def test_a_photo_brought_down_before_it_was_sent_stays_painted_smaller_once_painted(
    store: InMemoryBlobStore, repo: InMemoryJobRepository
) -> None:
    # Given the strip brought down before it was sent (9000 x 40 sent as 8192 x 36), its size given
    photo = files.encode(Image.new("RGB", (MAX_SIDE, 36), (90, 120, 60)), "JPEG")
    job = _posted(store, repo, photo, reduced_from={"width": MAX_SIDE + 808, "height": 40})
    # When the worker paints it / Then the job still says it is painted smaller than the photo
    assert _run(store, repo, job, Engine()).status == "succeeded"
    assert _painting(repo, job) == Painting(MAX_SIDE, 36, True, MAX_SIDE + 808, 40)
