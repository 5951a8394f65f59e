"""Functions: one container image, four handlers, and for each only the grants it needs.

- the API (``functions.api.handler.handler``, a command override): signs uploads, checks them,
  counts each client's limits, writes jobs, enqueues them, signs result URLs, deletes a job for its
  owner; it never imports torch;
- the worker (the image's default command): reads uploads, stylizes, writes results;
- the dead-letter consumer (``functions.dead_letters.handler.handler``): marks a job failed when its
  message gave up, so no job stays queued or running forever;
- the sweeper (``functions.sweeper.handler.handler``, on an hourly schedule): fails a job that
  waited longer than the queue keeps its message.

What each role allows comes from :mod:`stylemixer.permissions`, the list the local stack enforces
with the same grants; Lambda's own needs (the function's log group, X-Ray) are added here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aws_cdk import Duration, IgnoreMode, RemovalPolicy, Size
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from cdk_nag import RegexAppliesTo
from constructs import Construct

from stylemixer.admission import Capacity, ClientLimits
from stylemixer.admission.environment import admission_environment
from stylemixer.permissions import GRANTS, Function, Target, index_arn, object_arns, policy_document
from stylemixer.resources import (
    API_HANDLER,
    DLQ_HANDLER,
    DLQ_HANDLER_TIMEOUT_SECONDS,
    ENV_BUCKET,
    ENV_MAX_RECEIVE_COUNT,
    ENV_QUEUE_RETENTION_SECONDS,
    ENV_QUEUE_URL,
    ENV_QUOTA_TABLE,
    ENV_STAGE,
    ENV_TABLE,
    METRICS_NAMESPACE,
    QUEUED_INDEX,
    SERVICE_NAME,
    SWEEP_EVERY_MINUTES,
    SWEEPER_HANDLER,
    SWEEPER_TIMEOUT_SECONDS,
    WORKER_HANDLER,
    WORKER_MALLOC_ARENA_MAX,
)
from stylemixer_cdk.nag import suppress

if TYPE_CHECKING:
    from stylemixer_cdk.admission import Admission
    from stylemixer_cdk.config import StackConfig
    from stylemixer_cdk.jobs import Jobs
    from stylemixer_cdk.storage import Storage

#: The build context of the image: the repository root, which holds the ``Dockerfile``.
PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: What the image's build context leaves out (``.dockerignore`` says the same, for plain
#: ``docker build``): the image needs the two packages, ``pyproject.toml``, the README it names and
#: the lock in ``requirements/``.
IMAGE_EXCLUDE = (
    ".git",
    ".venv",
    "**/node_modules",
    "cdk.out",
    "cdk",
    "tests",
    "bench",
    "static_site",
    "docs",
    "scripts",
    ".stamps",
    "out",
    "artifacts",
    "stylemixer/data",
    "**/__pycache__",
    "**/*.pyc",
    "**/.pytest_cache",
    "**/.ruff_cache",
    "*.egg-info",
)


@dataclass(frozen=True)
class FunctionSpec:
    """What differs between the three functions; everything else is shared."""

    name: Function
    handler: str
    memory_mb: int
    timeout_seconds: int
    description: str
    ephemeral_mb: int = 512


class Functions(Construct):
    """The four Lambda functions built from the one ``Dockerfile`` image, and the sweeper's schedule."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StackConfig,
        storage: Storage,
        jobs: Jobs,
        admission: Admission,
    ) -> None:
        super().__init__(scope, id_)
        self._config = config
        self.image = ecr_assets.DockerImageAsset(
            self,
            "Image",
            directory=str(PROJECT_ROOT),
            file="Dockerfile",
            platform=ecr_assets.Platform.LINUX_AMD64,
            exclude=list(IMAGE_EXCLUDE),
            ignore_mode=IgnoreMode.DOCKER,
        )
        shared_env = {
            ENV_BUCKET: storage.data.bucket_name,
            ENV_TABLE: jobs.table.table_name,
            ENV_QUEUE_URL: jobs.queue.queue_url,
            ENV_STAGE: config.stage,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }

        self.api = self._function(
            FunctionSpec(
                Function.API,
                API_HANDLER,
                config.api_memory_mb,
                config.api_timeout_seconds,
                "StyleMixer HTTP API: signs uploads, creates and reports jobs (no torch on this path).",
            ),
            # The limits per client, and admission control: the workers' count, rate and backlog.
            {
                **shared_env,
                ENV_QUOTA_TABLE: admission.quotas.table_name,
                **admission_environment(
                    ClientLimits(
                        jobs_per_hour=config.client_jobs_per_hour,
                        jobs_in_flight=config.client_jobs_in_flight,
                        upload_bytes_per_hour=config.client_upload_bytes_per_hour,
                        jobs_per_upload=config.jobs_per_upload,
                    ),
                    Capacity(
                        workers=config.worker_max_concurrency,
                        jobs_per_worker_minute=config.worker_jobs_per_minute,
                        backlog_minutes=config.admission_backlog_minutes,
                    ),
                ),
            },
        )
        self.worker = self._function(
            FunctionSpec(
                Function.WORKER,
                WORKER_HANDLER,
                config.worker_memory_mb,
                config.worker_timeout_seconds,
                "StyleMixer worker: stylizes one queued job on the CPU.",
                ephemeral_mb=config.worker_ephemeral_mb,
            ),
            # The worker fails a job for good on the receive the queue's redrive policy makes the
            # last: both come from the one max_receive_count setting.
            # Its peak memory is the same under any load with two glibc heaps (see resources).
            {
                **shared_env,
                ENV_MAX_RECEIVE_COUNT: str(config.max_receive_count),
                "MALLOC_ARENA_MAX": WORKER_MALLOC_ARENA_MAX,
            },
        )
        self.dead_letters = self._function(
            FunctionSpec(
                Function.DEAD_LETTERS,
                DLQ_HANDLER,
                512,
                DLQ_HANDLER_TIMEOUT_SECONDS,
                "StyleMixer dead-letter consumer: marks jobs whose message gave up as failed.",
            ),
            shared_env,
        )
        self.sweeper = self._function(
            FunctionSpec(
                Function.SWEEPER,
                SWEEPER_HANDLER,
                512,
                SWEEPER_TIMEOUT_SECONDS,
                "StyleMixer sweeper: fails jobs that waited longer than the queue keeps messages.",
            ),
            # The queue's own retention, from the same settings: a job queued longer has no message.
            {**shared_env, ENV_QUEUE_RETENTION_SECONDS: str(config.queue_retention_seconds)},
        )

        self.by_function = {
            Function.API: self.api,
            Function.WORKER: self.worker,
            Function.DEAD_LETTERS: self.dead_letters,
            Function.SWEEPER: self.sweeper,
        }
        # Each role allows what its function's code calls, from the one list the local stack
        # enforces too; statements go to the role's default policy, which each function (and so
        # each event source mapping) is created after.
        arns = {
            **object_arns(storage.data.bucket_arn),
            Target.JOBS_TABLE: jobs.table.table_arn,
            Target.QUEUED_INDEX: index_arn(jobs.table.table_arn, QUEUED_INDEX),
            Target.QUOTAS_TABLE: admission.quotas.table_arn,
            Target.JOBS_QUEUE: jobs.queue.queue_arn,
            Target.DEAD_LETTER_QUEUE: jobs.dead_letters.queue_arn,
        }
        for function, fn in self.by_function.items():
            for statement in policy_document(GRANTS[function], arns)["Statement"]:
                fn.add_to_role_policy(
                    iam.PolicyStatement(actions=statement["Action"], resources=[statement["Resource"]])
                )

        # Batch size 1: a job is minutes of CPU; one message per invocation keeps retries per job.
        # Mappings with ids of their own (SqsEventSource would name them after the queue's path), so
        # their logical ids are the same whether the stack is deployed by hand or by the pipeline.
        self.worker.add_event_source_mapping(
            "JobsQueue",
            event_source_arn=jobs.queue.queue_arn,
            batch_size=1,
            report_batch_item_failures=True,
            max_concurrency=config.worker_max_concurrency,
        )
        self.dead_letters.add_event_source_mapping(
            "DeadLetterQueue",
            event_source_arn=jobs.dead_letters.queue_arn,
            batch_size=10,
            report_batch_item_failures=True,
            max_concurrency=2,
        )
        # EventBridge runs the sweeper hourly (a retry or two if Lambda refuses the invocation).
        self.sweep_schedule = events.Rule(
            self,
            "SweepSchedule",
            description="StyleMixer: fail the jobs that waited longer than the queue keeps messages",
            schedule=events.Schedule.rate(Duration.minutes(SWEEP_EVERY_MINUTES)),
            targets=[targets.LambdaFunction(self.sweeper, retry_attempts=2)],
        )
        # The target's permission is named after the rule's path, which differs between a plain
        # deploy and the pipeline's stages: a fixed id keeps the two templates the same.
        for child in self.sweep_schedule.node.children:
            if child.node.id.startswith("AllowEventRule") and isinstance(child, lambda_.CfnPermission):
                child.override_logical_id("FunctionsSweepScheduleInvokesSweeper")
        for fn in self.by_function.values():
            self._suppress_wildcards(fn)

    def _function(self, spec: FunctionSpec, env: dict[str, str]) -> lambda_.DockerImageFunction:
        log_group = logs.LogGroup(
            self,
            f"{spec.name}Logs",
            retention=self._config.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Our own role, not AWSLambdaBasicExecutionRole: it may write to its own log group only.
        role = iam.Role(
            self,
            f"{spec.name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"StyleMixer {spec.name} function",
        )
        log_group.grant(role, "logs:CreateLogStream", "logs:PutLogEvents")
        return lambda_.DockerImageFunction(
            self,
            spec.name.value,
            code=lambda_.DockerImageCode.from_ecr(
                self.image.repository, tag_or_digest=self.image.image_tag, cmd=[spec.handler]
            ),
            description=spec.description,
            architecture=lambda_.Architecture.X86_64,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            ephemeral_storage_size=Size.mebibytes(spec.ephemeral_mb),
            environment=dict(env),
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
        )

    @staticmethod
    def _suppress_wildcards(fn: lambda_.DockerImageFunction) -> None:
        suppress(
            fn.role,
            "AwsSolutions-IAM5",
            "Object keys are minted per upload and per job, so grants name a key prefix "
            "(uploads/* or results/*), never the whole bucket. X-Ray and ECR's GetAuthorizationToken "
            "support no resource-level permissions.",
            applies_to=[
                RegexAppliesTo(
                    regex=r"/^Resource::<StorageDataBucket[0-9A-F]+\.Arn>\/(uploads|results)\/\*$/"
                ),
                "Resource::*",
            ],
            children=True,
        )
