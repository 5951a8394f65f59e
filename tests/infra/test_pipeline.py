"""The optional delivery pipeline: source, test-and-synth step, stages, approvals; nag and lint clean."""

from __future__ import annotations

import json
import shlex
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from stylemixer_cdk.config import ContextError
from stylemixer_cdk.pipeline import (
    PIPELINE_APP,
    TEST_COMMANDS,
    TORCH_CPU_INDEX,
    PipelineConfig,
    pipeline_env,
    service_settings,
)

from tests.support.cfn import cdk_context, nag_suppressions, run_cdk_entry
from tests.support.paths import ROOT

if TYPE_CHECKING:
    from pathlib import Path

    from stylemixer_cdk.pipeline import PipelineStack

    from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra

BIN = ROOT / ".venv" / "bin"
CONNECTION = "arn:aws:codeconnections:eu-west-1:123456789012:connection/0f1e2d3c-4b5a-6789-abcd-ef0123456789"
PIPELINE_CONTEXT = {
    "pipeline_repository": "octo-org/stylemixer",
    "pipeline_branch": "release",
    "pipeline_connection_arn": CONNECTION,
    "pipeline_stages": "staging,prod",
    "pipeline_approval_stages": "prod",
}


@dataclass(frozen=True)
class PipelineSynth:
    stack: PipelineStack
    cfn: dict[str, Any]
    stage_templates: dict[str, dict[str, Any]]

    def pipeline(self) -> dict[str, Any]:
        (pipeline,) = [
            r for r in self.cfn["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"
        ]
        return pipeline["Properties"]

    def synth_project(self) -> dict[str, Any]:
        synth_id = self.stack.resolve(
            self.stack.get_logical_id(self.stack.synth_step.project.node.default_child)  # type: ignore[union-attr]
        )
        return self.cfn["Resources"][synth_id]["Properties"]


#: What a team deploying staging and prod commits to cdk.json: everything as is, and who hears alarms.
COMMITTED = {**cdk_context(), "alarm_email": "ops@example.org"}


@pytest.fixture(scope="module")
def pipe(tmp_path_factory: pytest.TempPathFactory) -> PipelineSynth:
    """Given the pipeline app with two stages and an approval before prod, synthesized with cdk-nag,
    from a cdk.json that names the alarm e-mail (stages other than dev need one)."""
    from aws_cdk import App, assertions
    from stylemixer_cdk import build_pipeline_app, pipeline

    app = App(context={**COMMITTED, **PIPELINE_CONTEXT}, outdir=str(tmp_path_factory.mktemp("cdk.out.pipe")))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "committed_settings", lambda: dict(COMMITTED))
        stack = build_pipeline_app(app, default_account="123456789012", default_region="eu-west-1")
    cfn = assertions.Template.from_stack(stack).to_json()
    stages = {s.node.id: assertions.Template.from_stack(s.service).to_json() for s in stack.stages}
    return PipelineSynth(stack=stack, cfn=cfn, stage_templates=stages)


def test_source_is_the_named_repository_branch_and_connection(pipe: PipelineSynth) -> None:
    source = pipe.pipeline()["Stages"][0]
    assert source["Name"] == "Source"
    (action,) = source["Actions"]
    assert action["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert action["Configuration"] == {
        "ConnectionArn": CONNECTION,
        "FullRepositoryId": "octo-org/stylemixer",
        "BranchName": "release",
        "DetectChanges": True,
    }


def test_synth_step_installs_the_project_runs_the_tests_then_synthesizes(pipe: PipelineSynth) -> None:
    # Given the synth step's CodeBuild project
    project = pipe.synth_project()
    spec = json.loads(project["Source"]["BuildSpec"])
    install = spec["phases"]["install"]["commands"]
    build = spec["phases"]["build"]["commands"]
    # Then it sets the project up the way a developer does, with CPU-only torch
    assert install == ["make setup"]
    env = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
    assert env["PIP_EXTRA_INDEX_URL"] == TORCH_CPU_INDEX
    # And runs lint and every test but the browser ones before it synthesizes anything
    assert build[: len(TEST_COMMANDS)] == list(TEST_COMMANDS)
    assert "-m 'not e2e'" in build[1]
    # And its synthesis reproduces this very pipeline (the same app, the same pipeline settings)
    words = shlex.split(build[-1])
    assert words[:3] == ["npx", "--yes", "aws-cdk@2"]
    assert words[words.index("--app") + 1] == PIPELINE_APP
    given = dict(words[i + 1].split("=", 1) for i, w in enumerate(words) if w == "-c")
    assert PipelineConfig.from_context(given) == PipelineConfig.from_context(
        {**PIPELINE_CONTEXT, "pipeline_account": "123456789012", "pipeline_region": "eu-west-1"}
    )
    assert spec["artifacts"]["base-directory"] == "cdk.out"


