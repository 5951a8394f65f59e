"""Settings from cdk.json context: validated defaults, coercion of -c strings, clear refusals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from stylemixer_cdk.config import ContextError, StackConfig

from stylemixer.resources import (
    ENV_ALLOWED_ORIGINS,
    ENV_MAX_RECEIVE_COUNT,
    ENV_STAGE,
    RESULTS_PREFIX,
    UPLOADS_PREFIX,
    VISIBILITY_TIMEOUT_FACTOR,
)
from tests.support.cfn import cdk_context, render, run_cdk_entry

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.infra


def test_cdk_json_lists_every_setting_with_its_default() -> None:
    # Given cdk.json's context without CDK's own keys
    ours = {k: v for k, v in cdk_context().items() if not k.startswith("@") and ":" not in k}
    # Then it names every setting, and each value is the model's default
    assert set(ours) == set(StackConfig.setting_names())
    defaults = StackConfig().model_dump()
    for key, value in ours.items():
        expected = defaults[key]
        if key == "alarm_email":
            expected = expected or ""
        if key == "allowed_origins":
            expected = list(expected)
        assert value == expected, key


def test_strings_from_the_command_line_are_coerced() -> None:
    config = StackConfig.from_context(
        {
            "worker_memory_mb": "4096",
            "retain_data": "true",
            "allowed_origins": "https://stylemixer.example.org, http://localhost:8000",
            "alarm_email": "ops@example.org",
        }
    )
    assert config.worker_memory_mb == 4096
    assert config.retain_data is True
    assert config.allowed_origins == ("https://stylemixer.example.org", "http://localhost:8000")
    assert config.alarm_email == "ops@example.org"


def test_origins_may_also_be_a_json_list() -> None:
    config = StackConfig.from_context({"allowed_origins": '["https://a.example.org"]'})
    assert config.allowed_origins == ("https://a.example.org",)


def test_visibility_timeout_follows_the_worker_timeout() -> None:
    config = StackConfig.from_context({"worker_timeout_seconds": 840})
    assert config.queue_visibility_seconds == VISIBILITY_TIMEOUT_FACTOR * 840


def test_keys_of_cdk_itself_are_left_alone() -> None:
    config = StackConfig.from_context(
        {"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True, "aws:cdk:enable-path-metadata": True}
    )
    assert config == StackConfig()


@pytest.mark.parametrize(
    ("context", "words"),
    [
        ({"worker_memory_mb": 20000}, ["worker_memory_mb", "10240", "20000"]),
        ({"worker_memory_mb": "lots"}, ["worker_memory_mb", "integer", "lots"]),
        ({"worker_timeout_seconds": 901}, ["worker_timeout_seconds", "900"]),
        ({"api_timeout_seconds": 30}, ["api_timeout_seconds", "29"]),
        ({"worker_max_concurrency": 1}, ["worker_max_concurrency", "2"]),
        ({"stage": "Prod!"}, ["stage", "Prod!"]),
        ({"stage": "a-very-long-stage-name"}, ["stage"]),
        ({"log_retention_days": 31}, ["log_retention_days", "30", "60"]),
        ({"alarm_email": "not-an-address"}, ["alarm_email", "not-an-address"]),
        ({"allowed_origins": "*"}, ["allowed_origins", "'*'", "https://host"]),
        ({"allowed_origins": "https://a.example.org/app"}, ["allowed_origins", "no path"]),
        ({"allowed_origins": "http://evil.example.org"}, ["allowed_origins", "localhost"]),
        ({"uploads_expire_days": 0}, ["uploads_expire_days"]),
        ({"worker_cpu_alarm_percent": 120}, ["worker_cpu_alarm_percent", "100"]),
        ({"worker_memroy_mb": 4096}, ["worker_memroy_mb", "did you mean", "worker_memory_mb"]),
        ({"stage": "prod"}, ["alarm_email is required for stage 'prod'", "reach no one"]),
        ({"stage": "staging", "alarm_email": ""}, ["alarm_email is required for stage 'staging'"]),
        (
            {"worker_memory_mb": 1024, "worker_timeout_seconds": 100},
            ["worker_timeout_seconds", "100 s", "worker_memory_mb=1024", "about 1911 s", "the longest clip"],
        ),
        ({"api_timeout_seconds": 7}, ["api_timeout_seconds", "7 s", "stalled AWS call"]),
    ],
)
def test_bad_values_are_refused_with_a_sentence_naming_the_key(
    context: dict[str, Any], words: list[str]
) -> None:
    # When the context holds a bad value
    with pytest.raises(ContextError) as caught:
        StackConfig.from_context(context)
    # Then the error is the project's, with a stable code, and its message names the problem
    assert caught.value.code == "InvalidContext"
    for word in words:
        assert word in caught.value.message
    assert "Traceback" not in caught.value.message


@pytest.mark.parametrize("stage", ["dev", "dev-alice"])
def test_dev_stages_may_deploy_without_an_alarm_email(stage: str) -> None:
    assert StackConfig.from_context({"stage": stage}).watched is False
    assert StackConfig.from_context({"stage": "prod", "alarm_email": "ops@example.org"}).watched is True


def test_deploying_prod_without_an_alarm_email_is_refused_in_one_line(tmp_path: Path) -> None:
    # When `cdk deploy -c stage=prod` runs the app (cdk.json names no alarm_email)
    run = run_cdk_entry("app.py", {**cdk_context(), "stage": "prod"}, tmp_path)
    # Then it stops before synthesizing anything, with one line that says what to give
    assert run.returncode == 2
    (line,) = [line for line in run.stderr.splitlines() if line.strip() and not line.startswith("b'")]
    assert line.startswith("error: alarm_email is required for stage 'prod'")
    assert "-c alarm_email=" in line
    assert not list(tmp_path.glob("*.template.json"))


def test_the_app_refuses_bad_context_without_a_traceback(tmp_path: Path) -> None:
    # Given the CDK CLI's way of passing context to the app (CDK_CONTEXT_JSON), with a bad value
    context = {**cdk_context(), "worker_memory_mb": 99999}
    # When the app runs as `cdk synth` would run it
    run = run_cdk_entry("app.py", context, tmp_path)
    # Then it stops with one clear line and no traceback
    assert run.returncode == 2
    assert "error: Invalid cdk.json context: worker_memory_mb" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    """A stack synthesized with non-default settings (without cdk-nag, to keep it quick)."""
    from aws_cdk import App, assertions
    from stylemixer_cdk import build_app

    context = {
        **cdk_context(),
        "stage": "prod",
        "alarm_email": "ops@example.org",
        "allowed_origins": "https://stylemixer.example.org",
        "results_expire_days": "3",
        "uploads_expire_days": 2,
        "max_receive_count": 5,
        "worker_timeout_seconds": 600,
        "worker_memory_mb": 4096,
        "api_rate_limit": 5,
        "api_burst_limit": 10,
        "retain_data": True,
    }
    app = App(context=context, outdir=str(tmp_path_factory.mktemp("cdk.out.custom")))
    stack = build_app(app, nag=False)
    return stack, assertions.Template.from_stack(stack).to_json()


def test_settings_reach_the_template(custom: tuple[Any, dict[str, Any]]) -> None:
    stack, cfn = custom
    res = cfn["Resources"]

    def props(construct: Any) -> dict[str, Any]:
        return res[stack.resolve(stack.get_logical_id(construct.node.default_child))]["Properties"]

    # The stack is named after the stage, and so is the data bucket
    assert stack.stack_name == "StyleMixer-prod"
    assert render(props(stack.storage.data)["BucketName"]).startswith("stylemixer-data-prod-")
    # Lifecycle
    rules = {
        r["Prefix"]: r["ExpirationInDays"]
        for r in props(stack.storage.data)["LifecycleConfiguration"]["Rules"]
    }
    assert rules == {UPLOADS_PREFIX: 2, RESULTS_PREFIX: 3}
    # CORS: the site and the extra origin, on the bucket and for the API function
    cors = props(stack.storage.data)["CorsConfiguration"]["CorsRules"][0]["AllowedOrigins"]
    assert [render(o) for o in cors][1:] == ["https://stylemixer.example.org"]
    origins = render(props(stack.functions.api)["Environment"]["Variables"][ENV_ALLOWED_ORIGINS])
    assert origins.endswith(",https://stylemixer.example.org")
    # Queue and worker
    queue = props(stack.jobs.queue)
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 5
    assert queue["VisibilityTimeout"] == VISIBILITY_TIMEOUT_FACTOR * 600
    assert props(stack.functions.worker)["Timeout"] == 600
    # the worker is told the same receive count, and the queue keeps messages long enough for all
    assert props(stack.functions.worker)["Environment"]["Variables"][ENV_MAX_RECEIVE_COUNT] == "5"
    assert queue["MessageRetentionPeriod"] >= 24 * 3600 + 5 * VISIBILITY_TIMEOUT_FACTOR * 600
    # the stage is every function's, and the alarms are named after it
    assert props(stack.functions.api)["Environment"]["Variables"][ENV_STAGE] == "prod"
    assert {props(a)["AlarmName"].rsplit("-", 1)[0] for a in stack.monitoring.alarms} == {"StyleMixer-prod"}
    assert props(stack.functions.worker)["MemorySize"] == 4096
    # Throttling
    (stage,) = [r for r in res.values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    assert stage["Properties"]["DefaultRouteSettings"]["ThrottlingRateLimit"] == 5
    assert stage["Properties"]["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 10
    # The alarm e-mail is subscribed
    (subscription,) = [r for r in res.values() if r["Type"] == "AWS::SNS::Subscription"]
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ops@example.org"
    # retain_data keeps the buckets and the table when the stack is deleted, and empties nothing
    for construct in (stack.storage.data, stack.storage.access_logs, stack.site.bucket, stack.jobs.table):
        logical_id = stack.resolve(stack.get_logical_id(construct.node.default_child))
        assert res[logical_id]["DeletionPolicy"] == "Retain", logical_id
    assert not [r for r in res.values() if r["Type"] == "Custom::S3AutoDeleteObjects"]
