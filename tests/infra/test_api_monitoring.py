"""The HTTP API (routes, throttling, access logs), the alarms and their SNS action, the outputs."""

from __future__ import annotations

import fnmatch
import importlib
import json
from typing import TYPE_CHECKING

import pytest

from stylemixer.resources import API_ROUTES as ROUTES
from stylemixer.resources import (
    METRICS_NAMESPACE,
    OUTPUT_API_URL,
    OUTPUT_DASHBOARD,
    OUTPUT_DATA_BUCKET,
    OUTPUT_SITE_URL,
    SERVICE_NAME,
)
from tests.support.cfn import render

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra


def test_http_api_stage_is_throttled_and_logs_access(synth: Synth) -> None:
    # Given the API's only stage
    (stage,) = synth.resources("AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    # Then it is the auto-deployed default stage, throttled at the configured rate and burst
    assert props["StageName"] == "$default"
    assert props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] == 20
    assert props["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 40
    # And each request is logged as one JSON line to the API's access log group
    logs = synth.logical_id(synth.stack.api.access_logs)
    assert props["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": [logs, "Arn"]}
    line = json.loads(props["AccessLogSettings"]["Format"])
    assert {"requestId", "status", "routeKey", "ip"} <= set(line)


def test_http_api_routes_are_the_contract_plus_a_default_all_to_the_api_function(synth: Synth) -> None:
    # Given the routes and the one integration
    routes = synth.resources("AWS::ApiGatewayV2::Route").values()
    ((integration_id, integration),) = synth.resources("AWS::ApiGatewayV2::Integration").items()
    # Then the route keys are the contract's, plus $default for preflights, wrong methods and
    # unknown paths (the function answers those in the API's error shape, as the local stack does)
    assert {r["Properties"]["RouteKey"] for r in routes} == {f"{m} {p}" for m, p in ROUTES} | {"$default"}
    # And every route goes to the API function (payload v2), none to anything else
    for route in routes:
        assert render(route["Properties"]["Target"]) == f"integrations/<{integration_id}>"
    api_fn = synth.logical_id(synth.stack.functions.api)
    assert integration["Properties"]["IntegrationUri"] == {"Fn::GetAtt": [api_fn, "Arn"]}
    assert integration["Properties"]["PayloadFormatVersion"] == "2.0"


def test_http_api_leaves_cors_to_the_function(synth: Synth) -> None:
    # API Gateway's own CORS would make the API depend on the site and the site's CSP on the API;
    # the function answers CORS for the origins in STYLEMIXER_ALLOWED_ORIGINS (see the functions
    # test), and preflights reach it through the $default route.
    assert "CorsConfiguration" not in synth.props(synth.stack.api.http_api)


def test_routes_match_the_api_functions_openapi_document(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the API function's generated OpenAPI document
    for name, value in {
        "STYLEMIXER_BUCKET": "stylemixer-data-test",
        "STYLEMIXER_TABLE": "stylemixer-jobs",
        "STYLEMIXER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/stylemixer-jobs",
        "STYLEMIXER_QUOTA_TABLE": "stylemixer-quotas",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    handler = importlib.import_module("functions.api.handler")
    (resolver,) = [v for v in vars(handler).values() if isinstance(v, ApiGatewayResolver)]
    schema = resolver.get_openapi_schema()
    documented = {
        (method.upper(), path)
        for path, item in schema.paths.items()
        for method in ("get", "post", "put", "patch", "delete")
        if getattr(item, method, None) is not None
    }
    # Then API Gateway routes exactly the documented operations
    assert documented == set(ROUTES)


def _alarms(synth: Synth) -> dict[str, dict]:
    """Alarms by the id of their construct under Monitoring."""
    out = {}
    for alarm in synth.stack.monitoring.alarms:
        out[alarm.node.id] = synth.props(alarm)
    return out


def test_every_alarm_notifies_the_sns_topic(synth: Synth) -> None:
    topic = synth.logical_id(synth.stack.monitoring.topic)
    alarms = synth.resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == len(synth.stack.monitoring.alarms) == 16
    for logical_id, alarm in alarms.items():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": topic}], logical_id
        assert props["OKActions"] == [{"Ref": topic}], logical_id
        assert props["TreatMissingData"] == "notBreaching", logical_id
        assert props["AlarmDescription"], logical_id


#: The dimensions of the service's own metrics in the dev stage.
STAGE_DIMENSIONS = [{"Name": "service", "Value": SERVICE_NAME}, {"Name": "stage", "Value": "dev"}]
#: An alarm's ARN, as CloudWatch presents it (aws:SourceArn) when it publishes, in template terms.
ALARM_ARN = "arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:{}"


def test_every_alarm_is_named_after_its_stage(synth: Synth) -> None:
    # The topic's policy lets CloudWatch publish for alarms with this prefix only (next test);
    # the name is also what `aws cloudwatch set-alarm-state --alarm-name` takes (docs/operators.md)
    for alarm in synth.stack.monitoring.alarms:
        assert synth.props(alarm)["AlarmName"] == f"StyleMixer-dev-{alarm.node.id}"


def test_worker_cpu_alarm_wants_every_vcpu_busy_for_15_minutes(synth: Synth) -> None:
    # CPU is of the vCPUs Lambda allocates (2.3 at 4096 MB): a busy worker reads well below 95 %
    props = _alarms(synth)["WorkerCpu"]
    assert props["Namespace"] == METRICS_NAMESPACE
    assert props["MetricName"] == "CPUUtilization"
    assert props["Dimensions"] == [
        {"Name": "service", "Value": SERVICE_NAME},
        {"Name": "stage", "Value": "dev"},
    ]
    assert (props["Statistic"], props["Period"]) == ("Average", 300)
    assert props["EvaluationPeriods"] == props["DatapointsToAlarm"] == 3
    assert props["Threshold"] == 95
    assert props["ComparisonOperator"] == "GreaterThanThreshold"


def test_worker_memory_alarm_watches_each_invocations_own_peak(synth: Synth) -> None:
    # One job near the function's memory is worth an alarm: the maximum of the per-invocation peaks
    props = _alarms(synth)["WorkerMemory"]
    assert props["MetricName"] == "MemoryUtilization"
    assert props["Dimensions"] == [
        {"Name": "service", "Value": SERVICE_NAME},
        {"Name": "stage", "Value": "dev"},
    ]
    assert (props["Statistic"], props["Period"], props["EvaluationPeriods"]) == ("Maximum", 300, 1)
    assert props["Threshold"] == 85


def test_request_alarm_fires_at_half_of_what_the_polled_route_is_throttled_to(synth: Synth) -> None:
    # Given the stage's throttle of GET /jobs/{job_id} (100 a second by default): 30,000 in 5 minutes
    alarms = _alarms(synth)
    assert "ApiRequests" not in alarms  # the old alarm (100 requests) fired when two people used the page
    requests = alarms["ApiNearThrottle"]
    assert requests["Namespace"] == "AWS/ApiGateway"
    assert requests["MetricName"] == "Count"
    assert (requests["Statistic"], requests["Period"]) == ("Sum", 300)
    # Then it fires at half of that
    assert requests["Threshold"] == 0.5 * 100 * 300
    assert requests["ComparisonOperator"] == "GreaterThanThreshold"


def test_jobs_alarm_fires_when_more_are_sent_than_the_workers_finish(synth: Synth) -> None:
    # Given five workers at 2 jobs a minute each: 50 jobs in 5 minutes
    props = _alarms(synth)["JobsSubmitted"]
    assert props["Namespace"] == METRICS_NAMESPACE
    assert props["MetricName"] == "JobsSubmitted"
    assert props["Dimensions"] == STAGE_DIMENSIONS
    assert (props["Statistic"], props["Period"]) == ("Sum", 300)
    assert props["Threshold"] == 5 * 2 * 5


def test_jobs_alarm_threshold_is_a_setting() -> None:
    from stylemixer_cdk.config import StackConfig

    assert StackConfig.from_context({"jobs_submitted_alarm_threshold": 400}).jobs_submitted_alarm == 400
    assert StackConfig.from_context({"worker_max_concurrency": 20}).jobs_submitted_alarm == 200


def test_budget_tells_the_operator_before_the_month_is_spent(synth_prod: Synth) -> None:
    # Given a stage with alarm_email: a monthly cost budget of budget_monthly_usd
    (budget,) = synth_prod.resources("AWS::Budgets::Budget").values()
    data = budget["Properties"]["Budget"]
    assert (data["BudgetType"], data["TimeUnit"]) == ("COST", "MONTHLY")
    assert data["BudgetLimit"] == {"Amount": 50, "Unit": "USD"}
    # Then it e-mails at 80 % and 100 % spent, and when the forecast passes it
    notified = {
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"])
        for n in budget["Properties"]["NotificationsWithSubscribers"]
    }
    assert notified == {("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)}
    for notification in budget["Properties"]["NotificationsWithSubscribers"]:
        assert notification["Notification"]["ThresholdType"] == "PERCENTAGE"
        assert notification["Subscribers"] == [{"SubscriptionType": "EMAIL", "Address": "ops@example.org"}]


def test_failure_alarms_fire_on_the_first_error(synth: Synth) -> None:
    alarms = _alarms(synth)
    assert alarms["Api5xx"]["MetricName"] == "5xx"
    for name in ("Api", "Worker", "DeadLetters", "Sweeper"):
        for kind, metric in (("Errors", "Errors"), ("Throttles", "Throttles")):
            props = alarms[f"{name}{kind}"]
            assert props["Namespace"] == "AWS/Lambda"
            assert props["MetricName"] == metric
            assert props["Threshold"] == 0
            assert props["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarms["Api5xx"]["Threshold"] == 0


def test_worker_duration_alarm_is_at_90_percent_of_its_timeout(synth: Synth) -> None:
    props = _alarms(synth)["WorkerDuration"]
    timeout_s = synth.props(synth.stack.functions.worker)["Timeout"]
    assert props["MetricName"] == "Duration"
    assert props["Statistic"] == "Maximum"
    assert props["Threshold"] == pytest.approx(0.9 * timeout_s * 1000)


def test_dead_letter_alarm_counts_any_message_in_the_dead_letter_queue(synth: Synth) -> None:
    props = _alarms(synth)["DeadLetters"]
    assert props["Threshold"] == 1
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    metrics = {m["Id"]: m for m in props["Metrics"]}
    dlq = f"<{synth.logical_id(synth.stack.jobs.dead_letters)}.QueueName>"
    for id_, name in (
        ("visible", "ApproximateNumberOfMessagesVisible"),
        ("received", "NumberOfMessagesReceived"),
    ):
        stat = metrics[id_]["MetricStat"]
        assert stat["Metric"]["MetricName"] == name
        assert [render(d["Value"]) for d in stat["Metric"]["Dimensions"]] == [dlq]


def test_oldest_queued_job_alarm(synth: Synth) -> None:
    props = _alarms(synth)["OldestQueuedJob"]
    assert props["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert props["Threshold"] == 600
    queue = f"<{synth.logical_id(synth.stack.jobs.queue)}.QueueName>"
    assert [render(d["Value"]) for d in props["Dimensions"]] == [queue]


def _topic_statements(synth: Synth) -> dict[str, dict]:
    (policy,) = synth.resources("AWS::SNS::TopicPolicy").values()
    topic = synth.logical_id(synth.stack.monitoring.topic)
    assert policy["Properties"]["Topics"] == [{"Ref": topic}]
    return {st["Effect"]: st for st in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_alarm_topic_refuses_plain_http_and_lets_this_stages_alarms_publish(synth: Synth) -> None:
    # Given the topic's policy: one Deny, one Allow
    deny, allow = (_topic_statements(synth)[e] for e in ("Deny", "Allow"))
    topic = {"Ref": synth.logical_id(synth.stack.monitoring.topic)}
    # Then plain HTTP is still refused to everyone
    assert deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # And CloudWatch may publish, for this account's alarms named after this stage only
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert (allow["Action"], allow["Resource"]) == ("sns:Publish", topic)
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    pattern = render(allow["Condition"]["ArnLike"]["aws:SourceArn"])
    assert pattern == ALARM_ARN.format("StyleMixer-dev-*")


def test_every_alarm_may_publish_to_the_topic_it_notifies(synth: Synth) -> None:
    # Given each alarm's ARN as CloudWatch presents it when it publishes (aws:SourceArn), and the
    # policy's statements evaluated for a request over TLS from this account
    allow = _topic_statements(synth)["Allow"]
    pattern = render(allow["Condition"]["ArnLike"]["aws:SourceArn"])
    topic = synth.logical_id(synth.stack.monitoring.topic)
    for alarm in synth.stack.monitoring.alarms:
        props = synth.props(alarm)
        source_arn = (
            f"arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:{props['AlarmName']}"
        )
        # Then the Allow matches it, and the alarm notifies that topic
        assert fnmatch.fnmatchcase(source_arn, pattern), props["AlarmName"]
        assert props["AlarmActions"] == [{"Ref": topic}]
    # And an alarm of another stage would not match
    assert not fnmatch.fnmatchcase(
        "arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:StyleMixer-prod-DeadLetters",
        pattern,
    )


def test_a_dev_stage_without_alarm_email_warns_that_no_one_is_told(synth: Synth) -> None:
    from aws_cdk.assertions import Annotations, Match

    # Given cdk.json's defaults (stage dev, no alarm_email): no subscription, no budget e-mail, and
    # a warning saying so for each
    assert synth.resources("AWS::SNS::Subscription") == {}
    (budget,) = synth.resources("AWS::Budgets::Budget").values()
    assert "NotificationsWithSubscribers" not in budget["Properties"]
    warnings = Annotations.from_stack(synth.stack).find_warning(
        "*", Match.string_like_regexp(".*alarm_email.*")
    )
    assert sorted(str(w.entry.data).split(":")[1].strip() for w in warnings) == [
        "its alarms reach no one. Give -c alarm_email=you@example.org to be told. [ack",
        "its budget tells no one when it is spent. [ack",
    ]


def test_dashboard_shows_the_alarms_and_the_service_metrics(synth: Synth) -> None:
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    body = render(dashboard["Properties"]["DashboardBody"])
    for needle in (
        "JobsSubmitted",
        "JobsSucceeded",
        "JobsFailed",
        "StylizeSeconds",
        "CPUUtilization",
        "MemoryUtilization",
        "ApproximateAgeOfOldestMessage",
        "RequestsRefused",
        '"alarms"',
    ):
        assert needle in body, needle
    # The service's own metrics are this stage's: every one names it, and the failures' search too
    assert body.count('"stage","dev"') >= 7
    assert 'stage=\\"dev\\"' in body


def test_outputs_name_the_site_the_api_the_bucket_and_the_dashboard(synth: Synth) -> None:
    outputs = synth.cfn["Outputs"]
    assert set(outputs) >= {OUTPUT_SITE_URL, OUTPUT_API_URL, OUTPUT_DATA_BUCKET, OUTPUT_DASHBOARD}
    distribution = synth.logical_id(synth.stack.site.distribution)
    assert render(outputs[OUTPUT_SITE_URL]["Value"]) == f"https://<{distribution}.DomainName>"
    api = synth.logical_id(synth.stack.api.http_api)
    assert render(outputs[OUTPUT_API_URL]["Value"]) == f"<{api}.ApiEndpoint>"
    assert outputs[OUTPUT_DATA_BUCKET]["Value"] == {"Ref": synth.logical_id(synth.stack.storage.data)}
