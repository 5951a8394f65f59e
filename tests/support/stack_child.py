"""A local stack in a process of its own, for tests that need more than ``stylemixer serve`` offers.

``python -m tests.support.stack_child '{"without": [["Worker", "s3:GetObject", "uploads"]]}'``
starts :class:`~stylemixer.local.stack.LocalStack` with those permissions taken from the roles and
an operator (an IAM user allowed everything), prints one line, ``READY`` and a JSON object (the
page's URL, the embedded AWS's endpoint, the operator's credentials), and serves until its standard
input closes. Its output is the stack's log (the handlers' JSON lines at WARNING and above).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from stylemixer.local.stack import LocalStack
from stylemixer.permissions import GRANTS, Function, Grant, Target


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


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
