"""The data bucket and the site: private, encrypted, TLS only, expiring, and served with strict headers."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import pytest
from stylemixer_cdk.config import StackConfig

from stylemixer.limits import UPLOAD_REUSE_SECONDS
from stylemixer.resources import RESULTS_PREFIX, UPLOADS_PREFIX
from tests.support.cfn import render

if TYPE_CHECKING:
    from pathlib import Path

    from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra

BLOCK_ALL = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


def test_every_bucket_is_private_encrypted_and_acl_free(synth: Synth) -> None:
    # Given every bucket in the stack (data, site, access logs)
    buckets = synth.resources("AWS::S3::Bucket")
    assert len(buckets) == 3
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        # Then public access is blocked, objects are encrypted, and ACLs are disabled
        assert props["PublicAccessBlockConfiguration"] == BLOCK_ALL, logical_id
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", logical_id
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}], logical_id


def test_every_bucket_refuses_plain_http(synth: Synth) -> None:
    # Given each bucket's policy
    policies = {
        render(p["Properties"]["Bucket"]): p for p in synth.resources("AWS::S3::BucketPolicy").values()
    }
    for logical_id in synth.resources("AWS::S3::Bucket"):
        statements = policies[f"<{logical_id}>"]["Properties"]["PolicyDocument"]["Statement"]
        # Then one statement denies every action when the request is not over TLS
        deny_http = [
            s
            for s in statements
            if s["Effect"] == "Deny"
            and s["Action"] == "s3:*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert len(deny_http) == 1, logical_id


def test_data_bucket_expires_uploads_after_a_day_and_results_after_a_week(synth: Synth) -> None:
    # Given the data bucket's lifecycle rules (cdk.json defaults)
    rules = synth.props(synth.stack.storage.data)["LifecycleConfiguration"]["Rules"]
    by_prefix = {r["Prefix"]: r for r in rules}
    # Then uploads expire after 1 day, results after 7, each under its own prefix
    assert by_prefix[UPLOADS_PREFIX]["ExpirationInDays"] == 1
    assert by_prefix[RESULTS_PREFIX]["ExpirationInDays"] == 7
    assert all(r["Status"] == "Enabled" for r in rules)
    # And unfinished multipart uploads do not linger either
    assert by_prefix[UPLOADS_PREFIX]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # And an upload outlives the window in which new jobs may name it, by hours, even at the
    # shortest lifetime a deployment may set (S3 deletes an object no sooner than its days are up)
    shortest = StackConfig.model_fields["uploads_expire_days"].metadata[0].ge * 24 * 3600
    assert shortest - UPLOAD_REUSE_SECONDS >= 3 * 3600


def test_data_bucket_logs_access_to_the_log_bucket(synth: Synth) -> None:
    props = synth.props(synth.stack.storage.data)
    logs_id = synth.logical_id(synth.stack.storage.access_logs)
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}


def test_data_bucket_cors_allows_only_the_site_and_configured_origins(synth: Synth) -> None:
    # Given the data bucket's CORS rules
    rules = synth.props(synth.stack.storage.data)["CorsConfiguration"]["CorsRules"]
    assert len(rules) == 1
    origins = [render(o) for o in rules[0]["AllowedOrigins"]]
    # Then the only origin is the CloudFront distribution's (cdk.json lists no extra origins)
    distribution = synth.logical_id(synth.stack.site.distribution)
    assert origins == [f"https://<{distribution}.DomainName>"]
    assert "*" not in origins
    # And the browser may POST uploads and GET results, nothing that changes or deletes
    assert set(rules[0]["AllowedMethods"]) == {"POST", "GET", "HEAD"}


def test_data_bucket_name_is_per_stage_account_and_region(synth: Synth) -> None:
    name = render(synth.props(synth.stack.storage.data)["BucketName"])
    assert name == "stylemixer-data-dev-<AWS::AccountId>-<AWS::Region>"


def test_site_is_served_only_through_cloudfront_origin_access_control(synth: Synth) -> None:
    # Given the distribution and the site bucket's policy
    dist = synth.props(synth.stack.site.distribution)["DistributionConfig"]
    origin = dist["Origins"][0]
    oac = synth.resources("AWS::CloudFront::OriginAccessControl")
    # Then CloudFront signs its requests with an OAC (SigV4), not a legacy identity
    assert len(oac) == 1
    (oac_id,) = oac
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    assert next(iter(oac.values()))["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    # And viewers are redirected to HTTPS, the root is the page
    assert dist["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert dist["DefaultRootObject"] == "index.html"
    # And the bucket lets only this distribution's service principal read
    site_bucket = synth.logical_id(synth.stack.site.bucket)
    policy = next(
        p
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": site_bucket}
    )
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    readers = [s for s in allows if "s3:GetObject" in s["Action"] or "s3:GetObject*" in s["Action"]]
    assert len(readers) == 1
    assert readers[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert readers[0]["Action"] == "s3:GetObject"
    source = render(readers[0]["Condition"]["StringEquals"]["AWS:SourceArn"])
    distribution = synth.logical_id(synth.stack.site.distribution)
    assert source == f"arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/<{distribution}>"
    # And anything else granted is the empty-on-delete helper's, which reads no object
    for statement in allows:
        if statement is not readers[0]:
            assert not any(a.startswith("s3:GetObject") for a in statement["Action"])


def _security_headers(synth: Synth) -> dict:
    policies = synth.resources("AWS::CloudFront::ResponseHeadersPolicy")
    assert len(policies) == 1
    ((policy_id, policy),) = policies.items()
    dist = synth.props(synth.stack.site.distribution)["DistributionConfig"]
    assert dist["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": policy_id}
    return policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]


def test_site_sends_security_headers(synth: Synth) -> None:
    headers = _security_headers(synth)
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"


def test_content_security_policy_allows_the_api_and_the_data_bucket_only(synth: Synth) -> None:
    # Given the CSP the site sends, with CloudFormation's references made readable
    csp = render(_security_headers(synth)["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    directives = dict(d.split(" ", 1) for d in csp.split("; "))
    api_id = synth.logical_id(synth.stack.api.http_api)
    bucket = "stylemixer-data-dev-<AWS::AccountId>-<AWS::Region>"
    # Then nothing is allowed by default; scripts and styles come from the page's own origin
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert directives["worker-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    # And the page may connect only to itself, the API and the data bucket
    assert directives["connect-src"].split() == [
        "'self'",
        f"<{api_id}.ApiEndpoint>",
        f"https://{bucket}.s3.amazonaws.com",
        f"https://{bucket}.s3.<AWS::Region>.amazonaws.com",
    ]
    # And show pictures from itself, local previews and the data bucket
    assert directives["img-src"].split() == [
        "'self'",
        "data:",
        "blob:",
        f"https://{bucket}.s3.amazonaws.com",
        f"https://{bucket}.s3.<AWS::Region>.amazonaws.com",
    ]
    # And no other host appears anywhere in the policy
    hosts = {
        token for value in directives.values() for token in value.split() if "://" in token or "<" in token
    }
    assert hosts == {
        f"<{api_id}.ApiEndpoint>",
        f"https://{bucket}.s3.amazonaws.com",
        f"https://{bucket}.s3.<AWS::Region>.amazonaws.com",
    }


def test_site_deployment_ships_the_page_and_a_generated_config(synth: Synth) -> None:
    # Given the BucketDeployment custom resource
    (deployment,) = synth.resources("Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    # Then it copies three sources (the page, the preview's web models and config.json) into the
    # site bucket, then invalidates
    assert len(props["SourceObjectKeys"]) == 3
    assert props["DestinationBucketName"] == {"Ref": synth.logical_id(synth.stack.site.bucket)}
    assert props["DistributionPaths"] == ["/*"]
    # And config.json's API URL is filled in by CloudFormation from the API's endpoint
    markers = props["SourceMarkers"]
    api_id = synth.logical_id(synth.stack.api.http_api)
    assert any(render(v) == f"<{api_id}.ApiEndpoint>" for m in markers for v in m.values())


def test_site_asset_holds_the_page_but_not_npm_files(synth: Synth) -> None:
    # Given the staged site asset (the one with index.html)
    staged = [p for p in synth.outdir.glob("asset.*") if (p / "index.html").is_file()]
    assert len(staged) == 1
    site = staged[0]
    # Then the page is there, and npm's files, any local config.json and the web models (which come
    # in their own asset) are not
    assert (site / "js").is_dir()
    npm = ("node_modules", "package.json", "package-lock.json", "eslint.config.mjs")
    for absent in (*npm, "config.json", "models"):
        assert not (site / absent).exists(), absent


def test_web_models_asset_holds_the_exported_models_and_their_manifest(synth: Synth) -> None:
    # Given the staged asset bundled from the weights (a local export, or the Dockerfile's stage)
    staged = [p for p in synth.outdir.glob("asset.*") if (p / "models" / "manifest.json").is_file()]
    assert len(staged) == 1
    models = staged[0] / "models"
    manifest = json.loads((models / "manifest.json").read_text(encoding="utf-8"))
    # Then it holds exactly the files its manifest names, with their sizes and sha256, and no more
    assert sorted(p.name for p in models.iterdir()) == sorted(
        ["manifest.json", *(m["file"] for m in manifest["models"].values())]
    )
    for entry in manifest["models"].values():
        data = (models / entry["file"]).read_bytes()
        assert len(data) == entry["bytes"]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert manifest["licence"]["weights"] == "Apache-2.0"


def test_web_models_bundle_exports_them_when_make_setup_has_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylemixer_cdk import site

    # Given a checkout whose static_site/models/ was never built
    monkeypatch.setattr(site, "MODELS_DIR", tmp_path / "absent")
    assert not site.built_models_are_current(tmp_path / "absent")

    # When CDK asks for the bundle
    done = site.WebModelsBundler().try_bundle(str(tmp_path / "out"), None)  # type: ignore[arg-type]

    # Then the models were exported from this checkout's weights, complete
    assert done
    assert site.built_models_are_current(tmp_path / "out" / "models")


def test_the_deployed_config_json_is_the_shared_site_config(synth: Synth) -> None:
    # Given the staged config.json (the API's URL is a marker BucketDeployment fills in at deploy)
    from stylemixer.page import site_config

    (staged,) = [p / "config.json" for p in synth.outdir.glob("asset.*") if (p / "config.json").is_file()]
    text = staged.read_text()
    marker = text.split('"api_base_url": "', 1)[1].split('"', 1)[0]
    deployed = json.loads(text.replace(marker, "https://api.example", 1))
    # Then it is what the local stack serves, the page's request contract included, with how long
    # this deployment keeps photos and pictures
    assert deployed == site_config("https://api.example", uploads_days=1, results_days=7)
