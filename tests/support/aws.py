"""Test harness: the three handlers called in-process with real event shapes, against moto.

The environment the handlers validate at import is set here, before they are imported; each test
gets fresh resources (same names as the CDK stack and the local stack) inside ``mock_aws``. Each
handler signs with its own role's credentials, the roles having the deployed policies
(:mod:`stylemixer.permissions`), and moto enforces IAM during every test: a call a role may not
make fails here as in AWS. The tests arrange and inspect with an operator allowed everything.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from stylemixer import resources
from tests.support.environment import ACCOUNT, DLQ_URL, HANDLER_ENV, QUEUE_URL, REGION, create_stack_resources

if TYPE_CHECKING:
    from collections.abc import Iterator

EVENTS = Path(__file__).resolve().parent.parent / "events"

_ENV = {
    **HANDLER_ENV,
    "POWERTOOLS_DEV": "false",
    # The harness empties the queues before every test, in-flight messages too (a retry's back-off
    # hides one for seconds), with PurgeQueue; AWS allows one a minute, and so does moto unless told.
    "MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false",
}
# The handlers read these at import (cold start); moto must never reach a real endpoint.
os.environ.update(_ENV)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from moto import mock_aws  # noqa: E402  (after the credentials are faked)
from moto.core.authorization import enable_iam_authentication  # noqa: E402

from functions.api import handler as api  # noqa: E402
from functions.dead_letters import handler as dead_letters  # noqa: E402
from functions.sweeper import handler as sweeper  # noqa: E402
from functions.worker import handler as worker  # noqa: E402
from stylemixer.aws.dynamodb import DynamoJobRepository  # noqa: E402
from stylemixer.aws.s3 import S3BlobStore  # noqa: E402
from stylemixer.local.context import LambdaContext  # noqa: E402
from stylemixer.local.iam import Credentials, create_operator, create_roles  # noqa: E402
from stylemixer.local.moto_iam import extend_moto  # noqa: E402
from stylemixer.permissions import (  # noqa: E402
    GRANTS,
    Function,
    Grant,
    Target,
    index_arn,
    object_arns,
    policy_document,
)

extend_moto()

#: The handler module of each function (each keeps its own adapters, signed with its own role).
HANDLERS = {
    Function.API: api,
    Function.WORKER: worker,
    Function.DEAD_LETTERS: dead_letters,
    Function.SWEEPER: sweeper,
}
_TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{resources.JOBS_TABLE}"
#: The ARNs of the harness's resources, as the CDK app would resolve them.
ARNS = {
    **object_arns(f"arn:aws:s3:::{resources.DATA_BUCKET}"),
    Target.JOBS_TABLE: _TABLE_ARN,
    Target.QUEUED_INDEX: index_arn(_TABLE_ARN, resources.QUEUED_INDEX),
    Target.QUOTAS_TABLE: f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{resources.QUOTAS_TABLE}",
    Target.JOBS_QUEUE: f"arn:aws:sqs:{REGION}:{ACCOUNT}:{resources.JOBS_QUEUE}",
    Target.DEAD_LETTER_QUEUE: f"arn:aws:sqs:{REGION}:{ACCOUNT}:{resources.JOBS_DLQ}",
}


def lambda_context(function: Function = Function.WORKER) -> LambdaContext:
    """Lambda's context for one call of ``function``: the package's stand-in, sized as deployed."""
    memory, timeout = _DEPLOYED[function]
    return LambdaContext(function.local_name, memory_limit_in_mb=memory, timeout_seconds=timeout)


_DEPLOYED = {
    Function.API: (resources.API_MEMORY_MB, resources.API_TIMEOUT_SECONDS),
    Function.WORKER: (resources.WORKER_MEMORY_MB, resources.WORKER_TIMEOUT_SECONDS),
    Function.DEAD_LETTERS: (LambdaContext.memory_limit_in_mb, resources.DLQ_HANDLER_TIMEOUT_SECONDS),
    Function.SWEEPER: (LambdaContext.memory_limit_in_mb, resources.SWEEPER_TIMEOUT_SECONDS),
}


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Stack:
    """Clients on the mocked resources, for arranging and inspecting (as the operator)."""

    s3: Any
    dynamodb: Any
    sqs: Any
    iam: Any
    roles: dict[Function, Credentials]
    operator: Credentials
    changed: set[Function] = field(default_factory=set)

    def store(self) -> S3BlobStore:
        """The bucket's adapter, with the operator's rights (for tests of the adapter itself)."""
        return S3BlobStore(self.s3, resources.DATA_BUCKET)

    def repo(self) -> DynamoJobRepository:
        """The table's adapter, with the operator's rights (for tests of the adapter itself)."""
        return DynamoJobRepository(self.dynamodb, resources.JOBS_TABLE)

    def set_grants(self, function: Function, grants: tuple[Grant, ...]) -> None:
        """Replace a function's role policy (tests of a missing permission; the fixture restores it)."""
        name = function.local_name
        document = json.dumps(policy_document(grants, ARNS))
        self.iam.put_role_policy(RoleName=name, PolicyName=f"{name}-policy", PolicyDocument=document)
        self.changed.add(function)

    def put_upload(self, purpose: str, upload_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        key = f"{resources.UPLOADS_PREFIX}{purpose}/{upload_id}"
        self.s3.put_object(Bucket=resources.DATA_BUCKET, Key=key, Body=data, ContentType=content_type)

    def keys(self, prefix: str = "") -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=resources.DATA_BUCKET, Prefix=prefix)
        return sorted(o["Key"] for o in listing.get("Contents", []))

    def job_item(self, job_id: str) -> dict[str, Any] | None:
        return self.dynamodb.get_item(
            TableName=resources.JOBS_TABLE, Key={resources.TABLE_PARTITION_KEY: {"S": job_id}}
        ).get("Item")

    def receive(self, queue_url: str = QUEUE_URL, wait: int = 0) -> list[dict[str, Any]]:
        """Messages as SQS hands them to Lambda (made visible again at once, like an expired timeout)."""
        messages = self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            VisibilityTimeout=0,
            WaitTimeSeconds=wait,
        ).get("Messages", [])
        return messages


