"""The process environment the handlers read, pointed at the embedded AWS.

It is set before the handlers are imported, because they validate their configuration and build
their AWS clients once, at import (their cold start), exactly as in Lambda.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from stylemixer.admission import Capacity, ClientLimits
from stylemixer.admission.environment import admission_environment
from stylemixer.local.aws import DUMMY_CREDENTIALS
from stylemixer.local.context import LOCAL_REGION
from stylemixer.resources import (
    ENV_ALLOWED_ORIGINS,
    ENV_BUCKET,
    ENV_MAX_RECEIVE_COUNT,
    ENV_QUEUE_RETENTION_SECONDS,
    ENV_QUEUE_URL,
    ENV_QUOTA_TABLE,
    ENV_STAGE,
    ENV_TABLE,
    MAX_RECEIVE_COUNT,
    METRICS_NAMESPACE,
    SERVICE_NAME,
    VISIBILITY_TIMEOUT_FACTOR,
    WORKER_TIMEOUT_SECONDS,
    queue_retention_seconds,
)

if TYPE_CHECKING:
    from collections.abc import MutableMapping

    from stylemixer.local.aws import LocalResources

#: The local stack's workers: one poller feeds the worker one job at a time.
LOCAL_WORKERS = 1

#: Variables that could send a call to a real AWS account instead of the embedded one.
_CLEARED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_DYNAMODB",
)

#: Powertools settings a developer may override from the shell (e.g. POWERTOOLS_LOG_LEVEL=DEBUG).
#: The stage the local stack's metrics would carry (they are off here, as Powertools' default says).
LOCAL_STAGE = "local"

_DEFAULTS = {
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


def handler_environment(
    resources: LocalResources,
    site_url: str,
    max_receive_count: int = MAX_RECEIVE_COUNT,
    *,
    limits: ClientLimits | None = None,
    capacity: Capacity | None = None,
    visibility_timeout: int = VISIBILITY_TIMEOUT_FACTOR * WORKER_TIMEOUT_SECONDS,
) -> dict[str, str]:
    """The variables the deployed stack gives its functions, with local values.

    The limits per client are the deployed defaults (:mod:`stylemixer.limits`) unless ``limits``
    says otherwise; admission control counts one worker (the local stack's one poller) at the
    deployed rate, unless ``capacity`` says otherwise.

    The site's URL is left unset: preset thumbnails then come back root-relative (``/presets/…``),
    which is right whichever name (127.0.0.1, localhost, a LAN address) the page was opened with.
    The credentials are placeholders moto refuses once it enforces IAM: each function signs with
    its own role's credentials instead (see :func:`stylemixer.local.stack.load_function`).
    ``max_receive_count`` must be the one the jobs queue was created with (the worker's copy of it).

    Example:
        >>> from stylemixer.local.aws import create_resources, start_moto
        >>> server, endpoint = start_moto()
        >>> handler_environment(create_resources(endpoint), "http://127.0.0.1:8000/")["STYLEMIXER_BUCKET"]
        'stylemixer-data'
        >>> server.stop()
    """
    origin = site_url.rstrip("/")
    admission = admission_environment(limits or ClientLimits(), capacity or Capacity(workers=LOCAL_WORKERS))
    return {
        "AWS_ENDPOINT_URL": resources.endpoint_url,
        "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        ENV_BUCKET: resources.bucket,
        ENV_TABLE: resources.table,
        ENV_QUEUE_URL: resources.queue_url,
        ENV_ALLOWED_ORIGINS: origin,
        ENV_STAGE: LOCAL_STAGE,
        ENV_MAX_RECEIVE_COUNT: str(max_receive_count),
        ENV_QUOTA_TABLE: resources.quota_table,
        **admission,
        ENV_QUEUE_RETENTION_SECONDS: str(queue_retention_seconds(max_receive_count, visibility_timeout)),
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    }


def apply_environment(values: dict[str, str], environ: MutableMapping[str, str] | None = None) -> None:
    """Set ``values`` (overriding), clear what could reach a real account, and fill Powertools defaults."""
    env = os.environ if environ is None else environ
    for name in _CLEARED:
        env.pop(name, None)
    env.update(values)
    for name, value in _DEFAULTS.items():
        env.setdefault(name, value)
