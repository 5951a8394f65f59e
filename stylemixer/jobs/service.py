"""What the API does, one function per route, with storage passed in (no boto3 here).

Everything a caller can get wrong becomes a :class:`~stylemixer.errors.StyleMixerError` *before*
anything is signed, written or queued.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from stylemixer.errors import (
    CLIP_NOT_ALLOWED,
    NOT_A_VIDEO,
    QUEUE_UNAVAILABLE,
    WRONG_UPLOAD_KIND,
    ImageTooLargeError,
    InvalidRequestError,
    StyleMixerError,
)
from stylemixer.jobs.model import (
    UPLOAD_PURPOSES,
    Job,
    JobError,
    JobNotFoundError,
    JobParams,
    JobStatus,
    Painting,
    StyleRef,
    UploadExpiredError,
    UploadNotFoundError,
    UploadPurpose,
    check_job_id,
    iso,
    new_id,
    upload_key,
)
from stylemixer.jobs.owner import NotOwnerError, is_owner, owner_hash
from stylemixer.jobs.painting import painting_of
from stylemixer.jobs.removal import delete_results, delete_uploads, uploads_of
from stylemixer.jobs.schemas import (
    ErrorBody,
    JobAccepted,
    JobAsked,
    JobLinks,
    JobOut,
    JobRequest,
    PaintingOut,
    PictureOut,
    PresetRef,
    ResultOut,
    StyleAsked,
    StyleOut,
    StylesResponse,
    UploadRequest,
    UploadTicket,
)
from stylemixer.limits import (
    CLIP_CONTENT_TYPES,
    LINK_SECONDS,
    MAX_CLIP_BYTES,
    MAX_MAP_BYTES,
    MAX_UPLOAD_BYTES,
    UPLOAD_REUSE_SECONDS,
    megabytes,
)
from stylemixer.options import Mix, OutputFormat
from stylemixer.presets import PRESETS, get_preset

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from stylemixer.admission.quotas import ClientGate
    from stylemixer.jobs.ports import BlobStore, JobQueue, JobRepository, ObjectInfo

#: A presigned upload is good for this long (the page uses it at once).
UPLOAD_URL_SECONDS = 10 * 60
#: A result link (and a link to the pictures a job names) is good for this long; every poll of the
#: job hands out a fresh one (see stylemixer.limits.LINK_SECONDS).
RESULT_URL_SECONDS = LINK_SECONDS
#: New jobs may name an upload for this long after it was stored (see stylemixer.limits).
UPLOAD_REUSE = timedelta(seconds=UPLOAD_REUSE_SECONDS)
#: What an upload is called in a sentence, by purpose.
_PICTURE_WORDS: dict[UploadPurpose, str] = {"content": "photo", "style": "style picture", "map": "region map"}
#: What an upload is called when its kind is named, by purpose.
_UPLOAD_WORDS: dict[UploadPurpose, str] = {
    "content": "content picture",
    "style": "style picture",
    "map": "region map (purpose map)",
}
#: Jobs are forgotten (DynamoDB TTL) after this long.
JOB_TTL = timedelta(days=7)
#: Bytes read from the start of an upload to decide its type (text formats such as SVG need ~1 KB).
SNIFF_BYTES = 1024
#: Bytes read from the start of a photo for the size its header declares: the size a job paints at,
#: a decompression bomb refused, a region map's shape checked (a JPEG's size comes after its metadata
#: segments, a HEIC's in the item properties before its pictures; a phone's are well within this).
HEADER_BYTES = 256 * 1024


def list_styles(site_url: str | None) -> StylesResponse:
    """The presets, with thumbnails absolute when the site's URL is known.

    Example:
        >>> list_styles(None).styles[0].thumbnail_url
        '/presets/soft-pastel.jpg'
    """
    base = _site_base(site_url)
    return StylesResponse(
        styles=[StyleOut(id=p.id, name=p.name, thumbnail_url=f"{base}/{p.thumbnail}") for p in PRESETS]
    )


def _site_base(site_url: str | None) -> str:
    return site_url.rstrip("/") if site_url else ""


def create_upload(
    store: BlobStore, request: UploadRequest, now: datetime, gate: ClientGate | None = None
) -> UploadTicket:
    """Sign a POST for one new upload key, with the declared size and type in its policy.

    The ticket says until when new jobs may name the upload: counted from now, so never later than
    the check of :func:`check_upload` allows (it counts from when the file was stored, after now).
    ``gate`` counts the declared size against the client's upload bytes (after every other check,
    so a refused request counts nothing), before anything is signed.

    Example:
        >>> from stylemixer.aws.fakes import InMemoryBlobStore
        >>> from stylemixer.jobs.model import utcnow
        >>> request = UploadRequest(purpose="content", content_type="image/png", size=1000)
        >>> ticket = create_upload(InMemoryBlobStore(), request, utcnow())
        >>> len(ticket.upload_id), ticket.max_bytes
        (32, 1000)
    """
    check_declared_size(request.size, request.content_type, request.purpose)
    if request.purpose == "map":
        check_map_upload(request.content_type, request.size)
    if gate is not None:
        gate.admit_upload(request.size, now)
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
        usable_until=iso(now + UPLOAD_REUSE),
    )


def accept_job(
    store: BlobStore,
    repo: JobRepository,
    queue: JobQueue,
    request: JobRequest,
    now: datetime,
    *,
    owner_token: str,
    gate: ClientGate | None = None,
) -> JobAccepted:
    """:func:`submit_job`, answered as ``POST /jobs`` answers: the job's id and link, its
    ``owner_token`` (handed out here, once), and the size it will paint at (:func:`painting_of` the
    photo's header; none for a clip).

    Example:
        >>> import io; from PIL import Image
        >>> from stylemixer.aws.fakes import InMemoryBlobStore, InMemoryJobQueue, InMemoryJobRepository
        >>> from stylemixer.jobs.model import utcnow
        >>> store, repo, queue = InMemoryBlobStore(), InMemoryJobRepository(), InMemoryJobQueue()
        >>> photo = io.BytesIO(); Image.new("RGB", (9600, 7200)).save(photo, "JPEG")
        >>> store.write(upload_key("content", "0" * 32), photo.getvalue(), "image/jpeg")
        >>> request = JobRequest(content="0" * 32, styles=[PresetRef(preset="tapestry")])
        >>> accept_job(store, repo, queue, request, utcnow(), owner_token="t" * 43).painting.model_dump()
        {'width': 8164, 'height': 6123, 'reduced': True, 'photo_width': 9600, 'photo_height': 7200}
    """
    job = submit_job(store, repo, queue, request, now, owner_token=owner_token, gate=gate)
    links = JobLinks(self=f"/jobs/{job.job_id}")
    painting = _painting_out(job.painting)
    return JobAccepted(job_id=job.job_id, links=links, owner_token=owner_token, painting=painting)


def _painting_out(painting: Painting | None) -> PaintingOut | None:
    """A job's painting as the API answers it (POST /jobs, GET /jobs/{job_id})."""
    return None if painting is None else PaintingOut(**dataclasses.asdict(painting))


def submit_job(
    store: BlobStore,
    repo: JobRepository,
    queue: JobQueue,
    request: JobRequest,
    now: datetime,
    *,
    owner_token: str | None = None,
    gate: ClientGate | None = None,
) -> Job:
    """Check everything the request names, store the job as queued, and enqueue it.

    A job may name uploads that earlier jobs named too (another try on the same photo), as long as
    they were stored less than :data:`UPLOAD_REUSE` ago. The job stores the hash of ``owner_token``
    (the caller hands the token out, once), and the size it paints at, from the photo's header, read
    in the one ranged GET that checks the photo (:func:`stylemixer.jobs.painting.painting_of`; a
    photo that cannot be painted is refused before the job is stored). ``gate`` admits the job for
    its client (its limits, and room in the queue) once everything else is checked, before it is
    stored or queued.

    Example:
        >>> import io; from PIL import Image
        >>> from stylemixer.aws.fakes import InMemoryBlobStore, InMemoryJobQueue, InMemoryJobRepository
        >>> from stylemixer.jobs.model import utcnow
        >>> store, repo, queue = InMemoryBlobStore(), InMemoryJobRepository(), InMemoryJobQueue()
        >>> photo = io.BytesIO(); Image.new("RGB", (64, 64)).save(photo, "PNG")
        >>> store.write(upload_key("content", "0" * 32), photo.getvalue(), "image/png")
        >>> request = JobRequest(content="0" * 32, styles=[PresetRef(preset="tapestry")])
        >>> submit_job(store, repo, queue, request, utcnow()).status
        <JobStatus.QUEUED: 'queued'>
    """
    sent_from = request.reduced_from
    params = JobParams(
        content=request.content,
        styles=tuple(
            StyleRef(preset=s.preset) if isinstance(s, PresetRef) else StyleRef(upload=s.upload, name=s.name)
            for s in request.styles
        ),
        options=request.options(),
        regions_map=request.regions_map,
        reduced_from=(sent_from.width, sent_from.height) if sent_from is not None else None,
    )
    n_presets = sum(1 for s in params.styles if s.preset is not None)
    request.validate(len(params.styles), n_presets=n_presets)  # the options' rules, and the map's
    # The photo's first bytes read here hold its header's size too: a bomb is refused now.
    photo_info, photo_head = check_upload(store, "content", params.content, now, length=HEADER_BYTES)
    painting = None
    if _is_clip(photo_head):
        if params.reduced_from is not None:
            raise InvalidRequestError(
                message="reduced_from is the size of a photo brought down before it was sent; a clip is "
                "painted at its own size."
            )
        check_clip_upload(store, params.content, photo_info, params)
    else:
        # Refuses a header claiming a bomb's size, a strip too thin to paint, and a reduced_from that
        # is not this photo's.
        painting = painting_of(photo_head, params.options.max_size, params.reduced_from)
    for style in params.styles:
        if style.upload is not None:
            check_upload(store, "style", style.upload, now)
    if params.regions_map is not None:
        check_regions_map(store, params, photo_head, now)

    job = Job(
        job_id=new_id(),
        params=params,
        created_at=now,
        updated_at=now,
        expires_at_epoch=int((now + JOB_TTL).timestamp()),
        owner_hash=owner_hash(owner_token) if owner_token is not None else None,
        painting=painting,
    )
    if gate is not None:
        gate.admit_job(job.job_id, [upload_id for _, upload_id in uploads_of(job)], now)
    repo.create(job)
    try:
        queue.send(job.job_id)
    except Exception:
        # Never leave a job queued that no worker will see.
        repo.fail(job.job_id, JobError(QUEUE_UNAVAILABLE, "The job could not be queued; try again."), now)
        raise
    return job


def describe_job(
    store: BlobStore,
    repo: JobRepository,
    job_id: str,
    now: datetime,
    site_url: str | None = None,
    *,
    owner_token: str | None = None,
) -> JobOut:
    """The job as the API shows it: what was asked (with names, and fresh links to the styles, so a
    page opened from the job's link can show them and the legend of a region map) and, once done,
    fresh presigned links to the result, and the size it paints at (so that a page opened later still
    says a photo was painted smaller). Only its owner (``owner_token``) also gets the photo and the
    region map it was given, with links: anyone else holding the job's link sees the result.

    Example:
        >>> from stylemixer.aws.fakes import InMemoryBlobStore, InMemoryJobRepository
        >>> from stylemixer.jobs.model import utcnow
        >>> describe_job(InMemoryBlobStore(), InMemoryJobRepository(), "0" * 32, utcnow())
        Traceback (most recent call last):
        ...
        stylemixer.jobs.model.JobNotFoundError: There is no job with that id (jobs are kept for 7 days).
    """
    job = _existing(repo, job_id)
    owner = is_owner(job, owner_token)
    out = JobOut(
        job_id=job.job_id,
        status=job.status.value,
        stage=job.stage,
        progress=job.progress,
        created_at=iso(job.created_at),
        updated_at=iso(job.updated_at),
        request=_asked(store, job, site_url, owner=owner),
        owner=owner,
        links_expire_at=iso(now + timedelta(seconds=RESULT_URL_SECONDS)),
        painting=_painting_out(job.painting),
    )
    if job.status is JobStatus.FAILED and job.error is not None:
        out.error = ErrorBody(code=job.error.code, message=job.error.message)
    if job.status is JobStatus.SUCCEEDED and job.result is not None:
        result = job.result
        extension, content_type = result_media(result.format)
        stem = f"stylemixer-{job.job_id[:8]}"  # the name each file is saved under
        name = f"{stem}.{extension}"
        out.result = ResultOut(
            url=store.presign_get(result.key, content_type, RESULT_URL_SECONDS, name),
            width=result.width,
            height=result.height,
            format=result.format,
            regions_url=(
                store.presign_get(result.regions_key, "image/png", RESULT_URL_SECONDS, f"{stem}-regions.png")
                if result.regions_key
                else None
            ),
            thumbnail_url=(
                store.presign_get(result.thumbnail_key, "image/jpeg", RESULT_URL_SECONDS, f"{stem}-small.jpg")
                if result.thumbnail_key
                else None
            ),
            expires_at=iso(now + timedelta(seconds=RESULT_URL_SECONDS)),
        )
    return out


def result_media(fmt: str) -> tuple[str, str]:
    """A result's file name suffix and media type: a picture's format, or ``mp4`` for a painted clip.

    Example:
        >>> result_media("jpeg"), result_media("mp4")
        (('jpg', 'image/jpeg'), ('mp4', 'video/mp4'))
    """
    if fmt == "mp4":
        return "mp4", "video/mp4"
    kind = OutputFormat(fmt)
    return kind.extension, kind.content_type


def delete_job(store: BlobStore, repo: JobRepository, job_id: str, owner_token: str | None) -> None:
    """Delete a job for its owner: the record, then its result, region map and every upload it named.

    The record goes first, by a write conditional on the owner's hash: a worker still painting the
    job then cannot record it as done, and removes what it wrote (see :mod:`stylemixer.jobs.worker`);
    the objects go next, each with its own call. Without the owner's token nothing is deleted (403).

    Example:
        >>> from stylemixer.aws.fakes import InMemoryBlobStore, InMemoryJobRepository
        >>> delete_job(InMemoryBlobStore(), InMemoryJobRepository(), "0" * 32, None)
        Traceback (most recent call last):
        ...
        stylemixer.jobs.model.JobNotFoundError: There is no job with that id (jobs are kept for 7 days).
    """
    job = _existing(repo, job_id)
    if not is_owner(job, owner_token) or job.owner_hash is None:
        raise NotOwnerError
    if not repo.delete(job.job_id, job.owner_hash):
        raise JobNotFoundError(message="There is no job with that id (jobs are kept for 7 days).")
    delete_results(store, job, strict=True)
    delete_uploads(store, job)


def _existing(repo: JobRepository, job_id: str) -> Job:
    job = repo.get(check_job_id(job_id))
    if job is None:
        raise JobNotFoundError(message="There is no job with that id (jobs are kept for 7 days).")
    return job


def _asked(store: BlobStore, job: Job, site_url: str | None, *, owner: bool) -> JobAsked:
    """What ``job`` asked for, as :class:`JobAsked`: presets by name and thumbnail, uploads by the
    name they were given (else "Your picture", numbered when there are several) and a presigned GET
    scoped like a result link (15 minutes, this one key, served with the type it was stored with).
    The photo and a region map given are there for the owner only (else null)."""
    params = job.params
    short = job.job_id[:8]
    several = sum(1 for s in params.styles if s.upload is not None) > 1
    base = _site_base(site_url)
    styles: list[StyleAsked] = []
    number = 0
    for ref in params.styles:
        if ref.preset is not None:
            preset = get_preset(ref.preset)
            styles.append(
                StyleAsked(preset=preset.id, name=preset.name, thumbnail_url=f"{base}/{preset.thumbnail}")
            )
            continue
        number += 1
        fallback = f"Your picture {number}" if several else "Your picture"
        url = _upload_url(store, "style", str(ref.upload), f"stylemixer-{short}-style-{number}")
        styles.append(StyleAsked(upload=ref.upload, name=ref.name or fallback, thumbnail_url=url))
    if not owner:
        return JobAsked(**dict(params.options), content=None, styles=styles, regions_map=None)
    content = PictureOut(
        upload=params.content,
        url=_upload_url(store, "content", params.content, f"stylemixer-{short}-photo"),
    )
    regions_map = None
    if params.regions_map is not None:
        url = _upload_url(store, "map", params.regions_map, f"stylemixer-{short}-map.png")
        regions_map = PictureOut(upload=params.regions_map, url=url)
    return JobAsked(**dict(params.options), content=content, styles=styles, regions_map=regions_map)


def _upload_url(store: BlobStore, purpose: UploadPurpose, upload_id: str, filename: str) -> str:
    """A short-lived link to a job's own upload, scoped like a result's link (that key only)."""
    return store.presign_get(upload_key(purpose, upload_id), None, RESULT_URL_SECONDS, filename)


def check_upload(
    store: BlobStore,
    purpose: UploadPurpose,
    upload_id: str,
    now: datetime | None = None,
    *,
    length: int = SNIFF_BYTES,
) -> tuple[ObjectInfo, bytes]:
    """Refuse an upload that is missing, of the other kind, stored too long ago to be used again
    (with ``now``), too large, or not a picture by its bytes; else its size and type, and its first
    ``length`` bytes (one ranged GET: a caller that needs more of the file asks for it here).

    The S3 POST policy already enforces size and type in AWS; the local stand-in does not, and a
    file's declared type can lie, so the bytes decide. The bucket deletes uploads some time after
    they are stored, and not at once when they are due, so their age is checked here: a job is
    accepted only while its pictures are sure to be there when the worker reads them.
    """
    from stylemixer.images import check_format  # imported on first use: keeps the cold import light

    key = upload_key(purpose, upload_id)
    peeked = store.peek(key, max(length, SNIFF_BYTES))
    if peeked is None:
        for other in (p for p in UPLOAD_PURPOSES if p != purpose):
            if store.head(upload_key(other, upload_id)) is not None:
                raise StyleMixerError(
                    WRONG_UPLOAD_KIND,
                    f"Upload {upload_id} was made as a {_UPLOAD_WORDS[other]}; upload it again as a "
                    f"{_UPLOAD_WORDS[purpose]}.",
                )
        raise UploadNotFoundError(
            message=f"There is no {purpose} upload {upload_id}: it was never completed or it expired."
        )
    info, first_bytes = peeked
    if now is not None and info.last_modified is not None and now - info.last_modified > UPLOAD_REUSE:
        hours = UPLOAD_REUSE_SECONDS // 3600
        raise UploadExpiredError(
            message=f"The {_PICTURE_WORDS[purpose]} was uploaded more than {hours} hours ago and is no "
            "longer kept for new pictures; upload it again."
        )
    if purpose == "map":
        check_map_upload(None, info.size, first_bytes)
        return peeked
    if _is_clip(first_bytes):
        from stylemixer.clips.header import check_clip_bytes

        if purpose != "content":
            raise _clip_not_allowed(purpose)
        check_clip_bytes(info.size)  # its container is read by check_clip_upload
        return peeked
    if purpose == "content" and info.content_type in CLIP_CONTENT_TYPES and first_bytes:
        from stylemixer.clips.exceptions import InvalidClipError

        raise InvalidClipError(
            NOT_A_VIDEO, "The file is not a video we can read; send an MP4 or MOV clip in H.264 or HEVC."
        )
    if info.size > MAX_UPLOAD_BYTES:
        raise ImageTooLargeError(
            message=f"The {purpose} picture is {megabytes(info.size)}; "
            f"the largest accepted is {megabytes(MAX_UPLOAD_BYTES)}."
        )
    # The same code and sentence the worker's decoder would give (EmptyImage, NotAnImage, ...).
    check_format(first_bytes)
    return peeked


def _is_clip(first_bytes: bytes) -> bool:
    from stylemixer.clips.header import is_clip  # pure Python, on first use

    return is_clip(first_bytes)


def _clip_not_allowed(purpose: UploadPurpose) -> StyleMixerError:
    from stylemixer.clips.exceptions import InvalidClipError

    return InvalidClipError(
        CLIP_NOT_ALLOWED,
        f"A {_PICTURE_WORDS[purpose]} is a picture, not a clip; only the photo to paint may be a clip.",
    )


def check_clip_upload(store: BlobStore, upload_id: str, info: ObjectInfo, params: JobParams) -> None:
    """Refuse a clip upload whose container is cut short, damaged or without video, in a codec we do
    not decode, over the limits, or asked to be painted in a way a clip cannot be (the regions mix,
    a region map, more painting than one job may do).

    Read in storage by ranged GETs: each top-level box's header, then the ``moov`` box (a few
    hundred KB), never the frames (:func:`stylemixer.clips.header.read_clip_header`). The worker
    reads the same container again before painting, with the same refusals.
    """
    from stylemixer.clips.exceptions import regions_not_for_clips
    from stylemixer.clips.header import check_clip, read_clip_header

    if params.options.mix is Mix.REGIONS or params.regions_map is not None:
        raise regions_not_for_clips()
    key = upload_key("content", upload_id)
    header = read_clip_header(lambda at, length: store.read_range(key, at, length), info.size)
    check_clip(header, params.options)


def check_map_upload(content_type: str | None, size: int, first_bytes: bytes | None = None) -> None:
    """Refuse a region map upload that is not a PNG (by its declared type or its first bytes) or
    larger than a map may be (:data:`~stylemixer.limits.MAX_MAP_BYTES`).

    Example:
        >>> check_map_upload("image/jpeg", 1000)
        Traceback (most recent call last):
        ...
        stylemixer.errors.InvalidRequestError: A region map is a PNG file (image/png), not image/jpeg.
    """
    from stylemixer import regionmap

    if content_type is not None and content_type != "image/png":
        raise regionmap.invalid(f"A region map is a PNG file (image/png), not {content_type}.")
    regionmap.check_map_bytes(size)
    if first_bytes is not None and not first_bytes.startswith(regionmap.PNG_SIGNATURE):
        raise regionmap.invalid("The region map is not a PNG file; upload the map as a PNG.")


def check_regions_map(
    store: BlobStore, params: JobParams, photo_head: bytes, now: datetime | None = None
) -> None:
    """Refuse the region map a job gives (``params.regions_map``) unless it is an upload of purpose
    map, still usable, a PNG of style numbers each naming one of the job's styles, drawn for a
    picture of the photo's shape.

    The map is read whole, in the one GET that checks it (it is small); the photo only as far as its
    header's size, from ``photo_head`` (its first :data:`HEADER_BYTES`, read when it was checked). Where the
    header does not say how the photo stands upright (only a JPEG's always does), a map may match
    it either way round here; the worker checks against the upright photo again before painting.
    """
    from stylemixer import regionmap
    from stylemixer.images import header_size

    map_id = str(params.regions_map)
    _, data = check_upload(store, "map", map_id, now, length=MAX_MAP_BYTES)  # all of a map accepted
    numbers = regionmap.read_region_map(data, len(params.styles))
    photo = header_size(photo_head)
    if photo is None:
        return
    width, height, upright = photo
    try:
        regionmap.check_aspect(numbers.size, (width, height))
    except StyleMixerError:
        if upright:
            raise
        regionmap.check_aspect(numbers.size, (height, width))


def check_declared_size(
    size: int, content_type: str | None = None, purpose: UploadPurpose = "content"
) -> None:
    """Refuse an upload declared larger than the largest picture (or clip) accepted (413, with both
    sizes), and a clip declared for anything but the photo to paint.

    Example:
        >>> check_declared_size(80 * 1024 * 1024)
        Traceback (most recent call last):
        ...
        stylemixer.errors.ImageTooLargeError: The file is 80 MB; the largest picture accepted is 64 MB.
        >>> check_declared_size(40 * 1024 * 1024, "video/mp4")
    """
    if content_type in CLIP_CONTENT_TYPES:
        from stylemixer.clips.header import check_clip_bytes

        if purpose != "content":
            raise _clip_not_allowed(purpose)
        check_clip_bytes(size)
        return
    if size > MAX_CLIP_BYTES:  # what the schema refuses (any kind): both limits said
        raise ImageTooLargeError(
            message=f"The file is {megabytes(size)}; the largest accepted is {megabytes(MAX_UPLOAD_BYTES)} "
            f"for a picture and {megabytes(MAX_CLIP_BYTES)} for a clip."
        )
    if size > MAX_UPLOAD_BYTES:
        raise ImageTooLargeError(
            message=f"The file is {megabytes(size)}; the largest picture accepted is "
            f"{megabytes(MAX_UPLOAD_BYTES)}."
        )


def schema_refusal(errors: Sequence[Mapping[str, Any]]) -> StyleMixerError | None:
    """The refusal callers have always had for a value the API's document refuses, or None.

    The document bounds a job id's shape, the preset names and an upload's declared size, so these
    are refused before any code of ours runs; callers keep the codes they always had for them
    (``InvalidJobId``, ``UnknownStyle``, ``ImageTooLarge``) rather than a ``ValidationError``, when
    that is all that is wrong with the request. ``errors`` are pydantic's, with ``loc`` and ``input``.

    Example:
        >>> schema_refusal([{"loc": ("path", "job_id"), "type": "string_pattern_mismatch", "input": "0"}])
        StyleMixerError('InvalidJobId', 'That is not a job id: ids are 32 hexadecimal characters.')
    """
    refusals: list[StyleMixerError] = []
    for error in errors:
        loc = tuple(error.get("loc") or ("",))
        check = _SCHEMA_CHECKS.get((str(loc[0]), str(loc[-1]), str(error.get("type"))))
        check = check or _SCHEMA_CHECKS.get((str(loc[0]), str(loc[-1]), "*"))
        try:
            if check is not None:
                check(error.get("input"))
        except StyleMixerError as exc:
            refusals.append(exc)
            continue
        return None
    return refusals[0] if refusals else None


#: A name that could be a preset's: safe to repeat in a message (any other is a ValidationError).
_PRESET_SHAPE = re.compile(r"[a-z0-9-]{1,64}")


def _unknown_preset(name: object) -> None:
    if isinstance(name, str) and _PRESET_SHAPE.fullmatch(name):
        get_preset(name)


def _declared_size(size: object) -> None:
    if isinstance(size, int):
        check_declared_size(size)


#: (where, field, pydantic error type) -> the check whose refusal callers get for that error.
_SCHEMA_CHECKS: dict[tuple[str, str, str], Callable[[Any], object]] = {
    ("path", "job_id", "*"): check_job_id,
    ("body", "preset", "enum"): _unknown_preset,
    ("body", "size", "less_than_equal"): _declared_size,
}
