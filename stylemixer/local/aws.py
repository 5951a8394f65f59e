"""The embedded AWS: moto's server as S3, SQS, DynamoDB, IAM and STS, with the deployed stack's resources.

Names and settings come from :mod:`stylemixer.resources`, the module the CDK app reads too, so the
handlers meet the same bucket, table, queue and dead-letter queue here as in AWS; each function's
role comes from :mod:`stylemixer.permissions` (see :mod:`stylemixer.local.iam`). moto's server
answers CORS for any origin, which lets the browser POST uploads to it directly (in AWS the data
bucket's CORS rules allow the site's origin).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stylemixer.local.context import LOCAL_REGION
from stylemixer.local.moto_iam import EmulatorChangedError
from stylemixer.local.process import child_environment
from stylemixer.resources import (
    DATA_BUCKET,
    DLQ_HANDLER_TIMEOUT_SECONDS,
    DLQ_RETENTION_SECONDS,
    JOBS_DLQ,
    JOBS_QUEUE,
    JOBS_TABLE,
    MAX_RECEIVE_COUNT,
    QUEUED_INDEX,
    QUEUED_INDEX_KEY,
    QUEUED_INDEX_SORT,
    QUOTA_PARTITION_KEY,
    QUOTA_TTL_ATTRIBUTE,
    QUOTAS_TABLE,
    TABLE_PARTITION_KEY,
    TABLE_TTL_ATTRIBUTE,
    VISIBILITY_TIMEOUT_FACTOR,
    WORKER_TIMEOUT_SECONDS,
    queue_retention_seconds,
)

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

#: Placeholder keys: the stack creates its resources with them before IAM is enforced; after that,
#: moto refuses them as it refuses any caller it does not know.
DUMMY_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}


@dataclass(frozen=True, slots=True)
class LocalResources:
    """Where the embedded AWS lives and what was created in it."""

    endpoint_url: str
    bucket: str
    table: str
    queue_url: str
    dlq_url: str
    quota_table: str = QUOTAS_TABLE


def serve_moto_in_thread(host: str = "127.0.0.1") -> ThreadedMotoServer:
    """moto's server on a free port of ``host``, in a thread of this process (see :func:`start_moto`).

    IAM is not enforced until :func:`stylemixer.local.iam.enforce_iam` asks; when it is, it is with
    what :mod:`stylemixer.local.moto_iam` adds to moto.
    """
    from moto.server import ThreadedMotoServer

    from stylemixer.local.moto_iam import extend_moto

    extend_moto()
    server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
    server.start()
    _answer_without_nagle(server)
    return server


class MotoProcess:
    """moto's server in a child process (:mod:`stylemixer.local.moto_child`); stopped by :meth:`stop`.

    The child serves until its standard input closes, so it ends with this process however that ends.
    """

    def __init__(self, host: str = "127.0.0.1", *, timeout: float = 60.0) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "stylemixer.local.moto_child", host],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=child_environment(),
        )
        assert self._process.stdout is not None
        ready: list[str] = []
        reader = threading.Thread(target=lambda: ready.append(self._process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        line = ready[0].strip() if ready else ""
        if line.startswith("error "):
            self.stop()
            raise EmulatorChangedError(message=line.removeprefix("error "))
        if not line.startswith("port "):
            self.stop()
            raise RuntimeError(f"the embedded AWS did not start within {timeout:.0f} s")
        self.host, self.port = host, int(line.split()[1])

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._process.pid

    def poll(self) -> int | None:
        """The child's exit status, or None while it runs."""
        return self._process.poll()

    def get_host_and_port(self) -> tuple[str, int]:
        """Where the child listens (the same shape as moto's ``ThreadedMotoServer``)."""
        return self.host, self.port

    def stop(self) -> None:
        """Close the child's standard input and wait for it to end (killed after 10 s)."""
        if self._process.poll() is None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def start_moto(host: str = "127.0.0.1") -> tuple[MotoProcess, str]:
    """Start moto's server on a free port of ``host``, in a process of its own; returns it and its URL.

    Why a process: moto answers every call in Python (and werkzeug closes each connection, so every
    call also opens one). In the stack's process that work competed for the interpreter lock with
    the API handler and the worker: measured with ``make load``, most of the lock's time went to
    moto, its web server and the clients' connections. In a process of its own, GET /jobs while
    the worker is busy took 9-10 ms typically instead of 14-16, and 100 jobs 11 s instead of 13.

    Example:
        >>> server, endpoint = start_moto()
        >>> endpoint.startswith("http://127.0.0.1:")
        True
        >>> server.stop()
    """
    server = MotoProcess(host)
    bound_host, port = server.get_host_and_port()
    endpoint = f"http://{bound_host}:{port}"
    reset_moto(endpoint)
    return server, endpoint


