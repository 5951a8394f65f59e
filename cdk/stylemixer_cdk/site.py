"""Site: the static page in a private bucket behind CloudFront (origin access control, HTTPS only)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import jsii
from aws_cdk import Annotations, AssetHashType, BundlingOptions, DockerImage, Duration, ILocalBundling, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3_deployment as s3deploy
from cdk_nag import RegexAppliesTo
from constructs import Construct

from stylemixer.page import SITE_TOOLING, content_security_policy, site_config
from stylemixer.resources import ORIGIN_VERIFY_HEADER, VIEWER_ADDRESS_HEADER
from stylemixer_cdk.nag import suppress
from stylemixer_cdk.storage import private_bucket

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aws_cdk import aws_s3 as s3

    from stylemixer_cdk.config import StackConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The page's sources; ``make`` builds ``vendor/`` (Bootstrap, onnxruntime-web) into it from npm.
SITE_DIR = PROJECT_ROOT / "static_site"
#: The preview's web models, exported from the weights by ``stylemixer weights web`` (``make setup``).
MODELS_DIR = SITE_DIR / "models"
#: What is in ``static_site/`` but not part of the page asset (``config.json`` is generated at
#: deploy; the web models come in their own bundled asset).
SITE_EXCLUDE = (*SITE_TOOLING, "config.json", "models", "*.map", ".*")
#: The Dockerfile's stage that exports the web models, and where they are in it.
WEB_MODELS_STAGE = "web-models"
WEB_MODELS_IN_IMAGE = "/build/web/models"
#: Where the page finds the API when it is served behind the site's distribution (same origin).
API_PATH = "/api"
#: The viewer-request function that takes ``/api`` off the path: the API's routes have no prefix.
STRIP_API_PREFIX = """function handler(event) {
  var request = event.request;
  request.uri = request.uri.replace(/^\\/api(?=\\/|$)/, "") || "/";
  return request;
}
"""


@dataclass(frozen=True)
class ApiBehindSite:
    """The API served by the site's distribution under ``/api/*`` (``waf_enabled``).

    ``domain`` is the HTTP API's own; ``origin_verify`` the value CloudFront sends to prove a
    request came through it (the API refuses any other); ``web_acl_arn`` the firewall's web ACL.
    """

    domain: str
    origin_verify: str
    web_acl_arn: str


def built_models_are_current(folder: Path | None = None) -> bool:
    """Whether ``folder`` holds a complete export whose files match its manifest and whose weights
    are this checkout's (when the weight file is here to compare)."""
    from stylemixer.neural.weights import default_weights_path, sha256

    folder = folder or MODELS_DIR
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        for entry in manifest["models"].values():
            path = folder / entry["file"]
            if path.stat().st_size != entry["bytes"] or sha256(path) != entry["sha256"]:
                return False
        weights = default_weights_path()
        return not weights.is_file() or sha256(weights) == manifest["source"]["weights_sha256"]
    except (OSError, KeyError, TypeError, ValueError):
        return False


@jsii.implements(ILocalBundling)
class WebModelsBundler:
    """Bundles the web models, in the first way this machine allows:

    1. the export ``make setup`` left in ``static_site/models/``, if it is complete and current;
    2. a fresh export (``stylemixer weights web``), if the weights and torch are here;
    3. Docker: the Dockerfile's ``web-models`` stage, built and copied out (as CDK builds the
       Lambda image), so a machine with Docker and no Python set-up can still deploy.

    CDK builds a bundling image given as ``DockerImage.from_build`` as soon as it is constructed,
    even when local bundling succeeds, so the Docker way is run from here, only when needed.
    """

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        dest = Path(output_dir) / "models"
        if built_models_are_current():
            dest.mkdir(parents=True, exist_ok=True)
            manifest = json.loads((MODELS_DIR / "manifest.json").read_text(encoding="utf-8"))
            for name in ["manifest.json", *(entry["file"] for entry in manifest["models"].values())]:
                shutil.copy2(MODELS_DIR / name, dest / name)
            return True
        export = [sys.executable, "-m", "stylemixer.cli", "weights", "web", "--dest", str(dest)]
        if (
            subprocess.run(export, cwd=PROJECT_ROOT, capture_output=True, check=False, timeout=600).returncode
            == 0
        ):
            return True
        return docker_export(dest)


def docker_export(dest: Path) -> bool:
    """Build the Dockerfile's ``web-models`` stage and copy the models out of it into ``dest``."""
    if shutil.which("docker") is None:
        return False
    tag = "stylemixer-web-models:cdk"
    name = f"stylemixer-web-models-{dest.parent.name}"
    steps = [
        ["docker", "build", "--target", WEB_MODELS_STAGE, "--tag", tag, str(PROJECT_ROOT)],
        ["docker", "create", "--name", name, tag],
        ["docker", "cp", f"{name}:{WEB_MODELS_IN_IMAGE}/.", str(dest)],
    ]
    dest.mkdir(parents=True, exist_ok=True)
    try:
        return all(subprocess.run(step, check=False).returncode == 0 for step in steps)
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True, check=False)