def pytest_configure(config: pytest.Config) -> None:
    """The API's requests that emit no metric make Powertools warn (``functions/observability.py``
    silences it in the functions; pytest resets the warning filters around each test), so every test
    of the harness ignores that warning."""
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish:UserWarning")


@pytest.fixture(scope="session")
def aws_session() -> Any:
    """moto with the stack's resources and the functions' roles, created once for the session."""
    with mock_aws():
        import boto3

        create_stack_resources()
        iam = boto3.client("iam", region_name=REGION)
        roles = create_roles(iam, boto3.client("sts", region_name=REGION), ARNS)
        operator = create_operator(iam)
        for function, module in HANDLERS.items():
            module.adapters.sign_with(roles[function].session(REGION))
        yield Stack(
            s3=operator.client("s3", region=REGION),
            dynamodb=operator.client("dynamodb", region=REGION),
            sqs=operator.client("sqs", region=REGION),
            iam=operator.client("iam", region=REGION),
            roles=roles,
            operator=operator,
        )
        for module in HANDLERS.values():
            module.adapters.sign_with(None)


@pytest.fixture
def aws(aws_session: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The session's resources, emptied (no jobs, no messages, no objects), with IAM enforced."""
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", raising=False)
    stack = aws_session
    for item in stack.dynamodb.scan(TableName=resources.JOBS_TABLE, ProjectionExpression="job_id")["Items"]:
        stack.dynamodb.delete_item(TableName=resources.JOBS_TABLE, Key=item)
    # No client has used any of its limits yet, and the API reads the (emptied) queue afresh.
    for item in stack.dynamodb.scan(TableName=resources.QUOTAS_TABLE, ProjectionExpression="pk")["Items"]:
        stack.dynamodb.delete_item(TableName=resources.QUOTAS_TABLE, Key=item)
    api.gauge.forget()
    for url in (QUEUE_URL, DLQ_URL):  # in-flight messages too (a retry's back-off hides one for seconds)
        stack.sqs.purge_queue(QueueUrl=url)  # (AWS allows one a minute: see _ENV)
    keys = stack.keys()
    if keys:
        stack.s3.delete_objects(
            Bucket=resources.DATA_BUCKET, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
        )
    with enable_iam_authentication():
        yield stack
    for function in list(stack.changed):  # a test took a permission away: give it back
        stack.set_grants(function, GRANTS[function])
    stack.changed.clear()


def api_event(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """The recorded API Gateway HTTP API (v2) event, re-aimed at ``method path``."""
    event = copy.deepcopy(json.loads((EVENTS / "apigw_http_v2.json").read_text()))
    event["rawPath"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["routeKey"] = "$default"
    if headers is not None:
        event["headers"].update({k.lower(): v for k, v in headers.items()})
    if raw_body is not None:
        event["body"] = raw_body
    elif body is not None:
        event["body"] = json.dumps(body)
    else:
        event.pop("body", None)
    event["headers"]["content-length"] = str(len(event.get("body") or ""))
    return event


def call_api(method: str, path: str, body: Any = None, **request: Any) -> ApiResponse:
    """Call the API handler in-process and decode its answer (``request``: :func:`api_event`'s
    ``headers`` and ``raw_body``)."""
    return invoke_api(api_event(method, path, body, **request))


def as_owner(accepted: ApiResponse) -> dict[str, str]:
    """The header that proves ownership of the job ``POST /jobs`` answered ``accepted`` for."""
    return {"Authorization": f"Bearer {accepted.body['owner_token']}"}


def invoke_api(event: dict[str, Any]) -> ApiResponse:
    """The API handler on ``event`` (an API Gateway HTTP API event), its answer decoded."""
    response = api.handler(event, lambda_context(Function.API))
    text = response.get("body") or ""
    if response.get("isBase64Encoded"):
        text = base64.b64decode(text).decode()
    headers_out = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    try:
        decoded = json.loads(text) if text else None
    except ValueError:
        decoded = text
    return ApiResponse(status=response["statusCode"], body=decoded, headers=headers_out)


def sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """An SQS event as Lambda's event source mapping builds it from received messages."""
    template = json.loads((EVENTS / "sqs_job.json").read_text())["Records"][0]
    records = []
    for message in messages:
        record = copy.deepcopy(template)
        record["messageId"] = message["MessageId"]
        record["receiptHandle"] = message["ReceiptHandle"]
        record["body"] = message["Body"]
        record["md5OfBody"] = message["MD5OfBody"]
        record["attributes"].update(message.get("Attributes", {}))
        records.append(record)
    return {"Records": records}


def on_receive(message: dict[str, Any], count: int) -> dict[str, Any]:
    """``message`` as SQS hands it over on its ``count``-th receive."""
    return dict(message, Attributes={**message["Attributes"], "ApproximateReceiveCount": str(count)})


def run_worker(messages: list[dict[str, Any]], context: LambdaContext | None = None) -> dict[str, Any]:
    """The worker handler on ``messages`` (received from the jobs queue), as Lambda would call it."""
    return worker.handler(sqs_event(messages), context or lambda_context(Function.WORKER))


def run_dead_letters(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The dead-letter handler on ``messages`` (received from the dead-letter queue)."""
    return dead_letters.handler(sqs_event(messages), lambda_context(Function.DEAD_LETTERS))


def raw_sqs_event(body: str, receive_count: int = 1, message_id: str = "m-1") -> dict[str, Any]:
    """The recorded SQS event with its body and receive count replaced."""
    event = json.loads((EVENTS / "sqs_job.json").read_text())
    record = event["Records"][0]
    record["body"] = body
    record["messageId"] = message_id
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return event


def upload_through_presigned_post(
    data: bytes, purpose: str = "content", content_type: str = "image/jpeg"
) -> str:
    """What the page does: ask the API for a presigned POST, then POST the file straight to S3."""
    import requests

    ticket = call_api(
        "POST", "/uploads", {"purpose": purpose, "content_type": content_type, "size": len(data)}
    )
    assert ticket.status == 201, ticket.body
    response = requests.post(
        ticket.body["url"],
        data=ticket.body["fields"],
        files={"file": ("picture", data, content_type)},
        timeout=30,
    )
    assert response.status_code in (200, 201, 204), response.text
    return ticket.body["upload_id"]


class FakeEngine:
    """Stands in for the torch engine where the test is about the plumbing, not the painting.

    It inverts the photo (so the result is visibly derived from the input), honours ``max_size``
    and reports progress the way the real engine does, many small steps.
    """

    def __init__(self, error: Exception | None = None, steps: int = 50, step_seconds: float = 0.0) -> None:
        self.calls = 0
        self.maps: list[Any] = []
        self.error = error
        self.steps = steps
        self.step_seconds = step_seconds

    def stylize(self, content: Any, styles: Any, options: Any = None, progress: Any = None) -> Any:
        from PIL import ImageOps

        from stylemixer.images import fit_within
        from stylemixer.styles import StylizeResult

        self.calls += 1
        if self.error is not None:
            raise self.error
        for step in range(self.steps + 1):
            if progress is not None:
                progress("stylize", step / self.steps)
            if self.step_seconds and step < self.steps:
                time.sleep(self.step_seconds)
        photo = fit_within(content, options.max_size if options else None)
        return StylizeResult(image=ImageOps.invert(photo.convert("RGB")))

    def paint_regions(
        self, content: Any, styles: Any, weights: Any, options: Any = None, progress: Any = None
    ) -> Any:
        """As :meth:`stylize`, keeping the map it was given (``maps``) and giving it back as the result's."""
        from PIL import Image

        from stylemixer.regionmap import with_palette

        self.maps.append(weights)
        result = self.stylize(content, styles, options, progress)
        result.regions = with_palette(
            Image.fromarray(weights).resize(result.image.size, Image.Resampling.NEAREST)
        )
        return result

    def paint_clip(
        self,
        source: Any,
        target: Any,
        styles: Any,
        options: Any = None,
        *,
        progress: Any = None,
        header: Any = None,
    ) -> Any:
        """A clip's frames inverted, through the real decoder and encoder, progress per frame."""
        from stylemixer.clips.header import check_clip, fitted_size, read_clip_file
        from stylemixer.clips.stream import ClipReader, ClipWriter
        from stylemixer.neural.clip import ClipResult

        self.calls += 1
        if self.error is not None:
            raise self.error
        header = header or read_clip_file(source)[0]
        check_clip(header, options)
        size = fitted_size(header.display_size, options.max_size if options else None)
        with ClipReader(source, header) as reader, ClipWriter(target, size, reader) as writer:
            for frame in reader.frames(audio=writer):
                writer.write(255 - frame.rgb[: size[1], : size[0]], frame.pts)
                if progress is not None:
                    progress("stylize", writer.frames / header.painted_frames)
        return ClipResult(*writer.size, writer.frames, header.duration, 0, reader.audio is not None)


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    engine = FakeEngine()
    monkeypatch.setattr(worker, "engine_provider", lambda: engine)
    return engine


def stored_jobs(aws: Stack) -> list[dict[str, Any]]:
    """Every job item in the table."""
    return aws.dynamodb.scan(TableName=resources.JOBS_TABLE)["Items"]


def assert_outcome(aws: Stack, response: ApiResponse, expected: str) -> None:
    """Assert one expected outcome of a submitted job, running the worker when the API accepted it.

    ``expected`` is ``"api:<status>:<code>"`` (refused before queueing: nothing queued or stored),
    ``"failed:<code>"`` (the worker fails it with a reason, no result left) or ``"succeeded"``.
    """
    assert response.status < 500, response.body
    kind, _, detail = expected.partition(":")
    if kind == "api":
        status, code = detail.split(":")
        assert (response.status, response.body["error"]["code"]) == (int(status), code), response.body
        assert len(response.body["error"]["message"]) > 15
        assert aws.receive() == [], "a refused request must not queue anything"
        if response.status != 404 or code == "NotFound":
            assert stored_jobs(aws) == [], "a refused request must not store a job"
        return
    assert response.status == 202, response.body
    job_id = response.body["job_id"]
    outcome = run_worker(aws.receive())
    assert outcome == {"batchItemFailures": []}, "the worker must not crash or ask for a retry"
    job = call_api("GET", f"/jobs/{job_id}").body
    assert job["status"] == kind, job
    if kind == "failed":
        assert job["error"]["code"] == detail, job["error"]
        assert len(job["error"]["message"]) > 15
        assert aws.keys("results/") == []
    else:
        regions = [f"results/{job_id}.regions.png"] if job["result"].get("regions_url") else []
        written = [f"results/{job_id}.jpg", *regions, f"results/{job_id}.thumb.jpg"]
        assert sorted(aws.keys("results/")) == sorted(written)