def test_pipeline_is_v2_updates_itself_and_publishes_the_image(pipe: PipelineSynth) -> None:
    pipeline = pipe.pipeline()
    assert pipeline["PipelineType"] == "V2"
    names = [s["Name"] for s in pipeline["Stages"]]
    assert names[:4] == ["Source", "Build", "UpdatePipeline", "Assets"]
    # The image is built by the pipeline's asset publishing, in a project allowed to run Docker
    assets = next(s for s in pipeline["Stages"] if s["Name"] == "Assets")
    (image,) = [a for a in assets["Actions"] if a["Name"] == "Functions_Image"]
    project_id = image["Configuration"]["ProjectName"]["Ref"]
    assert pipe.cfn["Resources"][project_id]["Properties"]["Environment"]["PrivilegedMode"] is True


def test_stages_deploy_the_service_stack_in_order_with_approval_where_asked(pipe: PipelineSynth) -> None:
    stages = {s["Name"]: s for s in pipe.pipeline()["Stages"]}
    names = [s["Name"] for s in pipe.pipeline()["Stages"]]
    # Then staging comes before prod
    assert names[-2:] == ["staging", "prod"]
    for stage in ("staging", "prod"):
        actions = sorted(stages[stage]["Actions"], key=lambda a: a["RunOrder"])
        deploys = [a for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation"]
        # Each deploys StyleMixer-<stage>, the same stack name a plain `cdk deploy` uses
        assert {a["Configuration"]["StackName"] for a in deploys} == {f"StyleMixer-{stage}"}
        manual = [a for a in actions if a["ActionTypeId"]["Category"] == "Approval"]
        if stage == "prod":
            # And prod waits for a person first
            assert len(manual) == 1
            assert actions[0] is manual[0]
        else:
            assert manual == []


def test_each_stage_is_the_plain_service_stack(pipe: PipelineSynth, synth: Synth) -> None:
    # Given the plain stack (the `synth` fixture, dev: no alarm e-mail) and the pipeline's stages
    plain = {(k, v["Type"]) for k, v in synth.cfn["Resources"].items()}
    for stage, template in pipe.stage_templates.items():
        # Then the stage holds the same resources, under the same logical ids, and the e-mail
        # subscription its committed alarm_email adds
        resources = {(k, v["Type"]) for k, v in template["Resources"].items()}
        assert {t for _, t in resources - plain} == {"AWS::SNS::Subscription"}, stage
        assert plain <= resources, stage
        assert set(template["Outputs"]) == set(synth.cfn["Outputs"])


def test_plain_app_has_no_pipeline(synth: Synth) -> None:
    from aws_cdk import Stack

    stacks = [c for c in synth.stack.node.root.node.children if isinstance(c, Stack)]
    assert [s.stack_name for s in stacks] == ["StyleMixer-dev"]


def test_cdk_nag_reports_nothing_unsuppressed_in_the_pipeline_or_its_stages(pipe: PipelineSynth) -> None:
    from aws_cdk.assertions import Annotations, Match

    for stack in (pipe.stack, *(s.service for s in pipe.stack.stages)):
        annotations = Annotations.from_stack(stack)
        for find in (annotations.find_error, annotations.find_warning):
            found = find("*", Match.string_like_regexp("AwsSolutions-.*"))
            assert [f"{m.id}: {str(m.entry.data)[:120]}" for m in found] == [], stack.stack_name


def test_pipeline_suppressions_carry_reasons_and_name_their_wildcards(pipe: PipelineSynth) -> None:
    rules = nag_suppressions(pipe.cfn)
    assert rules
    for logical_id, rule in rules:
        assert len(rule["reason"]) >= 40, logical_id
        if rule["id"] == "AwsSolutions-IAM5":
            assert rule.get("applies_to"), logical_id
    assert "cdk_nag" not in pipe.cfn.get("Metadata", {})


def test_cfn_lint_finds_no_error_in_the_pipeline_or_its_stages(pipe: PipelineSynth, tmp_path: Path) -> None:
    files = []
    for name, template in {"pipeline": pipe.cfn, **pipe.stage_templates}.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(template), encoding="utf-8")
        files.append(str(path))
    run = subprocess.run(
        [str(BIN / "cfn-lint"), "--format", "parseable", "--", *files],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode & 0b11 == 0, run.stdout + run.stderr
    assert [line for line in run.stdout.splitlines() if ":E" in line] == []


@pytest.mark.parametrize(
    ("context", "words"),
    [
        ({}, ["pipeline_repository: required", "pipeline_connection_arn: required"]),
        ({**PIPELINE_CONTEXT, "pipeline_connection_arn": "arn:aws:s3:::bucket"}, ["connection ARN"]),
        ({**PIPELINE_CONTEXT, "pipeline_repository": "just-a-name"}, ["pipeline_repository"]),
        (
            {**PIPELINE_CONTEXT, "pipeline_approval_stages": "production"},
            ["production", "not in pipeline_stages"],
        ),
        ({**PIPELINE_CONTEXT, "pipeline_stages": "prod,prod"}, ["named twice"]),
        ({**PIPELINE_CONTEXT, "pipeline_stages": "Prod"}, ["'Prod' is not a stage name"]),
        (
            {**PIPELINE_CONTEXT, "pipeline_approvals": "prod"},
            ["pipeline_approvals", "pipeline_approval_stages"],
        ),
        ({**PIPELINE_CONTEXT, "pipeline_manual": "yes"}, ["Unknown", "pipeline_manual"]),
    ],
)
def test_bad_pipeline_context_is_refused_with_a_sentence(context: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ContextError) as caught:
        PipelineConfig.from_context(context)
    for word in words:
        assert word in caught.value.message


def test_service_settings_come_from_the_repository_only() -> None:
    # Given a service setting overridden on the command line
    context = {**cdk_context(), "worker_memory_mb": "4096"}
    # Then the pipeline refuses it (its next self-update would silently drop it)
    with pytest.raises(ContextError, match="worker_memory_mb is given on the command line"):
        service_settings(context)
    # And the committed values pass
    assert service_settings(cdk_context()) == cdk_context()


def test_pipeline_needs_an_account_and_a_region() -> None:
    config = PipelineConfig.from_context(PIPELINE_CONTEXT)
    with pytest.raises(ContextError, match="needs an account and a region"):
        pipeline_env(config, None, "eu-west-1")
    env = pipeline_env(config, "123456789012", "eu-west-1")
    assert (env.account, env.region) == ("123456789012", "eu-west-1")


def test_pipeline_refuses_stages_whose_alarms_would_reach_no_one(tmp_path: Path) -> None:
    # Given the repository's cdk.json as it is (no alarm_email) and stages staging and prod
    where = {"pipeline_account": "123456789012", "pipeline_region": "eu-west-1"}
    run = run_cdk_entry("pipeline_app.py", {**cdk_context(), **PIPELINE_CONTEXT, **where}, tmp_path)
    # Then the pipeline app stops with one line naming the setting and the first such stage
    assert run.returncode == 2
    lines = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert lines == [line for line in lines if "alarm_email is required for stage 'staging'" in line] != []
    assert "Traceback" not in run.stderr


def test_pipeline_app_refuses_missing_settings_without_a_traceback(tmp_path: Path) -> None:
    run = run_cdk_entry("pipeline_app.py", cdk_context(), tmp_path)
    assert run.returncode == 2
    assert "error: Invalid cdk.json context: pipeline_repository: required" in run.stderr
    assert "Traceback" not in run.stderr
