"""What the worker does with one job: fetch, decode, stylize, store, and only then mark it done.

Failures split in two. A problem with the caller's input (not a picture, too large, a rule of the
engine) fails the job with its reason and is *not* retried: retrying cannot fix it. Anything else
(storage, the queue, a bug) is raised so SQS delivers the message again, except on the last allowed
receive, where the job is failed with a reason so it never stays running forever.

A retry comes after a back-off (:func:`retry_delay`: 15 s, then 30, 60, and 120 s at most), not
after the queue's visibility timeout (six times the worker's timeout, 90 minutes): the message is
handed back to the queue with that delay before the failure is raised. Only a worker that dies
(killed at its timeout, out of memory) leaves its message to the visibility timeout.
"""

from __future__ import annotations

import io
import logging
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from stylemixer.errors import PROCESSING_FAILED, TIMED_OUT, ImageTooLargeError, StyleMixerError
from stylemixer.jobs.model import (
    CLIP_EXTENSION,
    Job,
    JobError,
    JobParams,
    JobResult,
    JobStatus,
    UploadNotFoundError,
    UploadPurpose,
    regions_key,
    result_key,
    thumbnail_key,
    upload_key,
    utcnow,
)
from stylemixer.jobs.painting import painted
from stylemixer.jobs.removal import delete_results
from stylemixer.limits import MAX_UPLOAD_BYTES, megabytes
from stylemixer.styles import ImageStyle, PresetStyle, Style

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from PIL import Image

    from stylemixer.clips.header import ClipHeader
    from stylemixer.jobs.ports import BlobStore, JobRepository
    from stylemixer.neural.clip import ClipResult
    from stylemixer.options import StylizeOptions
    from stylemixer.photosize import Photo
    from stylemixer.progress import ProgressCallback
    from stylemixer.styles import StylizeResult

logger = logging.getLogger(__name__)

#: Progress is written at most this often (seconds), changes of stage included: the page polls
#: once a second, and each write is a conditional DynamoDB update (under load, the worker's progress
#: writes were most of the embedded DynamoDB's work and held up the API's reads).
PROGRESS_INTERVAL = 0.5
#: The share of the bar before and after the engine runs (fetching, then saving).
_FETCH_SHARE = 0.05
_SAVE_SHARE = 0.04

#: A job stops this long before the function's time runs out, so that it can still be failed
#: with a reason (capped at a tenth of the time the job started with, for short local timeouts).
DEADLINE_MARGIN = 15.0

#: A passing failure is retried after this long, doubling with each receive up to RETRY_MAX_DELAY,
#: so a job that met a brief outage starts again within seconds to two minutes, and one that meets
#: a longer one does not hammer it.
RETRY_BASE_DELAY = 15
RETRY_MAX_DELAY = 120

#: A painted clip is stored as ``results/<job id>.mp4``, H.264 in MP4 (see :mod:`stylemixer.clips`).
CLIP_FORMAT = CLIP_EXTENSION
CLIP_CONTENT_TYPE = "video/mp4"
#: Bytes read from the start of a content upload to tell a clip from a photo (its ``ftyp`` box).
CLIP_SNIFF_BYTES = 256

GAVE_UP = JobError(
    PROCESSING_FAILED,
    "Your picture could not be processed after several attempts. Please try again in a few minutes.",
)


class JobTimedOutError(StyleMixerError):
    """The function's time is nearly up. Retried like any outage; on the last receive it is the reason."""

    code = TIMED_OUT

    def __init__(self) -> None:
        super().__init__(
            message="Painting this picture took longer than the service allows. "
            "Try again with a smaller output size."
        )


