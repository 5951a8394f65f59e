"""An optional CDK Pipelines pipeline: on every push it tests, builds the image and deploys the service.

The service stack does not change: each pipeline stage deploys the same ``StyleMixer-<stage>`` stack
a plain ``cdk deploy -c stage=<stage>`` would, so a stage can move from hand deploys to the pipeline
and back. The image is built and pushed by the pipeline's asset publishing (CodeBuild, with Docker),
never by hand. Service settings come from ``cdk.json`` in the repository, so a change to them is a
commit the pipeline tests and deploys like any other.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_cdk import Duration, Environment, Stack, Stage, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from cdk_nag import RegexAppliesTo
from pydantic import Field, field_validator, model_validator

from stylemixer_cdk.config import ContextError, ContextModel, StackConfig
from stylemixer_cdk.nag import suppress
from stylemixer_cdk.stack import StyleMixerStack
from stylemixer_cdk.storage import private_bucket

if TYPE_CHECKING:
    from constructs import Construct

ROOT = Path(__file__).resolve().parents[2]
#: How the pipeline's synth step runs this app (the same file an operator deploys the pipeline with).
PIPELINE_APP = ".venv/bin/python cdk/pipeline_app.py"
#: The pipeline stack's name.
PIPELINE_STACK = "StyleMixerPipeline"
#: torch's CPU wheels: `make setup` on a build machine must not fetch the CUDA build.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"

#: The tests the synth step runs: `.ci/run` runs `make test`, which is lint plus every test; the
#: build image has no browser, so the end-to-end tests (marker ``e2e``, a real Chromium against the
#: local stack) are left to `.ci/run` on a machine that has one.
TEST_COMMANDS = (
    "make lint",
    ".venv/bin/pytest -m 'not e2e' -p no:cacheprovider",
)

_CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[\w-]+$"
)
_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,11}$")


def _as_list(value: Any) -> Any:
    """``-c key=a,b`` arrives as a string; cdk.json may hold a list."""
    if isinstance(value, str):
        value = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return value


class PipelineConfig(ContextModel):
    """What the pipeline needs: the repository connection, the stages, the approvals.

    Example:
        >>> PipelineConfig.from_context({
        ...     "pipeline_repository": "octo/stylemixer",
        ...     "pipeline_connection_arn": f"arn:aws:codeconnections:eu-west-1:{12 * '1'}:connection/abc",
        ... }).pipeline_stages
        ('prod',)
    """

    OWN_PREFIX = "pipeline_"

    #: ``owner/name`` of the repository on GitHub (or another provider the connection reaches).
    pipeline_repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    pipeline_branch: str = Field("main", pattern=r"^[A-Za-z0-9._/-]+$", max_length=255)
    #: A CodeConnections (formerly CodeStar Connections) connection, made once in the console.
    pipeline_connection_arn: str
    #: Stages deployed in order, each a ``StyleMixer-<stage>`` stack.
    pipeline_stages: tuple[str, ...] = ("prod",)
    #: Stages that wait for a person to approve in the console before they deploy.
    pipeline_approval_stages: tuple[str, ...] = ()
    #: Where the pipeline (and its stages) live; default: the account and region of your credentials.
    pipeline_account: str | None = Field(None, pattern=r"^\d{12}$")
    pipeline_region: str | None = Field(None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")

    @field_validator("pipeline_connection_arn")
    @classmethod
    def _connection(cls, value: str) -> str:
        if not _CONNECTION_ARN.match(value):
            raise ValueError(
                "is not a connection ARN like arn:aws:codeconnections:eu-west-1:123456789012:connection/<id>"
            )
        return value

    @field_validator("pipeline_stages", "pipeline_approval_stages", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("pipeline_stages")
    @classmethod
    def _stages(cls, stages: tuple[str, ...]) -> tuple[str, ...]:
        if not stages:
            raise ValueError("name at least one stage")
        for stage in stages:
            if not _STAGE.match(stage):
                raise ValueError(f"{stage!r} is not a stage name (lower case, up to 12 characters)")
        if len(set(stages)) != len(stages):
            raise ValueError("a stage is named twice")
        return stages

    @model_validator(mode="after")
    def _approvals_name_stages(self) -> PipelineConfig:
        unknown = [s for s in self.pipeline_approval_stages if s not in self.pipeline_stages]
        if unknown:
            raise ValueError(f"pipeline_approval_stages names {unknown}, which are not in pipeline_stages")
        return self

    def synth_context_args(self, account: str, region: str) -> list[str]:
        """The ``-c`` arguments that make the pipeline's own synth reproduce this pipeline."""
        values = {
            "pipeline_repository": self.pipeline_repository,
            "pipeline_branch": self.pipeline_branch,
            "pipeline_connection_arn": self.pipeline_connection_arn,
            "pipeline_stages": ",".join(self.pipeline_stages),
            "pipeline_approval_stages": ",".join(self.pipeline_approval_stages),
            "pipeline_account": account,
            "pipeline_region": region,
        }
        return [f"-c {shlex.quote(f'{k}={v}')}" for k, v in values.items()]


