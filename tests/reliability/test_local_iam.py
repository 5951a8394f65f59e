"""The local stack refuses what AWS refuses, and retries a passing failure within two minutes.

The stack runs in a process of its own (:mod:`tests.support.stack_child`), with its real
queue timings (visibility 4,680 s, back-off from 15 s): a job whose worker is refused the write of
its result, the permission then restored as after a passing outage, must start again within two
minutes, where the queue's visibility timeout alone would make it wait 78.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest
import requests
from botocore.exceptions import ClientError

from stylemixer import resources
from stylemixer.local.aws import DUMMY_CREDENTIALS, LocalResources, client
from stylemixer.local.iam import local_arns
from stylemixer.permissions import GRANTS, Function, policy_document
from tests.support import imagefiles as files
from tests.support.stack_child import ChildStack, child_stack

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.slow

#: How long a wait gives what it expects before the test fails: generous for a busy machine.
PATIENCE_SECONDS = 300


def wait_for(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.25)
    pytest.fail(f"{what} did not happen within {seconds:.0f} s")


def submit(stack: ChildStack) -> str:
    api = stack.url + "api"
    data = files.encode(files.quadrants(96, 72), "JPEG")
    ticket = requests.post(
        f"{api}/uploads",
        json={"purpose": "content", "content_type": "image/jpeg", "size": len(data)},
        timeout=10,
    ).json()
    upload = requests.post(
        ticket["url"], data=ticket["fields"], files={"file": ("p", data, "image/jpeg")}, timeout=10
    )
    assert upload.status_code == 204, upload.text
    job = {"content": ticket["upload_id"], "styles": [{"preset": "tapestry"}], "max_size": 64}
    accepted = requests.post(f"{api}/jobs", json=job, timeout=30)
    assert accepted.status_code == 202, accepted.text
    return accepted.json()["job_id"]


def test_a_refused_write_fails_as_in_aws_and_the_job_is_retried_within_two_minutes() -> None:
    # Given the local stack with the worker's role lacking s3:PutObject on results/
    with child_stack({"without": [["Worker", "s3:PutObject", "results"]]}) as stack:
        job_id = submit(stack)
        # When the worker paints the job and S3 refuses its result, as AWS would
        failed_at, line = wait_for(
            lambda: next(((at, text) for at, text in stack.lines if "job will be retried" in text), None),
            PATIENCE_SECONDS,
            "the worker's first attempt",
        )
        assert "AccessDenied" in line, line
        assert "PutObject" in line, line
        assert (stack.job(job_id)["status"]["S"], stack.job(job_id)["attempts"]["N"]) == ("running", "1")
        # And the permission comes back (a passing outage ends)
        sqs = stack.client("sqs")
        local = LocalResources(
            stack.endpoint,
            resources.DATA_BUCKET,
            resources.JOBS_TABLE,
            sqs.get_queue_url(QueueName=resources.JOBS_QUEUE)["QueueUrl"],
            sqs.get_queue_url(QueueName=resources.JOBS_DLQ)["QueueUrl"],
        )
        role = Function.WORKER.local_name
        document = json.dumps(policy_document(GRANTS[Function.WORKER], local_arns(local)))
        stack.client("iam").put_role_policy(
            RoleName=role, PolicyName=f"{role}-policy", PolicyDocument=document
        )
        # Then the next attempt comes after the back-off (at most two minutes), not after the queue's
        # 78-minute visibility timeout, and finishes the job. The wait tells the two apart with room
        # for a busy machine (up to half the visibility timeout); the figure is printed with -s
        visibility = 6 * resources.WORKER_TIMEOUT_SECONDS
        wait_for(lambda: stack.job(job_id)["attempts"]["N"] == "2", visibility / 2, "the retry")
        print(f"retried {time.monotonic() - failed_at:.1f} s after the refused write")
        wait_for(lambda: stack.job(job_id)["status"]["S"] == "succeeded", PATIENCE_SECONDS, "the success")
        queue = sqs.get_queue_attributes(QueueUrl=local.queue_url, AttributeNames=["VisibilityTimeout"])
    assert queue["Attributes"]["VisibilityTimeout"] == str(visibility)


def test_an_unknown_caller_is_refused_by_the_local_stack() -> None:
    with child_stack({}) as stack:
        # The placeholder keys the stack created its resources with, before IAM was enforced
        s3 = client("s3", stack.endpoint)
        with pytest.raises(ClientError, match="InvalidAccessKeyId"):
            s3.list_objects_v2(Bucket=resources.DATA_BUCKET)
        assert DUMMY_CREDENTIALS["aws_access_key_id"] == "local"
        with pytest.raises(ClientError, match="InvalidClientTokenId"):
            client("sqs", stack.endpoint).list_queues()
        # While the API, with its own role, works
        assert requests.get(stack.url + "api/health", timeout=10).status_code == 200
