"""The handlers' settings from environment variables, validated once at cold start.

A missing or malformed variable stops the function at start with one message naming every problem
(and the variable to set), instead of a ``KeyError`` on the first request.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from stylemixer.limits import (
    ADMISSION_BACKLOG_MINUTES,
    CLIENT_JOBS_IN_FLIGHT,
    CLIENT_JOBS_PER_HOUR,
    CLIENT_UPLOAD_BYTES_PER_HOUR,
    MAX_JOBS_PER_UPLOAD,
    WORKER_JOBS_PER_MINUTE,
)
from stylemixer.resources import (
    ENV_ALLOWED_ORIGINS,
    ENV_BACKLOG_MINUTES,
    ENV_BUCKET,
    ENV_CLIENT_JOBS_IN_FLIGHT,
    ENV_CLIENT_JOBS_PER_HOUR,
    ENV_CLIENT_UPLOAD_BYTES_PER_HOUR,
    ENV_JOBS_PER_UPLOAD,
    ENV_MAX_RECEIVE_COUNT,
    ENV_ORIGIN_VERIFY,
    ENV_QUEUE_RETENTION_SECONDS,
    ENV_QUEUE_URL,
    ENV_QUOTA_TABLE,
    ENV_SITE_URL,
    ENV_STAGE,
    ENV_TABLE,
    ENV_WORKER_JOBS_PER_MINUTE,
    ENV_WORKERS,
)

if TYPE_CHECKING:
    from collections.abc import Mapping


class ConfigError(RuntimeError):
    """The function's environment is incomplete or wrong (an operator's problem, never a caller's)."""


class Settings(BaseModel):
    """What the API and the worker need to know about their surroundings.

    Example:
        >>> Settings.from_env({"STYLEMIXER_BUCKET": "data", "STYLEMIXER_TABLE": "jobs"}).bucket
        'data'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    bucket: str = Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]+[a-z0-9]$")
    table: str = Field(min_length=3, max_length=255, pattern=r"^[A-Za-z0-9_.-]+$")
    queue_url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2048)
    allowed_origins: tuple[str, ...] = ()
    site_url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2048)
    #: The deployment's stage, a dimension of every custom metric (the CDK app sets it).
    stage: str = Field(default="unnamed", pattern=r"^[a-z][a-z0-9-]{0,31}$")
    #: The queue's maxReceiveCount: the worker fails a job for good on that receive.
    max_receive_count: int | None = Field(default=None, ge=1, le=1000)
    #: The API's limits per client, counted in this table (see stylemixer.limits for each reason).
    quota_table: str | None = Field(default=None, min_length=3, max_length=255, pattern=r"^[A-Za-z0-9_.-]+$")
    client_jobs_per_hour: int = Field(default=CLIENT_JOBS_PER_HOUR, ge=1, le=100_000)
    client_jobs_in_flight: int = Field(default=CLIENT_JOBS_IN_FLIGHT, ge=1, le=1000)
    client_upload_bytes_per_hour: int = Field(default=CLIENT_UPLOAD_BYTES_PER_HOUR, ge=1)
    jobs_per_upload: int = Field(default=MAX_JOBS_PER_UPLOAD, ge=1, le=10_000)
    #: Admission control: workers running at once (the queue's event source's maximum concurrency),
    #: jobs each finishes a minute, minutes of their work the queue may hold. No workers: no limit.
    workers: int | None = Field(default=None, ge=1, le=10_000)
    worker_jobs_per_minute: float = Field(default=WORKER_JOBS_PER_MINUTE, gt=0, le=1000)
    backlog_minutes: float = Field(default=ADMISSION_BACKLOG_MINUTES, gt=0, le=24 * 60)
    #: How long the jobs queue keeps a message (the sweeper fails jobs queued longer than that).
    queue_retention_seconds: int | None = Field(default=None, ge=60, le=14 * 24 * 3600)
    #: With the API behind the site's CloudFront: what CloudFront sends to prove a request came
    #: through it (see stylemixer.resources.ORIGIN_VERIFY_HEADER).
    origin_verify: str | None = Field(default=None, min_length=16, max_length=256)

    @field_validator("allowed_origins")
    @classmethod
    def _origins_are_urls(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(f"{origin!r} is not an origin like https://example.com")
        return origins

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        require_queue: bool = False,
        require_max_receive_count: bool = False,
        require_quotas: bool = False,
    ) -> Settings:
        """Read and check the variables; raise :class:`ConfigError` naming each one that is wrong."""
        env = os.environ if environ is None else environ
        names = {
            "bucket": ENV_BUCKET,
            "table": ENV_TABLE,
            "queue_url": ENV_QUEUE_URL,
            "allowed_origins": ENV_ALLOWED_ORIGINS,
            "site_url": ENV_SITE_URL,
            "stage": ENV_STAGE,
            "max_receive_count": ENV_MAX_RECEIVE_COUNT,
            "quota_table": ENV_QUOTA_TABLE,
            "client_jobs_per_hour": ENV_CLIENT_JOBS_PER_HOUR,
            "client_jobs_in_flight": ENV_CLIENT_JOBS_IN_FLIGHT,
            "client_upload_bytes_per_hour": ENV_CLIENT_UPLOAD_BYTES_PER_HOUR,
            "jobs_per_upload": ENV_JOBS_PER_UPLOAD,
            "workers": ENV_WORKERS,
            "worker_jobs_per_minute": ENV_WORKER_JOBS_PER_MINUTE,
            "backlog_minutes": ENV_BACKLOG_MINUTES,
            "queue_retention_seconds": ENV_QUEUE_RETENTION_SECONDS,
            "origin_verify": ENV_ORIGIN_VERIFY,
        }
        raw: dict[str, object] = {field: env[name] for field, name in names.items() if env.get(name)}
        if "allowed_origins" in raw:
            raw["allowed_origins"] = tuple(
                o.strip().rstrip("/") for o in str(raw["allowed_origins"]).split(",") if o.strip()
            )
        problems: list[str] = []
        if require_queue and "queue_url" not in raw:
            problems.append(f"{ENV_QUEUE_URL}: required by the API function")
        if require_max_receive_count and "max_receive_count" not in raw:
            problems.append(f"{ENV_MAX_RECEIVE_COUNT}: required by the worker (the queue's maxReceiveCount)")
        if require_quotas and "quota_table" not in raw:
            problems.append(f"{ENV_QUOTA_TABLE}: required by the API function (the limits per client)")
        try:
            settings = cls.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else ""
                problems.append(f"{names.get(field, field)}: {error['msg']}")
            settings = None
        if problems or settings is None:
            raise ConfigError("StyleMixer is not configured: " + "; ".join(problems) + ".")
        return settings