def web_models_source() -> s3deploy.ISource:
    """The preview's web models as a bundled asset (``models/`` at the root of the site), hashed by
    its content: a deployment uploads them again only when the exported bytes change."""
    return s3deploy.Source.asset(
        str(PROJECT_ROOT / "stylemixer" / "neural"),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            # Reached only if WebModelsBundler found no way; says what to do instead.
            image=DockerImage.from_registry("public.ecr.aws/docker/library/busybox:stable"),
            command=["sh", "-c", "echo 'Build the web models first: make setup' >&2; exit 1"],
            local=WebModelsBundler(),
        ),
    )


class Site(Construct):
    """The web page, served by CloudFront from a bucket only CloudFront can read.

    Every response carries security headers; the content security policy allows the page's own
    files, the API and the data bucket, and nothing else. The stack deploys ``static_site/`` with a
    generated ``config.json`` whose API URL CloudFormation fills in at deploy time, and the preview's
    web models (``models/``), exported from the same weights as the worker's.
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
        api_behind: ApiBehindSite | None = None,
    ) -> None:
        super().__init__(scope, id_)
        # Behind the site, the page reaches the API on its own origin ('self' in the policy).
        api_origin = "" if api_behind is not None else api_url
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
                    content_security_policy=content_security_policy(api_origin, list(data_origins)),
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
                    # The page's own Camera control may ask for the camera (getUserMedia); nothing else.
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy",
                        value="camera=(self), microphone=(), geolocation=(), payment=()",
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
            additional_behaviors=self._api_behavior(api_behind) if api_behind is not None else None,
            web_acl_id=api_behind.web_acl_arn if api_behind is not None else None,
        )
        suppress(
            self.distribution,
            "AwsSolutions-CFR1",
            "The page is meant for everyone; there is no country to keep out.",
        )
        if api_behind is None:
            suppress(
                self.distribution,
                "AwsSolutions-CFR2",
                "The distribution serves static files only (the API has its own address, throttled "
                "per route, and counts each client's uploads and jobs); the WAF web ACL that limits "
                "requests per address (about 7 USD a month at rest) is the waf_enabled setting.",
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
                web_models_source(),
                # Source.data, not json_data: CDK's JSON rendering drops nulls, which the page reads.
                s3deploy.Source.data(
                    "config.json",
                    json.dumps(
                        site_config(
                            API_PATH if api_behind is not None else api_url,
                            uploads_days=config.uploads_expire_days,
                            results_days=config.results_expire_days,
                        )
                    ),
                ),
            ],
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
        )
        self._suppress_deployment_handler()

    def _api_behavior(self, api: ApiBehindSite) -> dict[str, cloudfront.BehaviorOptions]:
        """``/api/*`` to the HTTP API: nothing cached, every method, the owner token and the viewer's
        address passed on, ``/api`` taken off the path, and the proof that CloudFront sent it."""
        # The Authorization header can reach the origin only as part of a cache key; with at most
        # a second's caching (and the API's no-store answers) nothing is served from the cache.
        cache = cloudfront.CachePolicy(
            self,
            "ApiCache",
            comment="StyleMixer API: no caching; the owner token in the key so it reaches the API",
            default_ttl=Duration.seconds(0),
            min_ttl=Duration.seconds(0),
            max_ttl=Duration.seconds(1),
            header_behavior=cloudfront.CacheHeaderBehavior.allow_list("Authorization"),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.all(),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
        )
        requests = cloudfront.OriginRequestPolicy(
            self,
            "ApiRequests",
            comment="StyleMixer API: the body's type and the viewer's address (the client of its limits)",
            header_behavior=cloudfront.OriginRequestHeaderBehavior.allow_list(
                "Content-Type", "Accept", VIEWER_ADDRESS_HEADER
            ),
            query_string_behavior=cloudfront.OriginRequestQueryStringBehavior.all(),
            cookie_behavior=cloudfront.OriginRequestCookieBehavior.none(),
        )
        strip = cloudfront.Function(
            self,
            "StripApiPrefix",
            comment="StyleMixer: /api/jobs is the API's /jobs",
            code=cloudfront.FunctionCode.from_inline(STRIP_API_PREFIX),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        origin = origins.HttpOrigin(
            api.domain,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            custom_headers={ORIGIN_VERIFY_HEADER: api.origin_verify},
        )
        behavior = cloudfront.BehaviorOptions(
            origin=origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cache,
            origin_request_policy=requests,
            response_headers_policy=self.headers,
            function_associations=[
                cloudfront.FunctionAssociation(
                    function=strip, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                )
            ],
        )
        return {f"{API_PATH}/*": behavior}

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
