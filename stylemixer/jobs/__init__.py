"""Jobs: the model and its state machine, the API's service functions and the worker's steps.

No boto3 here: storage and the queue are the small interfaces in :mod:`stylemixer.jobs.ports`,
implemented in :mod:`stylemixer.aws`.
"""

from __future__ import annotations

from stylemixer.jobs.model import (
    Job,
    JobError,
    JobNotFoundError,
    JobParams,
    JobResult,
    JobStatus,
    Painting,
    StyleRef,
    UploadNotFoundError,
    new_id,
)
from stylemixer.jobs.ports import BlobStore, JobQueue, JobRepository, TransientError

__all__ = [
    "BlobStore",
    "Job",
    "JobError",
    "JobNotFoundError",
    "JobParams",
    "JobQueue",
    "JobRepository",
    "JobResult",
    "JobStatus",
    "Painting",
    "StyleRef",
    "TransientError",
    "UploadNotFoundError",
    "new_id",
]
