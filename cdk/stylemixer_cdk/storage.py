"""Storage: the private data bucket (uploads and results) and the bucket its access logs go to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stylemixer.resources import RESULTS_PREFIX, UPLOADS_PREFIX
from stylemixer_cdk.nag import suppress

if TYPE_CHECKING:
    from collections.abc import Sequence

    from stylemixer_cdk.config import StackConfig


def private_bucket(scope: Construct, id_: str, *, retain: bool, **kwargs: object) -> s3.Bucket:
    """A bucket no one reaches but through IAM: public access blocked, TLS only, SSE-S3, no ACLs.

    ``retain`` keeps it (and its objects) when the stack is deleted; otherwise it is emptied and
    removed with the stack.

    Example:
        >>> private_bucket(self, "SiteBucket", retain=False)  # doctest: +SKIP
    """
    return s3.Bucket(
        scope,
        id_,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        auto_delete_objects=not retain,
        **kwargs,
    )


class Storage(Construct):
    """The data bucket, where browsers upload straight to ``uploads/`` and the worker writes ``results/``.

    Objects expire on their own (uploads after a day, results after a week, both configurable), so
    the service keeps no picture longer than it needs. The bucket's name is known before deployment
    (see :meth:`StackConfig.data_bucket_name`) because the site's content security policy names it.
    """

    def __init__(self, scope: Construct, id_: str, *, config: StackConfig) -> None:
        super().__init__(scope, id_)
        self.access_logs = private_bucket(
            self,
            "AccessLogs",
            retain=config.retain_data,
            lifecycle_rules=[s3.LifecycleRule(id="ExpireLogs", expiration=Duration.days(90))],
        )
        suppress(
            self.access_logs, "AwsSolutions-S1", "This is the access-log bucket; it does not log itself."
        )

        self.bucket_name = config.data_bucket_name(Aws.ACCOUNT_ID, Aws.REGION)
        self.data = private_bucket(
            self,
            "DataBucket",
            retain=config.retain_data,
            bucket_name=self.bucket_name,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="data/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireUploads",
                    prefix=UPLOADS_PREFIX,
                    expiration=Duration.days(config.uploads_expire_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                s3.LifecycleRule(
                    id="ExpireResults",
                    prefix=RESULTS_PREFIX,
                    expiration=Duration.days(config.results_expire_days),
                ),
            ],
        )

    def allow_origins(self, origins: Sequence[str]) -> None:
        """Let these origins POST uploads (presigned) and GET results from the browser."""
        self.data.add_cors_rule(
            allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
            allowed_origins=list(origins),
            allowed_headers=["*"],
            exposed_headers=["ETag"],
            max_age=3000,
        )

    def regional_origins(self) -> list[str]:
        """The two addresses a browser reaches the data bucket by (presigned URLs use either form)."""
        return [
            f"https://{self.bucket_name}.s3.amazonaws.com",
            f"https://{self.bucket_name}.s3.{Aws.REGION}.amazonaws.com",
        ]