class StylizeEngine(Protocol):
    """The part of :class:`stylemixer.neural.engine.Engine` the worker uses."""

    def stylize(
        self,
        content: Image.Image,
        styles: Sequence[Style],
        options: StylizeOptions | None = None,
        progress: ProgressCallback | None = None,
    ) -> StylizeResult: ...

    def paint_regions(
        self,
        content: Image.Image,
        styles: Sequence[Style],
        weights: Any,
        options: StylizeOptions | None = None,
        progress: ProgressCallback | None = None,
    ) -> StylizeResult: ...

    def paint_clip(
        self,
        source: Path,
        target: Path,
        styles: Sequence[Style],
        options: StylizeOptions | None = None,
        *,
        progress: ProgressCallback | None = None,
        header: ClipHeader | None = None,
    ) -> ClipResult: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message: the job's final status, or ``skipped`` when nothing was done."""

    job_id: str
    status: Literal["succeeded", "failed", "skipped"]
    reason: str | None = None
    stylize_seconds: float | None = None
    input_megapixels: float | None = None


class ProgressWriter:
    """A progress callback that stores stage and percent on the job, throttled.

    Writes at most every ``interval`` seconds, counted from the job's start (itself a write), and
    only what moved: a new stage or a higher percent. A job shorter than ``interval`` writes no
    progress at all; its next state is its result. A failed write (throttling, a brief outage) is
    logged and skipped: progress is a courtesy, the job goes on.

    Example (with a clock set by hand):
        >>> from stylemixer.aws.fakes import InMemoryJobRepository
        >>> now = [0.0]
        >>> writer = ProgressWriter(InMemoryJobRepository(), "0" * 32, interval=2.0, clock=lambda: now[0])
        >>> writer("stylize", 0.1)  # 0 s after the job's start: not written
        >>> now[0] = 3.0
        >>> writer("stylize", 0.5), writer("stylize", 0.6)  # 50 % is written, 60 % comes too soon
        (None, None)
        >>> writer.writes
        1
    """

    def __init__(
        self,
        repo: JobRepository,
        job_id: str,
        interval: float = PROGRESS_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repo = repo
        self._job_id = job_id
        self._interval = interval
        self._clock = clock
        self._stage: str | None = None
        self._percent = -1
        self._written_at = clock()  # the job was just marked running: a write of its own
        self.writes = 0

    def __call__(self, stage: str, fraction: float) -> None:
        percent = min(99, max(0, int(fraction * 100)))  # 100 only when the job has succeeded
        now = self._clock()
        stage_changed = stage != self._stage
        if now - self._written_at < self._interval or (not stage_changed and percent <= self._percent):
            return
        self._stage = stage
        self._percent = max(self._percent, percent)
        self._written_at = now
        try:
            self._repo.record_progress(self._job_id, stage, self._percent, utcnow())
            self.writes += 1
        except Exception:
            logger.warning("progress write failed; the job goes on", exc_info=True)


def retry_delay(receive_count: int, jitter: Callable[[], float] = random.random) -> int:
    """Seconds before the next delivery of a message that failed on its ``receive_count``-th receive.

    Doubling from RETRY_BASE_DELAY, capped at RETRY_MAX_DELAY, with up to half of it taken off at
    random so that jobs failed by one outage do not all come back in the same second.

    Example:
        >>> [retry_delay(n, jitter=lambda: 0.0) for n in (1, 2, 3, 4, 5)]
        [15, 30, 60, 120, 120]
    """
    ceiling = min(RETRY_MAX_DELAY, RETRY_BASE_DELAY * 2 ** max(0, receive_count - 1))
    return max(1, round(ceiling * (1 - jitter() / 2)))


def process_job(
    job_id: str,
    *,
    store: BlobStore,
    repo: JobRepository,
    engine: Callable[[], StylizeEngine],
    max_receives: int,
    receive_count: int = 1,
    retry_later: Callable[[int], None] | None = None,
    progress_interval: float = PROGRESS_INTERVAL,
    remaining_seconds: Callable[[], float] | None = None,
) -> Outcome:
    """Run one job to a final state, or raise to have SQS deliver it again.

    ``engine`` is called only when there is work (it loads the weights on first use).
    ``max_receives`` is the queue's maxReceiveCount: on that receive a failure is final.
    ``retry_later`` hands the message back to the queue after a delay in seconds (before raising):
    see :func:`retry_delay`. If it fails, the message comes back after its visibility timeout.
    ``remaining_seconds`` (Lambda's context clock) lets a job that would be killed by the function's
    timeout stop in time, at its next progress report, instead of leaving the job running.

    Example (in memory, with an engine that inverts the photo):
        >>> from PIL import Image, ImageOps
        >>> from stylemixer.aws.fakes import InMemoryBlobStore, InMemoryJobRepository
        >>> from stylemixer.images import encode_image
        >>> from stylemixer.jobs.model import JobParams, StyleRef, new_id
        >>> from stylemixer.styles import StylizeResult
        >>> class Inverting:
        ...     def stylize(self, content, styles, options=None, progress=None):
        ...         return StylizeResult(ImageOps.invert(content))
        >>> store, repo, upload, now = InMemoryBlobStore(), InMemoryJobRepository(), new_id(), utcnow()
        >>> photo = encode_image(Image.new("RGB", (64, 64)), "png")
        >>> store.write(upload_key("content", upload), photo, "image/png")
        >>> repo.create(Job(new_id(), JobParams(upload, (StyleRef(preset="tapestry"),)), now, now, 0))
        >>> [job_id] = repo.jobs
        >>> process_job(job_id, store=store, repo=repo, engine=Inverting, max_receives=3).status
        'succeeded'
    """
    job = repo.start(job_id, utcnow())
    if job is None:
        current = repo.get(job_id)
        reason = "unknown job" if current is None else f"already {current.status.value}"
        logger.info("skipping job: %s", reason)
        return Outcome(job_id, "skipped", reason=reason)
    try:
        return _run(
            job,
            store=store,
            repo=repo,
            engine=engine,
            progress_interval=progress_interval,
            check_deadline=_deadline_check(remaining_seconds),
        )
    except Exception as exc:
        if isinstance(exc, StyleMixerError) and exc.status < 500:
            _fail(store, repo, job, JobError(exc.code, exc.message))
            return Outcome(job_id, "failed", reason=exc.code)
        if receive_count < max_receives:
            _hand_back(retry_later, retry_delay(receive_count))
            raise
        logger.exception("job failed on its last allowed receive")
        error = JobError(exc.code, exc.message) if isinstance(exc, JobTimedOutError) else GAVE_UP
        _fail(store, repo, job, error)
        return Outcome(job_id, "failed", reason=error.code)


def _hand_back(retry_later: Callable[[int], None] | None, delay: int) -> None:
    """Ask the queue for the next delivery in ``delay`` seconds; a refusal leaves the visibility timeout."""
    if retry_later is None:
        return
    try:
        retry_later(delay)
    except Exception:
        logger.warning("could not shorten the wait before the retry", exc_info=True)
    else:
        logger.info("job will be retried in %d s", delay)


def _deadline_check(remaining_seconds: Callable[[], float] | None) -> Callable[[], None]:
    """A check that raises :class:`JobTimedOutError` once the time left is below the margin."""
    if remaining_seconds is None:
        return lambda: None
    margin = min(DEADLINE_MARGIN, remaining_seconds() / 10)

    def check() -> None:
        if remaining_seconds() < margin:
            raise JobTimedOutError

    return check


def fail_abandoned(store: BlobStore, repo: JobRepository, job_id: str) -> bool:
    """Fail a job whose message reached the dead-letter queue; False if it had already finished."""
    job = repo.get(job_id)
    if job is None or job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        return False
    return _fail(store, repo, job, GAVE_UP)


def _run(
    job: Job,
    *,
    store: BlobStore,
    repo: JobRepository,
    engine: Callable[[], StylizeEngine],
    progress_interval: float,
    check_deadline: Callable[[], None],
) -> Outcome:
    from stylemixer.images import encode_image, thumbnail_jpeg  # Pillow; the cold import stays light

    params = job.params
    progress = ProgressWriter(repo, job.job_id, interval=progress_interval)

    def writer(stage: str, fraction: float) -> None:
        check_deadline()  # raising here stops the engine at its next layer
        progress(stage, fraction)

    writer("fetching", 0.0)
    options = params.options
    options.validate(len(params.styles), with_map=params.regions_map is not None)
    if _is_clip(store, params.content):
        return _run_clip(job, store=store, repo=repo, engine=engine, writer=writer)
    photo = _load_photo(store, "content", params.content)
    content = photo.image
    styles = _load_styles(store, params)
    drawn = _load_map(store, str(params.regions_map), content, len(styles)) if params.regions_map else None
    writer("fetching", _FETCH_SHARE)

    span = 1.0 - _FETCH_SHARE - _SAVE_SHARE
    started = time.perf_counter()

    def report(stage: str, fraction: float) -> None:
        writer(stage, _FETCH_SHARE + span * fraction)

    if drawn is not None:  # the map given replaces the planning
        result = engine().paint_regions(content, styles, drawn, options, report)
    else:
        result = engine().stylize(content, styles, options, report)
    seconds = time.perf_counter() - started

    writer("saving", 1.0 - _SAVE_SHARE)
    fmt = options.format
    key = result_key(job.job_id, fmt.extension)
    store.write(key, encode_image(result.image, fmt), fmt.content_type)
    small_key = thumbnail_key(job.job_id)
    store.write(small_key, thumbnail_jpeg(result.image), "image/jpeg")
    map_key = None
    if result.regions is not None:
        map_key = regions_key(job.job_id)
        buffer = io.BytesIO()
        result.regions.save(buffer, format="PNG")
        store.write(map_key, buffer.getvalue(), "image/png")

    width, height = result.image.size
    # The size painted and the photo's own, as read: replaces what its header said (or did not).
    painting = painted(photo.source_size, (width, height), params.reduced_from)
    stored = JobResult(key, width, height, fmt.value, map_key, small_key)
    if not repo.succeed(job.job_id, stored, utcnow(), painting):
        current = repo.get(job.job_id)
        status = current.status.value if current else "gone"
        if status != JobStatus.SUCCEEDED.value:
            delete_results(store, job)
        return Outcome(job.job_id, "skipped", reason=f"already {status}")
    return Outcome(
        job.job_id,
        "succeeded",
        stylize_seconds=seconds,
        input_megapixels=content.width * content.height / 1e6,
    )


def _load_styles(store: BlobStore, params: JobParams) -> list[Style]:
    """The job's styles: presets by id, pictures read from their uploads."""
    styles: list[Style] = []
    for number, ref in enumerate(params.styles, start=1):
        if ref.preset is not None:
            styles.append(PresetStyle(ref.preset))
        else:
            styles.append(ImageStyle(_load_picture(store, "style", str(ref.upload)), name=f"style {number}"))
    return styles


def _is_clip(store: BlobStore, upload_id: str) -> bool:
    """Whether the job's content upload is a clip (by its first bytes), not a photo."""
    from stylemixer.clips.header import is_clip

    peeked = store.peek(upload_key("content", upload_id), CLIP_SNIFF_BYTES)
    return peeked is not None and is_clip(peeked[1])


def _run_clip(
    job: Job,
    *,
    store: BlobStore,
    repo: JobRepository,
    engine: Callable[[], StylizeEngine],
    writer: Callable[[str, float], None],
) -> Outcome:
    """A clip's job: streamed from storage to the function's disk, checked, painted frame by frame
    into a file there, streamed back to storage, and only then marked done.

    The disk (Lambda's ephemeral storage) holds the clip and its painting at once: at most
    :data:`~stylemixer.limits.MAX_CLIP_BYTES` in, and the painting, about as large (cdk.json's
    ``worker_ephemeral_mb`` is sized for both, measured: docs/clips.md). Memory holds a few frames.
    """
    from stylemixer.clips.header import check_clip, check_clip_bytes, read_clip_file

    params = job.params
    key = upload_key("content", params.content)
    info = store.head(key)
    if info is None:
        raise UploadNotFoundError(message="The clip is no longer available; upload it again.")
    check_clip_bytes(info.size)  # before it is fetched
    with tempfile.TemporaryDirectory(prefix="stylemixer-clip-") as folder:
        source, target = Path(folder) / "clip", Path(folder) / "painted.mp4"
        store.download(key, source)
        header, _ = read_clip_file(source)
        check_clip(header, params.options)
        styles = _load_styles(store, params)
        writer("fetching", _FETCH_SHARE)
        span = 1.0 - _FETCH_SHARE - _SAVE_SHARE
        started = time.perf_counter()
        painted = engine().paint_clip(
            source,
            target,
            styles,
            params.options,
            progress=lambda stage, fraction: writer(stage, _FETCH_SHARE + span * fraction),
            header=header,
        )
        seconds = time.perf_counter() - started
        source.unlink()  # the disk holds the painting alone while it is stored
        writer("saving", 1.0 - _SAVE_SHARE)
        result_at = result_key(job.job_id, CLIP_EXTENSION)
        store.upload(result_at, target, CLIP_CONTENT_TYPE)
    result = JobResult(result_at, painted.width, painted.height, CLIP_FORMAT)
    if not repo.succeed(job.job_id, result, utcnow()):
        current = repo.get(job.job_id)
        status = current.status.value if current else "gone"
        if status != JobStatus.SUCCEEDED.value:
            delete_results(store, job)
        return Outcome(job.job_id, "skipped", reason=f"already {status}")
    width, height = header.display_size
    return Outcome(
        job.job_id,
        "succeeded",
        stylize_seconds=seconds,
        input_megapixels=width * height * painted.frames / 1e6,
    )


def _load_picture(store: BlobStore, purpose: UploadPurpose, upload_id: str) -> Image.Image:
    """:func:`_load_photo`'s picture."""
    return _load_photo(store, purpose, upload_id).image


def _load_photo(store: BlobStore, purpose: UploadPurpose, upload_id: str) -> Photo:
    """Read an upload and decode it under the limits (its size is checked before it is read); a
    picture past the cap is brought down to it (:mod:`stylemixer.photosize`: the size the API
    answered the job with), as the page does before sending where the browser can decode it. The
    photo keeps the size it was sent at, upright, for the job's painting."""
    from stylemixer.photosize import read_photo

    key = upload_key(purpose, upload_id)
    info = store.head(key)
    if info is None:
        raise UploadNotFoundError(message=f"The {purpose} picture is no longer available; upload it again.")
    if info.size > MAX_UPLOAD_BYTES:
        raise ImageTooLargeError(
            message=f"The {purpose} picture is larger than {megabytes(MAX_UPLOAD_BYTES)}."
        )
    photo = read_photo(store.read(key), max_bytes=MAX_UPLOAD_BYTES)
    if photo.reduced:
        logger.info(
            "%s picture of %d x %d brought down to %d x %d", purpose, *photo.source_size, *photo.image.size
        )
    return photo


def _load_map(store: BlobStore, upload_id: str, content: Image.Image, n_styles: int) -> Any:
    """The region map a job gives, checked again (the API checked it when the job was posted) and at
    the upright photo's size: style numbers (H, W) uint8, for the engine's ``paint_regions``."""
    import numpy as np

    from stylemixer.regionmap import check_map_bytes, fit_to_photo, read_region_map

    key = upload_key("map", upload_id)
    info = store.head(key)
    if info is None:
        raise UploadNotFoundError(message="The region map is no longer available; upload it again.")
    check_map_bytes(info.size)  # before it is read
    return np.asarray(fit_to_photo(read_region_map(store.read(key), n_styles), content.size))


def _fail(store: BlobStore, repo: JobRepository, job: Job, error: JobError) -> bool:
    """Mark the job failed and remove anything it may have written, so no half result is left."""
    changed = repo.fail(job.job_id, error, utcnow())
    if changed:
        delete_results(store, job)
    return changed
