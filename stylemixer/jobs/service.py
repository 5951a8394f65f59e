"""What the API does, one function per route, with storage passed in (no boto3 here).

Everything a caller can get wrong becomes a :class:`~stylemixer.errors.StyleMixerError` *before*
anything is signed, written or queued.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from stylemixer.errors import ImageTooLargeError, StyleMixerError
from stylemixer.jobs.model import (
    Job,
    JobError,
    JobNotFoundError,
    JobParams,
    JobStatus,
    StyleRef,
    UploadNotFoundError,
    UploadPurpose,
    check_job_id,
    iso,
    new_id,
    upload_key,
)
from stylemixer.jobs.schemas import (
    ErrorBody,
    JobOut,
    JobRequest,
    ResultOut,
    StyleOut,
    StylesResponse,
    UploadRequest,
    UploadTicket,
)
from stylemixer.limits import MAX_UPLOAD_BYTES, OUTPUT_FORMATS
from stylemixer.options import StylizeOptions
from stylemixer.presets import PRESETS, get_preset
from stylemixer.styles import check_blend_kinds

if TYPE_CHECKING:
    from stylemixer.jobs.ports import BlobStore, JobQueue, JobRepository, ObjectInfo

#: A presigned upload is good for this long (the page uses it at once).
UPLOAD_URL_SECONDS = 10 * 60
#: A result link is good for this long; every poll of the job hands out a fresh one.
RESULT_URL_SECONDS = 60 * 60
#: Jobs are forgotten (DynamoDB TTL) after this long.
JOB_TTL = timedelta(days=7)
#: Bytes read from the start of an upload to decide its type (text formats such as SVG need ~1 KB).
SNIFF_BYTES = 1024


def list_styles(site_url: str | None) -> StylesResponse:
    """The presets, with thumbnails absolute when the site's URL is known.

    Example:
        >>> list_styles(None).styles[0].thumbnail_url
        '/presets/soft-pastel.jpg'
    """
    base = site_url.rstrip("/") if site_url else ""
    return StylesResponse(
        styles=[StyleOut(id=p.id, name=p.name, thumbnail_url=f"{base}/{p.thumbnail}") for p in PRESETS]
    )


def create_upload(store: BlobStore, request: UploadRequest, now: datetime) -> UploadTicket:
    """Sign a POST for one new upload key, with the declared size and type in its policy.

    Example:
        >>> create_upload(store, UploadRequest(purpose="content", content_type="image/png", size=1000), now)
    """
    if request.size > MAX_UPLOAD_BYTES:
        raise ImageTooLargeError(
            message=f"The file is {_megabytes(request.size)}; the largest picture accepted is "
            f"{_megabytes(MAX_UPLOAD_BYTES)}."
        )
    upload_id = new_id()
    post = store.presign_post(
        upload_key(request.purpose, upload_id), request.content_type, request.size, UPLOAD_URL_SECONDS
    )
    return UploadTicket(
        upload_id=upload_id,
        url=post.url,
        fields=post.fields,
        expires_at=iso(now + timedelta(seconds=UPLOAD_URL_SECONDS)),
        max_bytes=request.size,
    )


def submit_job(
    store: BlobStore, repo: JobRepository, queue: JobQueue, request: JobRequest, now: datetime
) -> Job:
    """Check everything the request names, store the job as queued, and enqueue it.

    Example:
        >>> request = JobRequest(content=upload_id, styles=[PresetRef(preset="tapestry")])
        >>> submit_job(store, repo, queue, request, now).status
        <JobStatus.QUEUED: 'queued'>
    """
    params = JobParams(
        content=request.content,
        styles=tuple(
            StyleRef(preset=getattr(s, "preset", None), upload=getattr(s, "upload", None))
            for s in request.styles
        ),
        weights=tuple(request.weights) if request.weights is not None else None,
        mix=request.mix,
        strength=request.strength,
        preserve_color=request.preserve_color,
        max_size=request.max_size,
        stroke=request.stroke,
        format=request.format,
        regions=request.regions,
        position_weight=request.position_weight,
        edge_softness=request.edge_softness,
    )
    options_for(params).validate(len(params.styles))
    n_presets = sum(1 for s in params.styles if s.preset is not None)
    check_blend_kinds(n_presets, len(params.styles) - n_presets, params.mix)
    for style in params.styles:
        if style.preset is not None:
            get_preset(style.preset)
    check_upload(store, "content", params.content)
    for style in params.styles:
        if style.upload is not None:
            check_upload(store, "style", style.upload)

    job = Job(
        job_id=new_id(),
        params=params,
        created_at=now,
        updated_at=now,
        expires_at_epoch=int((now + JOB_TTL).timestamp()),
    )
    repo.create(job)
    try:
        queue.send(job.job_id)
    except Exception:
        # Never leave a job queued that no worker will see.
        repo.fail(job.job_id, JobError("QueueUnavailable", "The job could not be queued; try again."), now)
        raise
    return job


def describe_job(store: BlobStore, repo: JobRepository, job_id: str, now: datetime) -> JobOut:
    """The job as the API shows it, with fresh presigned links to a result.

    Example:
        >>> describe_job(store, repo, job_id, now).status
        'queued'
    """
    job = repo.get(check_job_id(job_id))
    if job is None:
        raise JobNotFoundError(message="There is no job with that id (jobs are kept for 7 days).")
    out = JobOut(
        job_id=job.job_id,
        status=job.status.value,
        stage=job.stage,
        progress=job.progress,
        created_at=iso(job.created_at),
        updated_at=iso(job.updated_at),
    )
    if job.status is JobStatus.FAILED and job.error is not None:
        out.error = ErrorBody(code=job.error.code, message=job.error.message)
    if job.status is JobStatus.SUCCEEDED and job.result is not None:
        result = job.result
        content_type = OUTPUT_FORMATS[result.format]
        extension = "jpg" if result.format == "jpeg" else result.format
        out.result = ResultOut(
            url=store.presign_get(
                result.key, content_type, RESULT_URL_SECONDS, f"stylemixer-{job.job_id[:8]}.{extension}"
            ),
            width=result.width,
            height=result.height,
            format=result.format,
            regions_url=(
                store.presign_get(
                    result.regions_key,
                    "image/png",
                    RESULT_URL_SECONDS,
                    f"stylemixer-{job.job_id[:8]}-regions.png",
                )
                if result.regions_key
                else None
            ),
            expires_at=iso(now + timedelta(seconds=RESULT_URL_SECONDS)),
        )
    return out


def options_for(params: JobParams) -> StylizeOptions:
    """The engine's options for a job's parameters."""
    return StylizeOptions(
        weights=params.weights,
        mix=params.mix,  # type: ignore[arg-type]
        strength=params.strength,
        preserve_color=params.preserve_color,
        max_size=params.max_size,
        stroke=params.stroke,  # type: ignore[arg-type]
        regions=params.regions,
        position_weight=params.position_weight,
        edge_softness=params.edge_softness,
    )


def check_upload(store: BlobStore, purpose: UploadPurpose, upload_id: str) -> ObjectInfo:
    """Refuse an upload that is missing, of the other kind, too large, or not a picture by its bytes.

    The S3 POST policy already enforces size and type in AWS; the local stand-in does not, and a
    file's declared type can lie, so the bytes decide.
    """
    from stylemixer.images import check_format  # imported on first use: keeps the cold import light

    key = upload_key(purpose, upload_id)
    peeked = store.peek(key, SNIFF_BYTES)
    if peeked is None:
        other: UploadPurpose = "style" if purpose == "content" else "content"
        if store.head(upload_key(other, upload_id)) is not None:
            raise StyleMixerError(
                "WrongUploadKind",
                f"Upload {upload_id} was made as a {other} picture; upload it again as a {purpose} picture.",
            )
        raise UploadNotFoundError(
            message=f"There is no {purpose} upload {upload_id}: it was never completed or it expired."
        )
    info, first_bytes = peeked
    if info.size > MAX_UPLOAD_BYTES:
        raise ImageTooLargeError(
            message=f"The {purpose} picture is {_megabytes(info.size)}; "
            f"the largest accepted is {_megabytes(MAX_UPLOAD_BYTES)}."
        )
    # The same code and sentence the worker's decoder would give (EmptyImage, NotAnImage, ...).
    check_format(first_bytes)
    return info


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
