"""Build the AWS clients and adapters once per cold start.

boto3 is imported here, on first use, not when a handler module is imported: it is a fifth of a
second the API function's cold import does not pay before it can answer ``GET /health``. Endpoints
come from boto3's own ``AWS_ENDPOINT_URL`` (the local stack points it at moto's server).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stylemixer.jobs.ports import BlobStore, JobQueue, JobRepository
    from stylemixer.settings import Settings


@dataclass(frozen=True, slots=True)
class Adapters:
    """The storage and queue a handler works with."""

    store: BlobStore
    repo: JobRepository
    queue: JobQueue | None


def build_adapters(settings: Settings) -> Adapters:
    """Real adapters for ``settings``: one boto3 session, one client per service.

    Example:
        >>> adapters = build_adapters(Settings.from_env())
        >>> adapters.repo.get("0" * 32) is None
        True
    """
    import boto3
    from botocore.config import Config

    from stylemixer.aws.dynamodb import DynamoJobRepository
    from stylemixer.aws.s3 import S3BlobStore
    from stylemixer.aws.sqs import SqsJobQueue

    session = boto3.session.Session()
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)
    s3 = session.client(
        "s3",
        endpoint_url=_regional_s3_endpoint(session.region_name),
        config=config.merge(Config(signature_version="s3v4", s3={"addressing_style": "virtual"})),
    )
    dynamodb = session.client("dynamodb", config=config)
    queue = None
    if settings.queue_url:
        queue = SqsJobQueue(session.client("sqs", config=config), settings.queue_url)
    return Adapters(
        store=S3BlobStore(s3, settings.bucket),
        repo=DynamoJobRepository(dynamodb, settings.table),
        queue=queue,
    )


def _regional_s3_endpoint(region: str | None) -> str | None:
    """S3's regional endpoint, unless an endpoint is configured (the local stack's moto server).

    boto3 signs links for the global endpoint by default; for a bucket outside us-east-1 that is only
    hours old, S3 answers those with a redirect, which a browser's cross-origin POST cannot follow.
    """
    import os

    if os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or not region:
        return None
    return f"https://s3.{region}.amazonaws.com"
