"""IAM as AWS enforces it, in the harness: each handler signs with its own role, moto checks every call.

The roles carry the deployed policies (:mod:`stylemixer.permissions`); a test that takes one
permission away sees the call refused exactly where AWS would refuse it, presigned links included.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from functions.api import handler as api
from functions.dead_letters import handler as dead_letters
from functions.worker import handler as worker
from stylemixer import resources
from stylemixer.jobs.model import new_id
from stylemixer.permissions import GRANTS, Function, Grant, Target
from tests.support import imagefiles as files
from tests.support.aws import (
    FakeEngine,
    Stack,
    call_api,
    run_worker,
    upload_through_presigned_post,
)
from tests.support.environment import QUEUE_URL, REGION


def _without(function: Function, action: str, target: Target) -> tuple[Grant, ...]:
    """The function's grants with one action on one target taken away."""
    kept = []
    for grant in GRANTS[function]:
        actions = tuple(a for a in grant.actions if not (a == action and grant.target is target))
        if actions:
            kept.append(Grant(actions, grant.target, grant.why))
    return tuple(kept)


def _picture() -> bytes:
    return files.encode(files.quadrants(96, 72), "JPEG")


def _refused(call: Any) -> str:
    """The error code AWS answers a refused call with (moto's DynamoDB and SQS answer in XML: 403)."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    text = f"{error.get('Code')} {error.get('Message', '')} {caught.value}"
    assert "AccessDenied" in text or "not authorized" in text, text
    return text


def test_each_function_signs_with_its_own_roles_credentials(aws: Stack) -> None:
    for module, function in (
        (api, Function.API),
        (worker, Function.WORKER),
        (dead_letters, Function.DEAD_LETTERS),
    ):
        credentials = module.adapters().repo._db._request_signer._credentials
        assert credentials.access_key == aws.roles[function].access_key_id


def test_a_role_is_refused_what_another_role_may_do(aws: Stack) -> None:
    # Given the worker's own clients
    deps = worker.adapters()
    # Then it may not enqueue a job, create one, or read a result (all the API's to do)
    _refused(lambda: deps.queue._sqs.send_message(QueueUrl=QUEUE_URL, MessageBody="{}"))
    _refused(lambda: deps.repo._db.put_item(TableName=resources.JOBS_TABLE, Item={"job_id": {"S": new_id()}}))
    _refused(lambda: deps.store._s3.get_object(Bucket=resources.DATA_BUCKET, Key=f"results/{new_id()}.jpg"))
    # And the dead-letter consumer may not write a result
    store = dead_letters.adapters().store
    _refused(lambda: store.write(f"results/{new_id()}.jpg", b"x", "image/jpeg"))


def test_an_unknown_caller_is_refused(aws: Stack) -> None:
    # Given credentials no IAM user or role of the embedded AWS has
    stranger = boto3.session.Session(
        aws_access_key_id="AKIAEXAMPLESTRANGER", aws_secret_access_key="not-a-secret", region_name=REGION
    )
    # Then every service refuses them before looking at the request
    with pytest.raises(ClientError, match="InvalidAccessKeyId"):
        stranger.client("s3").list_objects_v2(Bucket=resources.DATA_BUCKET)
    with pytest.raises(ClientError, match="InvalidClientTokenId"):
        stranger.client("dynamodb").get_item(TableName=resources.JOBS_TABLE, Key={"job_id": {"S": new_id()}})
    with pytest.raises(ClientError, match="InvalidClientTokenId"):
        stranger.client("sqs").send_message(QueueUrl=QUEUE_URL, MessageBody="{}")


def test_without_update_item_the_api_leaves_a_refused_job_queued_as_aws_would(
    aws: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the API's role as it was deployed before: no dynamodb:UpdateItem
    aws.set_grants(Function.API, _without(Function.API, "dynamodb:UpdateItem", Target.JOBS_TABLE))
    deps = api.adapters()

    def unreachable(_job_id: str) -> None:
        raise ConnectionError("sqs unreachable")

    monkeypatch.setattr(deps.queue, "send", unreachable)
    upload_id = upload_through_presigned_post(_picture())
    # When the queue refuses a job
    response = call_api("POST", "/jobs", {"content": upload_id, "styles": [{"preset": "tapestry"}]})
    # Then the caller gets our 500, and the job stays "queued" for ever: the fail was refused
    assert (response.status, response.body["error"]["code"]) == (500, "InternalError")
    (item,) = aws.dynamodb.scan(TableName=resources.JOBS_TABLE)["Items"]
    assert item["status"]["S"] == "queued"
    # And with the deployed grants (UpdateItem included) the same failure leaves it failed
    aws.set_grants(Function.API, GRANTS[Function.API])
    response = call_api("POST", "/jobs", {"content": upload_id, "styles": [{"preset": "tapestry"}]})
    statuses = sorted(i["status"]["S"] for i in aws.dynamodb.scan(TableName=resources.JOBS_TABLE)["Items"])
    assert statuses == ["failed", "queued"]


def test_a_result_link_carries_its_signers_permission(aws: Stack, fake_engine: FakeEngine) -> None:
    # Given a finished job
    upload_id = upload_through_presigned_post(_picture())
    job_id = call_api("POST", "/jobs", {"content": upload_id, "styles": [{"preset": "tapestry"}]}).body[
        "job_id"
    ]
    assert run_worker(aws.receive()) == {"batchItemFailures": []}
    # When the API signs its result link with the deployed role, the link works
    url = call_api("GET", f"/jobs/{job_id}").body["result"]["url"]
    assert requests.get(url, timeout=10).status_code == 200
    # And a link to another key, or one altered by hand, is refused by S3
    assert requests.get(url.replace(job_id, new_id()), timeout=10).status_code == 403
    # When the API's role may no longer read results, the links it signs are refused
    aws.set_grants(Function.API, _without(Function.API, "s3:GetObject", Target.RESULTS))
    url = call_api("GET", f"/jobs/{job_id}").body["result"]["url"]
    response = requests.get(url, timeout=10)
    assert response.status_code == 403
    assert "AccessDenied" in response.text


def test_an_upload_needs_the_signers_put_object_on_uploads(aws: Stack) -> None:
    # Given the API's role without s3:PutObject on uploads/
    aws.set_grants(Function.API, _without(Function.API, "s3:PutObject", Target.UPLOADS))
    data = _picture()
    ticket = call_api(
        "POST", "/uploads", {"purpose": "content", "content_type": "image/jpeg", "size": len(data)}
    )
    # When the browser posts the file with the form the API signed
    response = requests.post(
        ticket.body["url"], data=ticket.body["fields"], files={"file": ("p", data, "image/jpeg")}, timeout=10
    )
    # Then S3 refuses it, as AWS does (the signature is fine; the signer may not write there)
    assert response.status_code == 403
    assert "AccessDenied" in response.text
    assert aws.keys("uploads/") == []


def test_an_expired_or_forged_upload_form_is_refused(aws: Stack) -> None:
    data = _picture()
    ticket = call_api(
        "POST", "/uploads", {"purpose": "content", "content_type": "image/jpeg", "size": len(data)}
    )
    fields = dict(ticket.body["fields"])
    forged = {**fields, "x-amz-signature": "0" * 64}
    response = requests.post(
        ticket.body["url"], data=forged, files={"file": ("p", data, "image/jpeg")}, timeout=10
    )
    assert response.status_code == 403
    assert "SignatureDoesNotMatch" in response.text
    # And with no signature at all, the bucket is private
    anonymous = {"key": fields["key"], "Content-Type": "image/jpeg"}
    response = requests.post(
        ticket.body["url"], data=anonymous, files={"file": ("p", data, "image/jpeg")}, timeout=10
    )
    assert response.status_code == 403
    assert aws.keys("uploads/") == []


def test_an_expired_link_is_refused(aws: Stack) -> None:
    # Given links signed (SigV4, as the API signs, by the operator): one good for an hour, which
    # works, and one good for one second (two links, so a slow machine cannot race the first use)
    aws.s3.put_object(Bucket=resources.DATA_BUCKET, Key="results/x.jpg", Body=b"x")
    signer = aws.operator.session(REGION).client("s3", config=Config(signature_version="s3v4"))
    params = {"Bucket": resources.DATA_BUCKET, "Key": "results/x.jpg"}
    good = signer.generate_presigned_url("get_object", Params=params, ExpiresIn=3600)
    short = signer.generate_presigned_url("get_object", Params=params, ExpiresIn=1)
    assert requests.get(good, timeout=10).status_code == 200
    # When the short one is used after its second
    time.sleep(1.5)
    response = requests.get(short, timeout=10)
    # Then S3 refuses it as AWS does
    assert response.status_code == 403
    assert "Request has expired" in response.text


def test_a_browsers_cors_preflight_to_the_bucket_needs_no_signature(aws: Stack) -> None:
    # A page's upload with a progress bar (XHR upload events) is preceded by an unsigned OPTIONS
    response = requests.options(
        f"https://{resources.DATA_BUCKET}.s3.amazonaws.com/",
        headers={"Origin": "https://d111111abcdef8.cloudfront.net", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert response.status_code == 200
