"""The data bucket behind :class:`stylemixer.jobs.ports.BlobStore`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from stylemixer.jobs.ports import ObjectInfo, PresignedPost

if TYPE_CHECKING:
    from pathlib import Path

#: A streamed clip moves through memory in pieces of this size.
_CHUNK = 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}
#: Without s3:ListBucket (the API is deliberately not granted it: it would list every key) S3 answers a
#: HEAD on a missing key with 403, not 404. Under ``uploads/`` that means "never uploaded".
_MISSING_WITHOUT_LIST = {"403", "AccessDenied", "Forbidden"}


class S3BlobStore:
    """Uploads and results in one bucket, reached with one client built at cold start.

    Example:
        >>> import boto3
        >>> store = S3BlobStore(boto3.client("s3"), "stylemixer-data")
        >>> store.head("uploads/content/" + "0" * 32) is None
        True
    """

    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self.bucket = bucket

    def presign_post(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> PresignedPost:
        """A POST policy for exactly ``key``: the content type is fixed and the size is 1..max_bytes."""
        post = self._s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )
        return PresignedPost(url=post["url"], fields=dict(post["fields"]))

    def presign_get(self, key: str, content_type: str | None, expires_in: int, filename: str) -> str:
        """A GET served with a download name and ``content_type``, whatever the object says; with
        None, the type it was stored with (an upload's: the POST policy held it to a picture type)."""
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "ResponseContentDisposition": f'inline; filename="{filename}"',
        }
        if content_type is not None:
            params["ResponseContentType"] = content_type
        return self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def head(self, key: str) -> ObjectInfo | None:
        try:
            meta = self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _MISSING or _error_code(exc) in _MISSING_WITHOUT_LIST:
                return None
            raise
        return ObjectInfo(
            size=int(meta["ContentLength"]),
            content_type=meta.get("ContentType"),
            last_modified=meta.get("LastModified"),
        )

    def peek(self, key: str, length: int) -> tuple[ObjectInfo, bytes] | None:
        """Size, type and first ``length`` bytes in one ranged GET (a HEAD and a GET were two calls)."""
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{length - 1}")
        except ClientError as exc:
            code = _error_code(exc)
            if code in _MISSING or code in _MISSING_WITHOUT_LIST:
                return None
            if code == "InvalidRange":  # an empty object has no byte to range over
                info = self.head(key)
                return None if info is None else (info, b"")
            raise
        body = response["Body"]
        try:
            data = body.read(length)
        finally:
            body.close()
        # "bytes 0-1023/5008": the object's size after the slash; without a range answered, the length.
        content_range = str(response.get("ContentRange") or "")
        size = (
            int(content_range.rpartition("/")[2]) if "/" in content_range else int(response["ContentLength"])
        )
        info = ObjectInfo(
            size=size, content_type=response.get("ContentType"), last_modified=response.get("LastModified")
        )
        return info, data

    def read(self, key: str) -> bytes:
        return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        response = self._s3.get_object(
            Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
        )
        body = response["Body"]
        try:
            return body.read(length)
        finally:
            body.close()

    def download(self, key: str, path: Path) -> None:
        """One GET streamed to the file in 1 MB pieces (s3:GetObject alone, as :meth:`read`)."""
        body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            with open(path, "wb") as stream:
                for chunk in body.iter_chunks(_CHUNK):
                    stream.write(chunk)
        finally:
            body.close()

    def upload(self, key: str, path: Path, content_type: str) -> None:
        """One PUT streamed from the file (s3:PutObject alone: no multipart upload to abort)."""
        with open(path, "rb") as stream:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=stream, ContentType=content_type)

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=key)


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
