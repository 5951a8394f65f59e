"""Build the AWS clients and adapters once per cold start.

boto3 is imported here, on first use, not when a handler module is imported: it is a fifth of a
second the API function's cold import does not pay before it can answer ``GET /health``. Endpoints
come from boto3's own ``AWS_ENDPOINT_URL`` (the local stack points it at moto's server).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from stylemixer.resources import API_CLIENT_TIMEOUTS

if TYPE_CHECKING:
    from boto3.session import Session

    from stylemixer.jobs.ports import BlobStore, JobQueue, JobRepository, QuotaBook
    from stylemixer.resources import ClientTimeouts
    from stylemixer.settings import Settings


@dataclass(frozen=True, slots=True)
class Adapters:
    """The storage and queue a handler works with."""

    store: BlobStore
    repo: JobRepository
    queue: JobQueue | None
    #: The API's counters per client (only the API has a quotas table).
    quotas: QuotaBook | None = None


def build_adapters(
    settings: Settings, *, timeouts: ClientTimeouts = API_CLIENT_TIMEOUTS, session: Session | None = None
) -> Adapters:
    """Real adapters for ``settings``: one boto3 session, one client per service.

    ``timeouts`` bound every call (see :class:`~stylemixer.resources.ClientTimeouts`: a stalled call
    ends inside the function's own timeout). ``session`` defaults to one that reads the credentials
    Lambda gives the function's role; the local stack passes each function its own role's.

    Example (with the handlers' environment):
        >>> from stylemixer.resources import WORKER_CLIENT_TIMEOUTS
        >>> from stylemixer.settings import Settings
        >>> adapters = build_adapters(Settings.from_env(), timeouts=WORKER_CLIENT_TIMEOUTS)
        >>> adapters.repo.get("0" * 32) is None
        True
    """
    import boto3
    from botocore.config import Config

    from stylemixer.aws.dynamodb import DynamoJobRepository
    from stylemixer.aws.quotas import DynamoQuotaBook
    from stylemixer.aws.s3 import S3BlobStore
    from stylemixer.aws.sqs import SqsJobQueue

    session = session or boto3.session.Session()
    config = Config(
        retries={"mode": "standard", "max_attempts": timeouts.attempts},
        connect_timeout=timeouts.connect,
        read_timeout=timeouts.read,
    )
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
        quotas=DynamoQuotaBook(dynamodb, settings.quota_table) if settings.quota_table else None,
    )


class LazyAdapters:
    """A function's adapters, built on first use and kept for the life of the container.

    In Lambda they sign with the credentials Lambda gives the function's role; the local stack and
    the tests run three functions in one process, so each handler's are given its own role's session
    with :meth:`sign_with`.

    Example (with the handlers' environment):
        >>> from stylemixer.settings import Settings
        >>> adapters = LazyAdapters(Settings.from_env())
        >>> adapters() is adapters()
        True
    """

    def __init__(self, settings: Settings, *, timeouts: ClientTimeouts = API_CLIENT_TIMEOUTS) -> None:
        self._settings = settings
        self._timeouts = timeouts
        self._session: Session | None = None
        self._built: Adapters | None = None

    def __call__(self) -> Adapters:
        if self._built is None:
            self._built = build_adapters(self._settings, timeouts=self._timeouts, session=self._session)
        return self._built

    def sign_with(self, session: Session | None) -> None:
        """Sign the calls with ``session`` (None: Lambda's credentials); drops adapters built before."""
        self._session = session
        self._built = None


def _regional_s3_endpoint(region: str | None) -> str | None:
    """S3's regional endpoint, unless an endpoint is configured (the local stack's moto server).

    boto3 signs links for the global endpoint by default; for a bucket outside us-east-1 that is only
    hours old, S3 answers those with a redirect, which a browser's cross-origin POST cannot follow.
    """
    import os

    if os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or not region:
        return None
    return f"https://s3.{region}.amazonaws.com"
