"""The IAM action of each S3 request the local IAM check sees, named as AWS documents it.

"Actions, resources, and condition keys for Amazon S3": a HEAD of an object needs s3:GetObject,
listing a bucket or a HEAD of it s3:ListBucket, a browser's form upload s3:PutObject, a
multi-object delete s3:DeleteObject on each key. moto's own names (HeadObject, PostObject, ...)
are not IAM's and must never reach a policy.
"""

from __future__ import annotations

import pytest

from stylemixer.local.s3_actions import s3_action

CASES = [
    # (method, query names, names an object, names a bucket) -> IAM action
    ("GET", {}, True, True, "s3:GetObject"),
    ("HEAD", {}, True, True, "s3:GetObject"),
    ("GET", {"versionId"}, True, True, "s3:GetObjectVersion"),
    ("GET", {"tagging"}, True, True, "s3:GetObjectTagging"),
    ("PUT", {}, True, True, "s3:PutObject"),
    ("PUT", {"partNumber", "uploadId"}, True, True, "s3:PutObject"),
    ("POST", {"uploads"}, True, True, "s3:PutObject"),
    ("DELETE", {}, True, True, "s3:DeleteObject"),
    ("DELETE", {"uploadId"}, True, True, "s3:AbortMultipartUpload"),
    ("GET", {"list-type", "prefix"}, False, True, "s3:ListBucket"),
    ("HEAD", {}, False, True, "s3:ListBucket"),
    ("GET", {"location"}, False, True, "s3:GetBucketLocation"),
    ("PUT", {}, False, True, "s3:CreateBucket"),
    ("PUT", {"cors"}, False, True, "s3:PutBucketCORS"),
    ("POST", {}, False, True, "s3:PutObject"),
    ("POST", {"delete"}, False, True, "s3:DeleteObject"),
    ("GET", {}, False, False, "s3:ListAllMyBuckets"),
]


@pytest.mark.parametrize(("method", "query", "has_key", "has_bucket", "expected"), CASES)
def test_each_request_is_named_with_awss_iam_action(
    method: str, query: set[str], has_key: bool, has_bucket: bool, expected: str
) -> None:
    assert s3_action(method, query, has_key=has_key, has_bucket=has_bucket) == expected


def test_an_operation_name_of_moto_is_never_an_action() -> None:
    # Given every request shape above
    # Then no action is one of moto's operation names, which no IAM policy grants
    names = {s3_action(m, q, has_key=k, has_bucket=b) for m, q, k, b, _ in CASES}
    assert not names & {"s3:HeadObject", "s3:HeadBucket", "s3:PostObject", "s3:ListObjectsV2"}
