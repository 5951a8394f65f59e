"""A local stack in a process of its own, for tests that need more than ``stylemixer serve`` offers.

``python -m tests.support.stack_child '{"without": [["Worker", "s3:GetObject", "uploads"]]}'``
starts :class:`~stylemixer.local.stack.LocalStack` with those permissions taken from the roles and
an operator (an IAM user allowed everything), prints one line, ``READY`` and a JSON object (the
page's URL, the embedded AWS's endpoint, the operator's credentials), and serves until its standard
input closes. Its output is the stack's log (the handlers' JSON lines at WARNING and above). Other
options: ``max_receive_count``, ``limits`` (:class:`~stylemixer.admission.ClientLimits`'s fields),
``capacity`` (:class:`~stylemixer.admission.Capacity`'s) and ``sweep_every_seconds``.

:func:`child_stack` runs it from a test or a benchmark.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stylemixer import resources
from stylemixer.admission import Capacity, ClientLimits
from stylemixer.local.iam import Credentials
from stylemixer.local.process import child_environment
from stylemixer.local.stack import LOCAL_SWEEP_SECONDS, LocalStack
from stylemixer.permissions import GRANTS, Function, Grant, Target
from tests.support.paths import ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator


def without(removed: list[list[str]]) -> dict[Function, tuple[Grant, ...]]:
    """The deployed grants with each ``[function, action, target]`` taken away."""
    grants = dict(GRANTS)
    for function_name, action, target_name in removed:
        function, target = Function(function_name), Target(target_name)
        kept = []
        for grant in grants[function]:
            actions = tuple(a for a in grant.actions if not (a == action and grant.target is target))
            if actions:
                kept.append(Grant(actions, grant.target, grant.why))
        grants[function] = tuple(kept)
    return grants


def main(argv: list[str]) -> int:
    options: dict[str, Any] = json.loads(argv[0]) if argv else {}
    stack = LocalStack(
        port=0,
        grants=without(options.get("without", [])),
        max_receive_count=int(options.get("max_receive_count", 3)),
        operator=True,
        limits=ClientLimits(**options["limits"]) if "limits" in options else None,
        capacity=Capacity(**options["capacity"]) if "capacity" in options else None,
        sweep_every_seconds=float(options.get("sweep_every_seconds", LOCAL_SWEEP_SECONDS)),
    )
    stack.start()
    try:
        assert stack.operator is not None
        ready = {
            "url": stack.url,
            "endpoint": stack.endpoint_url,
            "operator": [stack.operator.access_key_id, stack.operator.secret_access_key],
        }
        print("READY " + json.dumps(ready), flush=True)
        sys.stdin.read()  # until the test closes the pipe
    finally:
        stack.stop()
    return 0


@dataclass
class ChildStack:
    """A running stack child: the page's URL, the embedded AWS, its operator, and its output."""

    url: str
    endpoint: str
    operator: Credentials
    lines: list[tuple[float, str]] = field(default_factory=list)

    def client(self, service: str) -> Any:
        """A client of the embedded AWS, as the operator (allowed everything)."""
        return self.operator.client(service, self.endpoint)

    def job(self, job_id: str) -> dict[str, Any]:
        """The job's item in the embedded table."""
        key = {resources.TABLE_PARTITION_KEY: {"S": job_id}}
        return self.client("dynamodb").get_item(TableName=resources.JOBS_TABLE, Key=key)["Item"]


@contextmanager
def child_stack(options: dict[str, Any], *, env: dict[str, str] | None = None) -> Iterator[ChildStack]:
    """Run the stack child with ``options`` until the block ends; its output is kept, line by line.

    Example (not run by the test suite: a stack takes seconds to start):
        >>> with child_stack({"sweep_every_seconds": 1}) as stack:  # doctest: +SKIP
        ...     requests.get(stack.url + "api/health").status_code
        200
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.stack_child", json.dumps(options)],
        cwd=ROOT,
        env={**child_environment(env), "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[tuple[float, str]] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append((time.monotonic(), line))
            if line.startswith("READY "):
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(90) or not any(line.startswith("READY ") for _, line in lines):
            raise RuntimeError("the stack did not start:\n" + "".join(line for _, line in lines))
        ready_line = next(line for _, line in lines if line.startswith("READY "))
        info = json.loads(ready_line.removeprefix("READY "))
        yield ChildStack(info["url"], info["endpoint"], Credentials(*info["operator"]), lines)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