def _answer_without_nagle(server: ThreadedMotoServer) -> None:
    """Set TCP_NODELAY on moto's connections (werkzeug's handler leaves Nagle on).

    Its answers go out as headers then body; with Nagle on, the body of each answer on a kept-alive
    connection can wait for the client's delayed ACK, a few milliseconds on every S3, DynamoDB and
    SQS call the handlers make (measured here: 8 ms a call before, 4-5 ms after).
    """
    wsgi_server = getattr(server, "_server", None)  # moto keeps its werkzeug server private
    handler = getattr(wsgi_server, "RequestHandlerClass", None)
    if wsgi_server is None or handler is None or getattr(handler, "disable_nagle_algorithm", True):
        return
    wsgi_server.RequestHandlerClass = type(
        "NoDelayRequestHandler", (handler,), {"disable_nagle_algorithm": True}
    )


def reset_moto(endpoint_url: str) -> None:
    """Empty every moto backend, so the embedded AWS starts with nothing in it.

    moto keeps its backends per process, not per server: a server started in a process that already
    ran one (a test session, or moto's in-process mocks) would otherwise find the last one's bucket,
    table and queued messages.
    """
    import urllib.request

    request = urllib.request.Request(f"{endpoint_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def client(service: str, endpoint_url: str) -> Any:
    """A boto3 client for the embedded AWS, whatever the process's own AWS settings are."""
    import boto3

    return boto3.client(service, endpoint_url=endpoint_url, region_name=LOCAL_REGION, **DUMMY_CREDENTIALS)


def create_resources(
    endpoint_url: str,
    *,
    visibility_timeout: int = VISIBILITY_TIMEOUT_FACTOR * WORKER_TIMEOUT_SECONDS,
    max_receive_count: int = MAX_RECEIVE_COUNT,
) -> LocalResources:
    """Create the data bucket, the jobs and quotas tables (with TTL), the dead-letter queue and the
    jobs queue.

    ``visibility_timeout`` defaults to the deployed value (six times the worker's timeout); tests
    of redelivery pass a short one.

    Example:
        >>> server, endpoint = start_moto()
        >>> create_resources(endpoint).queue_url == f"{endpoint}/123456789012/stylemixer-jobs"
        True
        >>> server.stop()
    """
    s3 = client("s3", endpoint_url)
    s3.create_bucket(Bucket=DATA_BUCKET)

    create_tables(client("dynamodb", endpoint_url))

    sqs = client("sqs", endpoint_url)
    dlq_url = sqs.create_queue(
        QueueName=JOBS_DLQ,
        Attributes={
            "MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS),
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT_FACTOR * DLQ_HANDLER_TIMEOUT_SECONDS),
        },
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=JOBS_QUEUE,
        Attributes={
            "MessageRetentionPeriod": str(queue_retention_seconds(max_receive_count, visibility_timeout)),
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
            ),
        },
    )["QueueUrl"]
    return LocalResources(endpoint_url, DATA_BUCKET, JOBS_TABLE, queue_url, dlq_url)


def create_tables(dynamodb: Any) -> None:
    """The jobs table (with its index of queued jobs) and the quotas table, each with its TTL, as the
    CDK stack defines them; for the local stack and the tests' in-process AWS alike.

    Example:
        >>> server, endpoint = start_moto()
        >>> create_tables(client("dynamodb", endpoint))
        >>> sorted(client("dynamodb", endpoint).list_tables()["TableNames"])
        ['stylemixer-jobs', 'stylemixer-quotas']
        >>> server.stop()
    """
    dynamodb.create_table(
        TableName=JOBS_TABLE,
        KeySchema=[{"AttributeName": TABLE_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": TABLE_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": QUEUED_INDEX_KEY, "AttributeType": "S"},
            {"AttributeName": QUEUED_INDEX_SORT, "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": QUEUED_INDEX,
                "KeySchema": [
                    {"AttributeName": QUEUED_INDEX_KEY, "KeyType": "HASH"},
                    {"AttributeName": QUEUED_INDEX_SORT, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.create_table(
        TableName=QUOTAS_TABLE,
        KeySchema=[{"AttributeName": QUOTA_PARTITION_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": QUOTA_PARTITION_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for table, attribute in ((JOBS_TABLE, TABLE_TTL_ATTRIBUTE), (QUOTAS_TABLE, QUOTA_TTL_ATTRIBUTE)):
        dynamodb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
        )
