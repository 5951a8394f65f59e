"""The handlers' environment as the tests give it, and fresh interpreters to run code in.

Importing this module changes nothing: :mod:`tests.support.aws` applies :data:`HANDLER_ENV` to the
test process (for the handlers called in-process), the tests of cold starts pass it to a child.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from stylemixer import resources
from tests.support.paths import ROOT

if TYPE_CHECKING:
    from collections.abc import Mapping

REGION = "eu-west-1"
ACCOUNT = "123456789012"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{resources.JOBS_QUEUE}"
DLQ_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{resources.JOBS_DLQ}"
SITE_ORIGIN = "https://d111111abcdef8.cloudfront.net"
#: How long a test waits for `stylemixer serve`'s ready line: generous, for a busy machine (alone it
#: is up in a few seconds; `python -m bench.load` reports the figure, ``serve_startup_seconds``).
STARTUP_PATIENCE_SECONDS = 120.0

#: What the CDK stack sets on the functions, with test values, and placeholder AWS credentials.
HANDLER_ENV = {
    resources.ENV_STAGE: "test",
    resources.ENV_MAX_RECEIVE_COUNT: str(resources.MAX_RECEIVE_COUNT),
    resources.ENV_BUCKET: resources.DATA_BUCKET,
    resources.ENV_TABLE: resources.JOBS_TABLE,
    resources.ENV_QUEUE_URL: QUEUE_URL,
    resources.ENV_ALLOWED_ORIGINS: SITE_ORIGIN,
    resources.ENV_QUOTA_TABLE: resources.QUOTAS_TABLE,
    # Five workers at the deployed default rate: the queue takes 100 waiting jobs before "busy".
    resources.ENV_WORKERS: "5",
    resources.ENV_QUEUE_RETENTION_SECONDS: str(4 * 24 * 3600),
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def run_python(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 300, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """``python *args`` in a fresh interpreter at the project's root, its output captured as text.

    ``env`` defaults to this process's; either way the checkout (its ``stylemixer``, ``functions``
    and ``tests``) comes first on the child's path.

    Example:
        >>> run_python("-c", "import stylemixer; print('ok')").stdout
        'ok\\n'
    """
    child = {**(os.environ if env is None else env), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=child,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def create_stack_resources() -> None:
    """The stack's bucket, jobs and quotas tables, jobs queue and dead-letter queue (its redrive
    policy included), in moto's in-process AWS: call it inside ``moto.mock_aws()``, with
    :data:`HANDLER_ENV` applied."""
    import boto3

    from stylemixer.local.aws import create_tables

    boto3.client("s3").create_bucket(
        Bucket=resources.DATA_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    create_tables(boto3.client("dynamodb"))
    sqs = boto3.client("sqs")
    sqs.create_queue(QueueName=resources.JOBS_DLQ)
    redrive = {
        "deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{resources.JOBS_DLQ}",
        "maxReceiveCount": resources.MAX_RECEIVE_COUNT,
    }
    sqs.create_queue(QueueName=resources.JOBS_QUEUE, Attributes={"RedrivePolicy": json.dumps(redrive)})
