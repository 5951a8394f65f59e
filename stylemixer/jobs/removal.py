"""Removing what a job left in the bucket: its result (and region map), and the uploads it named.

The worker removes a result it cannot keep (the job failed, or was deleted while it ran); the API
removes everything when the job's owner deletes it. Each key is its own call, so that an object
already gone (S3's DELETE of a missing key succeeds) never stops the others.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from stylemixer.jobs.model import CLIP_EXTENSION, regions_key, result_key, thumbnail_key, upload_key

if TYPE_CHECKING:
    from stylemixer.jobs.model import Job, UploadPurpose
    from stylemixer.jobs.ports import BlobStore

logger = logging.getLogger(__name__)


def delete_results(store: BlobStore, job: Job, *, strict: bool = False) -> None:
    """Remove the job's picture and its small copy, or its painted clip, and its region map; a failure
    is logged (raised with ``strict``).

    Example:
        >>> from stylemixer.aws.fakes import InMemoryBlobStore
        >>> from stylemixer.jobs.model import Job, JobParams, StyleRef, utcnow
        >>> store, now = InMemoryBlobStore(), utcnow()
        >>> job = Job("0" * 32, JobParams("1" * 32, (StyleRef(preset="tapestry"),)), now, now, 0)
        >>> store.write(result_key(job.job_id, "jpg"), b"...", "image/jpeg")
        >>> delete_results(store, job); store.objects
        {}
    """
    fmt = job.params.options.format
    # The keys are written out in the loop so that the permissions' reader sees each one's prefix.
    for key in (
        result_key(job.job_id, fmt.extension),
        regions_key(job.job_id),
        thumbnail_key(job.job_id),
        result_key(job.job_id, CLIP_EXTENSION),
    ):
        try:
            store.delete(key)
        except Exception:
            if strict:
                raise
            logger.warning("could not delete %s", key, exc_info=True)


def delete_uploads(store: BlobStore, job: Job) -> None:
    """Remove every upload the job named: its photo, its style pictures and its region map.

    Other jobs may name the same uploads (a visit's further tries on one photo): they lose them too,
    which is what deleting one's photo means.
    """
    for purpose, upload_id in uploads_of(job):
        store.delete(upload_key(purpose, upload_id))


def uploads_of(job: Job) -> list[tuple[UploadPurpose, str]]:
    """The uploads a job names, each once, with their purpose (photo first)."""
    params = job.params
    named: list[tuple[UploadPurpose, str]] = [("content", params.content)]
    named += [("style", str(ref.upload)) for ref in params.styles if ref.upload is not None]
    if params.regions_map is not None:
        named.append(("map", params.regions_map))
    return list(dict.fromkeys(named))