def committed_settings() -> dict[str, Any]:
    """The context of the repository's ``cdk.json``: what the pipeline's self-update synthesizes from."""
    return json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]


def service_settings(app_context: dict[str, Any]) -> dict[str, Any]:
    """The service settings for the pipeline's stages: the repository's ``cdk.json``, nothing else.

    A ``-c`` override of a service setting would apply to this one deploy of the pipeline and then
    silently vanish at its next self-update (which synthesizes from the repository); it is refused.
    """
    committed = committed_settings()
    for key in StackConfig.setting_names():
        if key == "stage":
            continue
        if key in app_context and app_context[key] != committed.get(key):
            raise ContextError(
                message=(
                    f"{key} is given on the command line; the pipeline's stages take service settings "
                    "from cdk.json in the repository only. Commit the change to cdk.json instead."
                )
            )
    return committed


class ServiceStage(Stage):
    """One deployment of the service, as the pipeline deploys it."""

    def __init__(self, scope: Construct, id_: str, *, config: StackConfig, **kwargs: Any) -> None:
        super().__init__(scope, id_, **kwargs)
        name = f"StyleMixer-{config.stage}"
        self.service = StyleMixerStack(self, name, config=config, stack_name=name)


class PipelineStack(Stack):
    """The pipeline: source, synth (install, test, synthesize), asset publishing, the stages."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: PipelineConfig,
        service_context: dict[str, Any],
        env: Environment,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, env=env, description="StyleMixer delivery pipeline", **kwargs)
        account, region = str(env.account), str(env.region)

        logs = private_bucket(self, "AccessLogs", retain=False)
        suppress(logs, "AwsSolutions-S1", "This is the access-log bucket; it does not log itself.")
        artifacts = private_bucket(
            self,
            "Artifacts",
            retain=False,
            server_access_logs_bucket=logs,
            server_access_logs_prefix="artifacts/",
        )

        source = pipelines.CodePipelineSource.connection(
            config.pipeline_repository,
            config.pipeline_branch,
            connection_arn=config.pipeline_connection_arn,
            trigger_on_push=True,
        )
        synth_command = " ".join(
            [
                "npx --yes aws-cdk@2 synth --no-notices",
                f"--app {shlex.quote(PIPELINE_APP)}",
                *config.synth_context_args(account, region),
            ]
        )
        self.synth_step = pipelines.CodeBuildStep(
            "Synth",
            input=source,
            install_commands=["make setup"],
            commands=[*TEST_COMMANDS, synth_command],
            primary_output_directory="cdk.out",
            env={
                "PIP_EXTRA_INDEX_URL": TORCH_CPU_INDEX,
                "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
                "CDK_DISABLE_CLI_TELEMETRY": "true",
            },
            partial_build_spec=codebuild.BuildSpec.from_object(
                {"phases": {"install": {"runtime-versions": {"python": "3.12", "nodejs": "22"}}}}
            ),
            timeout=Duration.minutes(60),
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name="StyleMixer",
            pipeline_type=codepipeline.PipelineType.V2,
            synth=self.synth_step,
            artifact_bucket=artifacts,
            cross_account_keys=False,
            self_mutation=True,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_8_0,
                    compute_type=codebuild.ComputeType.MEDIUM,
                ),
            ),
        )
        self.stages: list[ServiceStage] = []
        for stage in config.pipeline_stages:
            stage_config = StackConfig.from_context({**service_context, "stage": stage})
            service = ServiceStage(self, stage, config=stage_config, env=env)
            pre = (
                [pipelines.ManualApprovalStep(f"Approve-{stage}", comment=f"Deploy StyleMixer-{stage}?")]
                if stage in config.pipeline_approval_stages
                else []
            )
            self.pipeline.add_stage(service, pre=pre)
            self.stages.append(service)
        self.pipeline.build_pipeline()
        # cfn-lint's E3703 wants the deploy actions' RoleArn as Fn::Sub, and CDK Pipelines writes the
        # bootstrap role's ARN as an equivalent Fn::Join; CloudFormation accepts both. Ignored on
        # this one resource only.
        cfn_pipeline = self.pipeline.pipeline.node.default_child
        cfn_pipeline.add_metadata("cfn-lint", {"config": {"ignore_checks": ["E3703"]}})  # type: ignore[union-attr]
        self._suppress()

    def _suppress(self) -> None:
        """The pipeline's roles and projects are written by aws-cdk-lib's pipelines module."""
        suppress(
            self.pipeline,
            "AwsSolutions-IAM5",
            "aws-cdk-lib's CDK Pipelines writes these grants: its CodeBuild projects' log groups and "
            "report groups (named by project, with a wildcard suffix), the artifact bucket's objects "
            "with S3's action groups, assuming the account's CDK bootstrap roles (self-mutation and "
            "asset publishing), and the few calls IAM cannot scope (cloudformation:DescribeStacks, "
            "s3:ListBucket on the bootstrap bucket, CodeBuild's StartBuild from the asset actions).",
            applies_to=[
                RegexAppliesTo(regex=r"/^Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*$/"),
                RegexAppliesTo(regex=r"/^Resource::<Artifacts[0-9A-F]+\.Arn>\/\*$/"),
                RegexAppliesTo(
                    regex=r"/^Resource::arn:<AWS::Partition>:logs:[a-z0-9-]+:\d{12}:log-group:\/aws\/codebuild\/.*$/"
                ),
                RegexAppliesTo(
                    regex=r"/^Resource::arn:<AWS::Partition>:codebuild:[a-z0-9-]+:\d{12}:report-group\/.*$/"
                ),
                RegexAppliesTo(regex=r"/^Resource::arn:\*:iam::\d{12}:role\/\*$/"),
                "Resource::*",
            ],
            children=True,
        )
        suppress(
            self.pipeline,
            "AwsSolutions-CB4",
            "The build projects write to the artifact bucket, encrypted with S3-managed keys; a "
            "customer-managed KMS key would cost 1 USD a month at rest and protect nothing more here.",
            children=True,
        )


def pipeline_env(
    config: PipelineConfig, default_account: str | None, default_region: str | None
) -> Environment:
    """The pipeline's account and region: from context, else from the deployer's credentials."""
    account = config.pipeline_account or default_account
    region = config.pipeline_region or default_region
    if not account or not region:
        raise ContextError(
            message=(
                "The pipeline needs an account and a region: run with AWS credentials, or give "
                "-c pipeline_account=123456789012 -c pipeline_region=eu-west-1."
            )
        )
    return Environment(account=account, region=region)
