"""A stand-in for the context object Lambda passes to a handler.

Powertools reads ``function_name``, ``memory_limit_in_mb``, ``invoked_function_arn`` and
``aws_request_id`` for its structured logs; handlers may ask ``get_remaining_time_in_millis()`` to
stop before the timeout. Locally nothing kills the call at the deadline: the figure is informative.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT = "123456789012"


@dataclass
class LambdaContext:
    """What Lambda's Python runtime hands a handler as ``context``, for one invocation.

    Example:
        >>> ctx = LambdaContext("stylemixer-api", memory_limit_in_mb=1024, timeout_seconds=10)
        >>> 0 < ctx.get_remaining_time_in_millis() <= 10_000
        True
    """

    function_name: str
    memory_limit_in_mb: int = 1024
    timeout_seconds: float = 30.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{self.function_name}"

    @property
    def identity(self) -> None:
        return None

    @property
    def client_context(self) -> None:
        return None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before this invocation's timeout (never negative)."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))
