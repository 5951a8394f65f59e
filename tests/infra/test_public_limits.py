"""What keeps the public page up and the bill bounded, as synthesized: per-route throttles, the
quotas table, the queued jobs' index and the sweeper's schedule, the API's limits, the budget, and
the optional firewall (the API behind the site's CloudFront, limited per address by AWS WAF)."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest
from stylemixer_cdk.site import STRIP_API_PREFIX

from stylemixer.limits import (
    CLIENT_JOBS_IN_FLIGHT,
    CLIENT_JOBS_PER_HOUR,
    CLIENT_UPLOAD_BYTES_PER_HOUR,
    MAX_JOBS_PER_UPLOAD,
)
from stylemixer.permissions import Function
from stylemixer.resources import (
    ENV_CLIENT_JOBS_IN_FLIGHT,
    ENV_CLIENT_JOBS_PER_HOUR,
    ENV_CLIENT_UPLOAD_BYTES_PER_HOUR,
    ENV_JOBS_PER_UPLOAD,
    ENV_ORIGIN_VERIFY,
    ENV_QUEUE_RETENTION_SECONDS,
    ENV_QUOTA_TABLE,
    ENV_WORKERS,
    ORIGIN_VERIFY_HEADER,
    QUEUED_INDEX,
    QUEUED_INDEX_KEY,
    QUEUED_INDEX_SORT,
    QUOTA_TTL_ATTRIBUTE,
    READ_ROUTES,
    VIEWER_ADDRESS_HEADER,
    WRITE_ROUTES,
)
from tests.support.cfn import permissions, render

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra


def _stage(synth: Synth) -> dict:
    (stage,) = synth.resources("AWS::ApiGatewayV2::Stage").values()
    return stage


def test_routes_that_cost_money_are_throttled_far_below_the_one_the_page_polls(synth: Synth) -> None:
    # Given the stage's route settings
    stage = _stage(synth)
    settings = stage["Properties"]["RouteSettings"]
    # Then reading a job has its own throttle, and uploads, jobs and deletes a far lower one
    assert (
        set(settings)
        == {route.key for route in (*READ_ROUTES, *WRITE_ROUTES)}
        == {
            "GET /jobs/{job_id}",
            "POST /uploads",
            "POST /jobs",
            "DELETE /jobs/{job_id}",
        }
    )
    read = settings["GET /jobs/{job_id}"]
    assert (read["ThrottlingRateLimit"], read["ThrottlingBurstLimit"]) == (100, 200)
    for route in WRITE_ROUTES:
        write = settings[route.key]
        assert (write["ThrottlingRateLimit"], write["ThrottlingBurstLimit"]) == (5, 10)
        assert write["ThrottlingRateLimit"] * 10 <= read["ThrottlingRateLimit"]
    # And every other route has the stage's default
    assert stage["Properties"]["DefaultRouteSettings"]["ThrottlingRateLimit"] == 20
    # And the stage is created after its routes (CloudFormation refuses settings of a missing route)
    routes = set(synth.resources("AWS::ApiGatewayV2::Route"))
    assert routes <= set(stage["DependsOn"])


def test_quotas_table_is_on_demand_with_a_ttl_and_only_the_api_may_use_it(synth: Synth) -> None:
    # Given the quotas table
    table = synth.props(synth.stack.admission.quotas)
    # Then it is on demand, and its counters expire by TTL
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": QUOTA_TTL_ATTRIBUTE, "Enabled": True}
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    # And only the API's role names it
    arn = f"<{synth.logical_id(synth.stack.admission.quotas)}.Arn>"
    for function, fn in synth.stack.functions.by_function.items():
        allowed = permissions(synth.cfn, synth.logical_id(fn.role))
        named = any(arn in resources for resources in allowed.values())
        assert named == (function is Function.API), function


def test_api_function_is_given_the_limits_per_client_and_the_workers_it_admits_for(synth: Synth) -> None:
    env = synth.props(synth.stack.functions.api)["Environment"]["Variables"]
    assert env[ENV_QUOTA_TABLE] == {"Ref": synth.logical_id(synth.stack.admission.quotas)}
    assert env[ENV_CLIENT_JOBS_PER_HOUR] == str(CLIENT_JOBS_PER_HOUR)
    assert env[ENV_CLIENT_JOBS_IN_FLIGHT] == str(CLIENT_JOBS_IN_FLIGHT)
    assert env[ENV_CLIENT_UPLOAD_BYTES_PER_HOUR] == str(CLIENT_UPLOAD_BYTES_PER_HOUR)
    assert env[ENV_JOBS_PER_UPLOAD] == str(MAX_JOBS_PER_UPLOAD)
    # The workers admission control counts are the queue's event source's maximum concurrency
    (mapping,) = [
        m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": synth.logical_id(synth.stack.functions.worker)}
    ]
    assert env[ENV_WORKERS] == str(mapping["ScalingConfig"]["MaximumConcurrency"])
    # And without the firewall the API takes any caller's address as API Gateway gives it
    assert ENV_ORIGIN_VERIFY not in env


def test_jobs_table_has_a_sparse_index_of_queued_jobs_oldest_first(synth: Synth) -> None:
    (index,) = synth.props(synth.stack.jobs.table)["GlobalSecondaryIndexes"]
    assert index["IndexName"] == QUEUED_INDEX
    assert index["KeySchema"] == [
        {"AttributeName": QUEUED_INDEX_KEY, "KeyType": "HASH"},
        {"AttributeName": QUEUED_INDEX_SORT, "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_sweeper_runs_hourly_with_the_queues_own_retention(synth: Synth) -> None:
    # Given the schedule
    (rule,) = synth.resources("AWS::Events::Rule").values()
    props = rule["Properties"]
    sweeper = synth.logical_id(synth.stack.functions.sweeper)
    # Then it runs the sweeper every hour
    assert props["ScheduleExpression"] == "rate(1 hour)"
    assert props["State"] == "ENABLED"
    (target,) = props["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [sweeper, "Arn"]}
    # And EventBridge may invoke it (and nothing else may, through this permission)
    permissions = [
        p["Properties"]
        for p in synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [sweeper, "Arn"]}
    ]
    assert [p["Principal"] for p in permissions] == ["events.amazonaws.com"]
    # And the sweeper fails jobs queued longer than the queue keeps a message
    env = synth.props(synth.stack.functions.sweeper)["Environment"]["Variables"]
    retention = synth.props(synth.stack.jobs.queue)["MessageRetentionPeriod"]
    assert env[ENV_QUEUE_RETENTION_SECONDS] == str(retention)


def test_without_the_firewall_there_is_no_web_acl_and_the_api_has_its_own_address(synth: Synth) -> None:
    assert synth.resources("AWS::WAFv2::WebACL") == {}
    dist = synth.props(synth.stack.site.distribution)["DistributionConfig"]
    assert "WebACLId" not in dist
    assert "CacheBehaviors" not in dist


def test_the_firewall_limits_each_address_before_api_gateway(synth_prod: Synth) -> None:
    # Given a stage with waf_enabled: one web ACL, for CloudFront, on the site's distribution
    ((acl_id, acl),) = synth_prod.resources("AWS::WAFv2::WebACL").items()
    props = acl["Properties"]
    assert props["Scope"] == "CLOUDFRONT"
    assert props["DefaultAction"] == {"Allow": {}}
    dist = synth_prod.props(synth_prod.stack.site.distribution)["DistributionConfig"]
    assert dist["WebACLId"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    # Then two rate-based rules count each address apart, under /api/ only
    rules = {r["Name"].rsplit("-", 1)[1]: r for r in props["Rules"]}
    assert set(rules) == {"ApiWrites", "ApiRequests"}
    for name, limit in (("ApiWrites", 300), ("ApiRequests", 3000)):
        statement = rules[name]["Statement"]["RateBasedStatement"]
        assert (statement["AggregateKeyType"], statement["Limit"], statement["EvaluationWindowSec"]) == (
            "IP",
            limit,
            300,
        )
        assert "/api/" in json.dumps(statement["ScopeDownStatement"])
    assert "NotStatement" in json.dumps(rules["ApiWrites"]["Statement"])  # all but GET
    # And a blocked request gets the API's error shape: 429, Retry-After, a code and a sentence
    for rule in rules.values():
        response = rule["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        assert response["ResponseHeaders"] == [{"Name": "Retry-After", "Value": "60"}]
        body = json.loads(props["CustomResponseBodies"][response["CustomResponseBodyKey"]]["Content"])
        assert body["error"]["code"] == "TooManyRequests"
        assert len(body["error"]["message"]) > 20
    # And the template refuses any region but us-east-1, where CloudFront's web ACLs live
    (rule,) = [r for k, r in synth_prod.cfn["Rules"].items() if k.startswith("Firewall")]
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
    assert "waf_enabled" in rule["Assertions"][0]["AssertDescription"]


def test_with_the_firewall_the_api_is_served_behind_the_site(synth_prod: Synth) -> None:
    # Given the distribution's /api/* behavior
    dist = synth_prod.props(synth_prod.stack.site.distribution)["DistributionConfig"]
    (behavior,) = dist["CacheBehaviors"]
    assert behavior["PathPattern"] == "/api/*"
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert {"POST", "DELETE", "GET"} <= set(behavior["AllowedMethods"])
    # Then it goes to the HTTP API's own domain, proving with a header that it came through CloudFront
    origin = next(o for o in dist["Origins"] if o["Id"] == behavior["TargetOriginId"])
    api = synth_prod.logical_id(synth_prod.stack.api.http_api)
    assert render(origin["DomainName"]).startswith(f"<{api}>.execute-api.")
    (header,) = origin["OriginCustomHeaders"]
    assert header["HeaderName"] == ORIGIN_VERIFY_HEADER
    env = synth_prod.props(synth_prod.stack.functions.api)["Environment"]["Variables"]
    assert env[ENV_ORIGIN_VERIFY] == header["HeaderValue"]
    assert "AWS::StackId" in json.dumps(header["HeaderValue"])
    # And nothing is cached; the owner token reaches the API (in the cache key) and so does the
    # viewer's address, the client of its limits
    cache = synth_prod.cfn["Resources"][behavior["CachePolicyId"]["Ref"]]["Properties"]["CachePolicyConfig"]
    assert (cache["DefaultTTL"], cache["MinTTL"]) == (0, 0)
    assert cache["MaxTTL"] <= 1
    assert cache["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"] == ["Authorization"]
    requests = synth_prod.cfn["Resources"][behavior["OriginRequestPolicyId"]["Ref"]]["Properties"]
    headers = requests["OriginRequestPolicyConfig"]["HeadersConfig"]["Headers"]
    assert VIEWER_ADDRESS_HEADER in headers
    assert "Authorization" not in headers  # CloudFront refuses it in an origin request policy
    # And the page calls it on its own origin
    (staged,) = [
        p / "config.json" for p in synth_prod.outdir.glob("asset.*") if (p / "config.json").is_file()
    ]
    assert json.loads(staged.read_text())["api_base_url"] == "/api"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js runs the CloudFront function's code")
@pytest.mark.parametrize(
    ("uri", "expected"),
    [("/api/jobs/abc", "/jobs/abc"), ("/api/health", "/health"), ("/api", "/"), ("/apis/x", "/apis/x")],
)
def test_the_edge_function_takes_the_api_prefix_off_the_path(uri: str, expected: str) -> None:
    # Given the viewer-request function's own code, run as CloudFront would run it
    script = STRIP_API_PREFIX + f"console.log(handler({{request: {{uri: {json.dumps(uri)}}}}}).uri);"
    run = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, check=True)
    # Then the API sees its own route
    assert run.stdout.strip() == expected
