"""The handlers' settings from environment variables, validated once at cold start.

A missing or malformed variable stops the function at start with one message naming every problem
(and the variable to set), instead of a ``KeyError`` on the first request.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from stylemixer.resources import (
    ENV_ALLOWED_ORIGINS,
    ENV_BUCKET,
    ENV_MAX_RECEIVE_COUNT,
    ENV_QUEUE_URL,
    ENV_SITE_URL,
    ENV_STAGE,
    ENV_TABLE,
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
