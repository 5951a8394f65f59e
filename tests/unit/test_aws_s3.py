"""S3 behaviour moto does not reproduce: answers shaped by IAM and by S3's regional endpoints."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from stylemixer.aws.clients import _regional_s3_endpoint
from stylemixer.aws.s3 import S3BlobStore


@pytest.mark.parametrize(("status", "code"), [(404, "404"), (403, "403"), (403, "AccessDenied")])
def test_head_of_a_never_made_upload_is_none_without_list_permission(status: int, code: str) -> None:
    # Given an S3 client whose HEAD answers as S3 does without s3:ListBucket (403) or with it (404)
    client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    store = S3BlobStore(client, "bucket")
    with Stubber(client) as stub:
        stub.add_client_error("head_object", service_error_code=code, http_status_code=status)
        # When the API looks for the upload, Then it is simply not there (a 4xx later, never a 500)
        assert store.head("uploads/content/abc") is None


def test_other_s3_failures_still_raise() -> None:
    client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    store = S3BlobStore(client, "bucket")
    with Stubber(client) as stub:
        stub.add_client_error("head_object", service_error_code="SlowDown", http_status_code=503)
        with pytest.raises(Exception, match="SlowDown"):
            store.head("uploads/content/abc")


def test_links_use_the_regional_endpoint_unless_one_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    assert _regional_s3_endpoint("eu-central-1") == "https://s3.eu-central-1.amazonaws.com"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    assert _regional_s3_endpoint("eu-central-1") is None
