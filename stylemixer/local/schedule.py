"""An EventBridge schedule on one machine: invoke a handler every so often with a scheduled event.

The local stack runs the sweeper this way, as the deployed stack's rule runs it; the handler is
loaded on the first run, in this thread, with its function's role (see :mod:`stylemixer.local.stack`).
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stylemixer.local.context import LOCAL_ACCOUNT, LOCAL_REGION, LambdaContext

if TYPE_CHECKING:
    from collections.abc import Callable

    Handler = Callable[[dict[str, Any], Any], Any]

log = logging.getLogger(__name__)


def scheduled_event(rule: str, now: datetime | None = None) -> dict[str, Any]:
    """The event EventBridge sends a function for one run of a scheduled rule.

    Example:
        >>> scheduled_event("sweep")["detail-type"]
        'Scheduled Event'
    """
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT,
        "time": moment,
        "region": LOCAL_REGION,
        "resources": [f"arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:rule/{rule}"],
        "detail": {},
    }


class Schedule(threading.Thread):
    """Runs ``load_handler()``'s handler every ``every_seconds`` until :meth:`stop` (first after one period).

    Example:
        >>> runs = []
        >>> schedule = Schedule(lambda: lambda event, context: runs.append(event["source"]),
        ...                     every_seconds=60, function_name="stylemixer-sweeper")
        >>> schedule.run_once(), runs
        (True, ['aws.events'])
    """

    def __init__(
        self,
        load_handler: Callable[[], Handler],
        *,
        every_seconds: float,
        function_name: str,
        timeout_seconds: float = 60,
    ) -> None:
        super().__init__(name=f"schedule-{function_name}", daemon=True)
        self._load_handler = load_handler
        self._handler: Handler | None = None
        self.every_seconds = every_seconds
        self.function_name = function_name
        self.timeout_seconds = timeout_seconds
        self._stopping = threading.Event()
        self.runs = 0

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.wait(self.every_seconds):
            self.run_once()

    def run_once(self) -> bool:
        """One run; False if the handler raised (logged: the schedule goes on, as EventBridge's does)."""
        if self._handler is None:
            self._handler = self._load_handler()
        context = LambdaContext(
            self.function_name, memory_limit_in_mb=512, timeout_seconds=self.timeout_seconds
        )
        self.runs += 1
        try:
            self._handler(scheduled_event(self.function_name), context)
        except Exception:
            log.exception("%s raised on its schedule", self.function_name)
            return False
        return True
