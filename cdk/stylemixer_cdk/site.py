"""Site: the static page in a private bucket behind CloudFront (origin access control, HTTPS only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from aws_cdk import Annotations, Duration, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3_deployment as s3deploy
from cdk_nag import RegexAppliesTo
from constructs import Construct

from stylemixer.page import SITE_TOOLING, content_security_policy, site_config
from stylemixer_cdk.nag import suppress
from stylemixer_cdk.storage import private_bucket

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aws_cdk import aws_s3 as s3

    from stylemixer_cdk.config import StackConfig

#: The page's sources; ``make`` builds ``vendor/`` (Bootstrap) into it from npm.
SITE_DIR = Path(__file__).resolve().parents[2] / "static_site"
#: What is in ``static_site/`` but not part of the page (``config.json`` is generated at deploy).
SITE_EXCLUDE = (*SITE_TOOLING, "config.json", "*.map", ".*")


class Site(Construct):
    """The web page, served by CloudFront from a bucket only CloudFront can read.

    Every response carries security headers; the content security policy allows the page's own
    files, the API and the data bucket, and nothing else. The stack deploys ``static_site/`` with a
    generated ``config.json`` whose API URL CloudFormation fills in at deploy time.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StackConfig,
        api_url: str,
        data_origins: Sequence[str],
        logs_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, id_)
        self.bucket = private_bucket(
            self,
            "Bucket",
            retain=config.retain_data,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix="site/",
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="StyleMixer page: CSP (self, API, data bucket), HSTS, no framing, no sniffing",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(api_url, list(data_origins)),
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365 * 2),
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy",
                        value="camera=(), microphone=(), geolocation=(), payment=()",
                        override=True,
                    )
                ]
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="StyleMixer page",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                response_headers_policy=self.headers,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                compress=True,
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
        suppress(
            self.distribution,
            "AwsSolutions-CFR1",
            "The page is meant for everyone; there is no country to keep out.",
        )
        suppress(
            self.distribution,
            "AwsSolutions-CFR2",
            "The distribution serves static files only; the API behind it is throttled at its stage, "
            "and a WAF web ACL (about 6 USD a month at rest) is left to operators who need one.",
        )
        suppress(
            self.distribution,
            "AwsSolutions-CFR3",
            "CloudFront standard logs need an ACL-enabled bucket, and all buckets here disable ACLs; "
            "the site bucket's server access logs and CloudFront's own metrics cover the static page.",
        )
        suppress(
            self.distribution,
            "AwsSolutions-CFR4",
            "The distribution uses CloudFront's default certificate (no custom domain), for which "
            "CloudFront fixes the viewer TLS policy; browsers negotiate TLS 1.2 or 1.3.",
        )
        self.url = f"https://{self.distribution.distribution_domain_name}"

        if not (SITE_DIR / "vendor").is_dir():
            Annotations.of(self).add_warning_v2(
                "stylemixer:site-vendor",
                "static_site/vendor/ is missing: run `make setup` (it builds Bootstrap from npm) "
                "before deploying, or the page will load without its styles and scripts.",
            )
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deployment",
            destination_bucket=self.bucket,
            sources=[
                s3deploy.Source.asset(str(SITE_DIR), exclude=list(SITE_EXCLUDE)),
                # Source.data, not json_data: CDK's JSON rendering drops nulls, which the page reads.
                s3deploy.Source.data("config.json", json.dumps(site_config(api_url))),
            ],
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
        )
        self._suppress_deployment_handler()

    def _suppress_deployment_handler(self) -> None:
        """BucketDeployment's handler is a stack-level singleton that aws-cdk-lib writes and grants."""
        stack = Stack.of(self)
        handlers = [c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")]
        for handler in handlers:
            suppress(
                handler,
                "AwsSolutions-L1",
                "aws-cdk-lib's BucketDeployment handler: aws-cdk-lib picks its runtime and moves it "
                "forward with each release; it runs only while deploying.",
                children=True,
            )
            suppress(
                handler,
                "AwsSolutions-IAM4",
                "aws-cdk-lib's BucketDeployment handler writes its logs through "
                "AWSLambdaBasicExecutionRole; it runs only while deploying.",
                applies_to=[
                    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
                ],
                children=True,
            )
            suppress(
                handler,
                "AwsSolutions-IAM5",
                "aws-cdk-lib's BucketDeployment handler copies the page from the CDK asset bucket into "
                "the site bucket: read on the asset objects, write and delete on the site bucket's "
                "objects, granted by aws-cdk-lib with its own action groups.",
                applies_to=[
                    "Action::s3:GetObject*",
                    "Action::s3:GetBucket*",
                    "Action::s3:List*",
                    "Action::s3:DeleteObject*",
                    "Action::s3:Abort*",
                    "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
                    RegexAppliesTo(regex=r"/^Resource::<SiteBucket[0-9A-F]+\.Arn>\/\*$/"),
                    "Resource::*",
                ],
                children=True,
            )
