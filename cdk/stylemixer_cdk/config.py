"""The stack's settings, read from ``cdk.json`` context (or ``-c key=value``) and validated once.

Every setting has a default that deploys a working service; ``cdk.json`` lists them all so an
operator sees what can be changed. Values given with ``-c`` on the command line arrive as strings
(``-c worker_memory_mb=4096``), so numbers, booleans and lists are coerced here, and anything out of
range stops the synthesis with a sentence naming the key, rather than a failed deployment later.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Any, ClassVar, Self

from aws_cdk import aws_logs as logs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from stylemixer.errors import StyleMixerError
from stylemixer.limits import (
    ADMISSION_BACKLOG_MINUTES,
    CLIENT_JOBS_IN_FLIGHT,
    CLIENT_JOBS_PER_HOUR,
    CLIENT_UPLOAD_BYTES_PER_HOUR,
    MAX_JOBS_PER_UPLOAD,
    WORKER_JOBS_PER_MINUTE,
)
from stylemixer.resources import (
    API_CLIENT_TIMEOUTS,
    API_MEMORY_MB,
    API_TIMEOUT_SECONDS,
    DATA_BUCKET,
    MAX_RECEIVE_COUNT,
    VISIBILITY_TIMEOUT_FACTOR,
    WORKER_CLIENT_TIMEOUTS,
    WORKER_EPHEMERAL_MB,
    WORKER_MEMORY_MB,
    WORKER_TIMEOUT_SECONDS,
    queue_retention_seconds,
    worst_clip_seconds,
    worst_job_seconds,
)

#: Retention periods CloudWatch Logs accepts, in days, and their names in CDK's enum.
LOG_RETENTION_DAYS: dict[int, str] = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
    60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS", 150: "FIVE_MONTHS", 180: "SIX_MONTHS",
    365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS",
    1096: "THREE_YEARS", 1827: "FIVE_YEARS", 2192: "SIX_YEARS", 2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS", 3288: "NINE_YEARS", 3653: "TEN_YEARS",
}  # fmt: skip

#: Stages that may deploy without anyone to alarm: ``dev`` and ``dev-<name>``. Any other stage must
#: name ``alarm_email``, or its alarms would fire to a topic no one reads.
UNWATCHED_STAGE = re.compile(r"^dev(-[a-z0-9-]+)?$")
#: The worker's CPU alarm: every vCPU the function has (Lambda's allocation, not the CPUs it can see)
#: busy for 15 minutes. A painting job keeps torch's threads busy but reads, decodes and saves on
#: one, so a normal busy worker averages below this; see docs/operators.md.
WORKER_CPU_ALARM_PERCENT = 95
#: The worker's memory alarm: one invocation's peak within 15 % of the function's memory (a 50 MP
#: job peaks near 2.7 GB, 66 % of the default 4,096 MB).
WORKER_MEMORY_ALARM_PERCENT = 85

_ORIGIN = re.compile(r"^(https://[a-z0-9.-]+(:\d{1,5})?|http://(localhost|127\.0\.0\.1)(:\d{1,5})?)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ContextError(StyleMixerError):
    """A ``cdk.json`` context value is missing its mark: the stack is not synthesized."""

    code = "InvalidContext"
    status = 400


class ContextModel(BaseModel):
    """Settings read from CDK context: validated once, with refusals a person can act on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Unknown keys starting with this are refused outright: they can only have been meant for us.
    OWN_PREFIX: ClassVar[str | None] = None

    @classmethod
    def setting_names(cls) -> tuple[str, ...]:
        """The context keys this model reads (CDK's own keys are left alone)."""
        return tuple(cls.model_fields)

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> Self:
        """Validate the settings found in a CDK context dictionary.

        Keys this model does not know are ignored, except near-misses of its own keys, which are
        refused with a suggestion (a typo would otherwise silently deploy the default).

        Example:
            >>> StackConfig.from_context({"worker_memory_mbs": 4096})
            Traceback (most recent call last):
            ...
            stylemixer_cdk.config.ContextError: Unknown cdk.json context key 'worker_memory_mbs'; did you mean 'worker_memory_mb'?
        """  # noqa: E501
        keys = cls.setting_names()
        for key in context:
            if key in keys:
                continue
            near = difflib.get_close_matches(key, keys, n=1, cutoff=0.85)
            if near:
                raise ContextError(message=f"Unknown cdk.json context key {key!r}; did you mean {near[0]!r}?")
            if cls.OWN_PREFIX and key.startswith(cls.OWN_PREFIX):
                raise ContextError(
                    message=f"Unknown cdk.json context key {key!r}; the known ones are {', '.join(keys)}."
                )
        values = {k: v for k, v in context.items() if k in keys}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(_problem(err) for err in exc.errors())
            raise ContextError(message=f"Invalid cdk.json context: {problems}.") from None


