"""The IAM action AWS checks for an S3 request, named from the request itself (method, key, query).

moto names the action from its own routing, and that naming is not IAM's: before 5.2.6 it was the
IAM action for most calls, from 5.2.6 it is the API operation (``HeadObject``, ``ListObjectsV2``,
``PostObject``), which no IAM policy grants. AWS's own rules are stable and documented
("Actions, resources, and condition keys for Amazon S3"): a HEAD or GET of an object is
``s3:GetObject``, listing or HEAD of a bucket ``s3:ListBucket``, a form upload, a multipart part or a
copy ``s3:PutObject``, and so on. So the local IAM check names the action here, and moto's
naming does not matter (:mod:`stylemixer.local.moto_iam`).

Sub-resources this service never uses fall back to the operation's plain action (a GET of an object
is ``s3:GetObject`` whatever it asks for): a role here is granted only object reads and writes, so
a fallback can only be refused, never allowed by mistake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Container

#: Object-level actions per method: the first sub-resource named in the query decides, else the default.
_OBJECT: dict[str, tuple[tuple[tuple[str, str], ...], str]] = {
    "GET": (
        (
            ("tagging", "GetObjectTagging"),
            ("acl", "GetObjectAcl"),
            ("uploadId", "ListMultipartUploadParts"),
            ("attributes", "GetObjectAttributes"),
            ("versionId", "GetObjectVersion"),
        ),
        "GetObject",
    ),
    "HEAD": ((("versionId", "GetObjectVersion"),), "GetObject"),
    "PUT": (
        (
            ("tagging", "PutObjectTagging"),
            ("acl", "PutObjectAcl"),
            ("retention", "PutObjectRetention"),
            ("legal-hold", "PutObjectLegalHold"),
        ),
        "PutObject",  # a plain PUT, a copy, and a multipart upload's part
    ),
    "DELETE": (
        (
            ("uploadId", "AbortMultipartUpload"),
            ("tagging", "DeleteObjectTagging"),
            ("versionId", "DeleteObjectVersion"),
        ),
        "DeleteObject",
    ),
    "POST": (
        (("restore", "RestoreObject"), ("select", "GetObject")),
        "PutObject",  # starting or completing a multipart upload
    ),
}
#: Bucket-level actions per method, likewise.
_BUCKET: dict[str, tuple[tuple[tuple[str, str], ...], str]] = {
    "GET": (
        (
            ("location", "GetBucketLocation"),
            ("versions", "ListBucketVersions"),
            ("uploads", "ListBucketMultipartUploads"),
            ("cors", "GetBucketCORS"),
            ("policy", "GetBucketPolicy"),
            ("lifecycle", "GetLifecycleConfiguration"),
            ("versioning", "GetBucketVersioning"),
            ("tagging", "GetBucketTagging"),
            ("acl", "GetBucketAcl"),
            ("website", "GetBucketWebsite"),
            ("notification", "GetBucketNotification"),
            ("encryption", "GetEncryptionConfiguration"),
            ("publicAccessBlock", "GetBucketPublicAccessBlock"),
        ),
        "ListBucket",  # ListObjects and ListObjectsV2
    ),
    "HEAD": ((), "ListBucket"),
    "PUT": (
        (
            ("cors", "PutBucketCORS"),
            ("policy", "PutBucketPolicy"),
            ("lifecycle", "PutLifecycleConfiguration"),
            ("versioning", "PutBucketVersioning"),
            ("tagging", "PutBucketTagging"),
            ("acl", "PutBucketAcl"),
            ("website", "PutBucketWebsite"),
            ("notification", "PutBucketNotification"),
            ("encryption", "PutEncryptionConfiguration"),
            ("publicAccessBlock", "PutBucketPublicAccessBlock"),
        ),
        "CreateBucket",
    ),
    "DELETE": (
        (
            ("cors", "PutBucketCORS"),
            ("policy", "DeleteBucketPolicy"),
            ("lifecycle", "PutLifecycleConfiguration"),
            ("tagging", "PutBucketTagging"),
            ("website", "DeleteBucketWebsite"),
            ("encryption", "PutEncryptionConfiguration"),
            ("publicAccessBlock", "PutBucketPublicAccessBlock"),
        ),
        "DeleteBucket",
    ),
    # A POST to a bucket is a browser's form upload (of the form's key) or DeleteObjects (of each key).
    "POST": ((("delete", "DeleteObject"),), "PutObject"),
}


def s3_action(method: str, query: Container[str], *, has_key: bool, has_bucket: bool = True) -> str:
    """The IAM action (``s3:...``) AWS checks for an S3 request.

    ``query`` holds the names in the request's query string; ``has_key`` whether the path names an
    object. A bucket POST is a form upload or a multi-object delete: the caller checks it against the
    form's key, or against each key deleted, as AWS does.

    Example:
        >>> s3_action("HEAD", {}, has_key=True)
        's3:GetObject'
        >>> s3_action("GET", {"list-type": "2", "prefix": "results/"}, has_key=False)
        's3:ListBucket'
        >>> s3_action("POST", {}, has_key=False)
        's3:PutObject'
    """
    if not has_bucket:
        return "s3:ListAllMyBuckets"
    table = _OBJECT if has_key else _BUCKET
    rules, default = table.get(method.upper(), ((), method.title()))
    for name, action in rules:
        if name in query:
            return f"s3:{action}"
    return f"s3:{default}"