def _problem(err: Any) -> str:
    """One pydantic error as a phrase naming the key, what is wrong, and what was given."""
    key = ".".join(str(p) for p in err["loc"]) or "context"
    if err["type"] == "missing":
        return f"{key}: required; give it in cdk.json or with -c {key}=..."
    return f"{key}: {err['msg']} (got {err.get('input')!r})"


class StackConfig(ContextModel):
    """Validated settings of one deployment (a *stage*).

    Example:
        >>> context = {"stage": "prod", "alarm_email": "ops@example.org", "worker_memory_mb": "4096"}
        >>> StackConfig.from_context(context).worker_memory_mb
        4096
    """

    #: Lower-case name of the deployment; part of the stack name and the data bucket's name.
    stage: str = Field("dev", pattern=r"^[a-z][a-z0-9-]{0,11}$")
    #: Where alarm notifications go; required but for development stages (see UNWATCHED_STAGE).
    alarm_email: str | None = None
    #: Origins allowed besides the site's own CloudFront origin (e.g. a custom domain).
    allowed_origins: tuple[str, ...] = ()

    # The API function: small, no torch on its path.
    api_memory_mb: int = Field(API_MEMORY_MB, ge=128, le=10240)
    api_timeout_seconds: int = Field(API_TIMEOUT_SECONDS, ge=1, le=29)
    # HTTP API stage throttling, requests per second and burst, for everyone together (API Gateway
    # counts no client apart; the limits per client below, and the optional WAF, do). The routes
    # that cost money are throttled far below the one the page polls: a flood of submissions cannot
    # take the polls' share, nor the polls the submissions'.
    #: Every route without a throttle of its own (GET /health, /styles, /openapi.json, $default).
    api_rate_limit: int = Field(20, ge=1, le=10000)
    api_burst_limit: int = Field(40, ge=1, le=5000)
    #: GET /jobs/{job_id}: the page polls it about once a second while a job moves, less while it
    #: waits, so 100 a second is 100 to 300 people watching their pictures at once.
    api_read_rate_limit: int = Field(100, ge=1, le=10000)
    api_read_burst_limit: int = Field(200, ge=1, le=5000)
    #: POST /uploads, POST /jobs, DELETE /jobs/{job_id}: a person makes one of each a minute or so;
    #: 5 a second is 300 a minute, far more than the five workers paint (see admission below).
    api_write_rate_limit: int = Field(5, ge=1, le=10000)
    api_write_burst_limit: int = Field(10, ge=1, le=5000)

    # Limits per client, counted by the API in the quotas table (stylemixer/limits.py: each reason).
    client_jobs_per_hour: int = Field(CLIENT_JOBS_PER_HOUR, ge=1, le=100_000)
    client_jobs_in_flight: int = Field(CLIENT_JOBS_IN_FLIGHT, ge=1, le=1000)
    client_upload_mb_per_hour: int = Field(CLIENT_UPLOAD_BYTES_PER_HOUR // (1024 * 1024), ge=25, le=1_000_000)
    jobs_per_upload: int = Field(MAX_JOBS_PER_UPLOAD, ge=1, le=10_000)
    # Admission control: POST /jobs answers busy while the queue holds more than this many minutes
    # of the workers' work, counted at this many jobs a worker a minute (a measured estimate).
    worker_jobs_per_minute: float = Field(WORKER_JOBS_PER_MINUTE, gt=0, le=1000)
    admission_backlog_minutes: float = Field(ADMISSION_BACKLOG_MINUTES, gt=0, le=24 * 60)

    # The optional AWS WAF at the site's CloudFront (about 7 USD a month at rest, see
    # docs/operators.md). It serves the API under /api/* on the site's own address (same origin),
    # and limits requests per address before they reach API Gateway or a Lambda function.
    waf_enabled: bool = False
    #: Requests under /api/ from one address in any 5 minutes (10 a second: a campus's pollers).
    waf_api_requests_per_5_minutes: int = Field(3000, ge=10, le=2_000_000_000)
    #: Requests other than GET under /api/ (uploads, jobs, deletes) from one address in 5 minutes.
    waf_writes_per_5_minutes: int = Field(300, ge=10, le=2_000_000_000)

    # The worker: the one function that runs torch.
    worker_memory_mb: int = Field(WORKER_MEMORY_MB, ge=1024, le=10240)
    worker_timeout_seconds: int = Field(WORKER_TIMEOUT_SECONDS, ge=60, le=900)
    #: The worker's disk: a clip and its painting at once (stylemixer.resources.WORKER_EPHEMERAL_MB).
    worker_ephemeral_mb: int = Field(WORKER_EPHEMERAL_MB, ge=512, le=10240)
    #: Most worker instances the queue's event source runs at once (SQS maximum concurrency).
    worker_max_concurrency: int = Field(5, ge=2, le=1000)
    #: Receives before a job's message moves to the dead-letter queue.
    max_receive_count: int = Field(MAX_RECEIVE_COUNT, ge=1, le=1000)

    # Data lifetime.
    uploads_expire_days: int = Field(1, ge=1, le=3650)
    results_expire_days: int = Field(7, ge=1, le=3650)
    log_retention_days: int = 30
    #: Keep the buckets and the table when the stack is deleted (production); default removes them.
    retain_data: bool = False

    #: The monthly cost budget in USD (AWS Budgets): alarm_email is told at 80 % of it spent, and
    #: when the month's forecast passes it. The budget covers the account's whole bill.
    budget_monthly_usd: float = Field(50, gt=0, le=1_000_000)

    # Alarm thresholds.
    #: The request alarm fires when the API answers this share of what GET /jobs/{job_id}'s throttle
    #: allows in 5 minutes (polls are most requests): the page's polls will soon be refused.
    api_requests_alarm_percent: float = Field(50, gt=0, le=100)
    #: Jobs submitted in 5 minutes above which the jobs alarm fires; unset, what the workers finish
    #: in 5 minutes (worker_max_concurrency x worker_jobs_per_minute x 5): the queue is growing.
    jobs_submitted_alarm_threshold: int | None = Field(None, ge=1)
    worker_cpu_alarm_percent: float = Field(WORKER_CPU_ALARM_PERCENT, gt=0, le=100)
    worker_memory_alarm_percent: float = Field(WORKER_MEMORY_ALARM_PERCENT, gt=0, le=100)
    oldest_message_alarm_seconds: int = Field(600, ge=60, le=1209600)

    @field_validator("alarm_email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> str | None:
        if value in (None, ""):
            return None
        if not isinstance(value, str) or not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> tuple[str, ...]:
        if value in (None, ""):
            return ()
        if isinstance(value, str):
            value = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
        if not isinstance(value, list | tuple):
            raise ValueError("must be a list of origins or a comma-separated string")
        origins = tuple(str(v).strip() for v in value if str(v).strip())
        for origin in origins:
            if not _ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: write https://host[:port] with no path "
                    "(http:// only for localhost)"
                )
        return origins

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs keeps logs for one of {list(LOG_RETENTION_DAYS)} days")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Refuse settings that would deploy a stack which misbehaves: each check names its keys.

        (A :class:`ContextError` passes through pydantic unchanged: its sentence is the message.)
        """
        if self.alarm_email is None and not UNWATCHED_STAGE.match(self.stage):
            raise ContextError(
                message=f"alarm_email is required for stage {self.stage!r}: its alarms would reach no one. "
                "Set it in cdk.json or give -c alarm_email=you@example.org (only dev stages may go without)."
            )
        worst = max(worst_job_seconds(self.worker_memory_mb), worst_clip_seconds(self.worker_memory_mb))
        if self.worker_timeout_seconds < worst:
            raise ContextError(
                message=f"worker_timeout_seconds: {self.worker_timeout_seconds} s is shorter than the "
                f"slowest job takes at worker_memory_mb={self.worker_memory_mb} (about {worst:.0f} s, "
                "the longest clip); raise the timeout or the memory."
            )
        for key, timeout, client in (
            ("api_timeout_seconds", self.api_timeout_seconds, API_CLIENT_TIMEOUTS),
            ("worker_timeout_seconds", self.worker_timeout_seconds, WORKER_CLIENT_TIMEOUTS),
        ):
            if timeout <= client.worst_seconds:
                raise ContextError(
                    message=f"{key}: {timeout} s leaves no time for one stalled AWS call, which may take "
                    f"{client.worst_seconds:g} s; give more than that."
                )
        try:
            queue_retention_seconds(self.max_receive_count, self.queue_visibility_seconds)
        except ValueError as exc:
            raise ContextError(
                message=f"max_receive_count: {exc} (the queue's visibility is 6 x worker_timeout_seconds)."
            ) from None
        return self

    @property
    def client_upload_bytes_per_hour(self) -> int:
        """``client_upload_mb_per_hour`` in bytes, as the API counts them."""
        return self.client_upload_mb_per_hour * 1024 * 1024

    @property
    def jobs_submitted_alarm(self) -> int:
        """The jobs alarm's threshold: the setting, else what the workers finish in 5 minutes."""
        if self.jobs_submitted_alarm_threshold is not None:
            return self.jobs_submitted_alarm_threshold
        return max(1, round(self.worker_max_concurrency * self.worker_jobs_per_minute * 5))

    @property
    def watched(self) -> bool:
        """Whether anyone is told of the alarms (an e-mail subscription to the topic)."""
        return self.alarm_email is not None

    @property
    def queue_retention_seconds(self) -> int:
        """How long the jobs queue keeps a message: every receive fits, after a day of backlog."""
        return queue_retention_seconds(self.max_receive_count, self.queue_visibility_seconds)

    @property
    def log_retention(self) -> logs.RetentionDays:
        """``log_retention_days`` as CDK's enum."""
        return logs.RetentionDays[LOG_RETENTION_DAYS[self.log_retention_days]]

    @property
    def queue_visibility_seconds(self) -> int:
        """The jobs queue's visibility timeout: a receive outlives the longest worker run, with margin."""
        return VISIBILITY_TIMEOUT_FACTOR * self.worker_timeout_seconds

    def data_bucket_name(self, account: str, region: str) -> str:
        """The data bucket's physical name, known before deployment.

        The site's content security policy names the bucket, and the bucket's CORS rule names the
        site, so one of the two must be known up front; a name built from the stage, the account
        and the region is, and stays unique.

        Example:
            >>> StackConfig().data_bucket_name("123456789012", "eu-west-1")
            'stylemixer-data-dev-123456789012-eu-west-1'
        """
        return f"{DATA_BUCKET}-{self.stage}-{account}-{region}"
