"""AWS clients give up inside their function's timeout: a stalled call ends as our own answer."""

from __future__ import annotations

import json
import os
import socket
import textwrap
import threading
from typing import TYPE_CHECKING

import pytest

from stylemixer import resources
from stylemixer.resources import (
    API_CLIENT_TIMEOUTS,
    API_TIMEOUT_SECONDS,
    DLQ_HANDLER_TIMEOUT_SECONDS,
    WORKER_CLIENT_TIMEOUTS,
    WORKER_TIMEOUT_SECONDS,
    ClientTimeouts,
)
from tests.support.environment import HANDLER_ENV, run_python

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.mark.parametrize(
    ("timeouts", "function_timeout"),
    [
        (API_CLIENT_TIMEOUTS, API_TIMEOUT_SECONDS),
        (API_CLIENT_TIMEOUTS, DLQ_HANDLER_TIMEOUT_SECONDS),
        (WORKER_CLIENT_TIMEOUTS, WORKER_TIMEOUT_SECONDS),
    ],
    ids=["api", "dead-letters", "worker"],
)
def test_one_stalled_call_ends_inside_the_functions_timeout(
    timeouts: ClientTimeouts, function_timeout: int
) -> None:
    assert timeouts.worst_seconds < function_timeout


def test_the_worst_case_counts_every_attempt_and_the_back_off_between() -> None:
    assert ClientTimeouts(connect=1, read=2, attempts=1).worst_seconds == 3
    assert ClientTimeouts(connect=1, read=2, attempts=3).worst_seconds == 3 * 3 + (1 + 2)


@pytest.fixture
def stalled_endpoint() -> Iterator[str]:
    """An endpoint that accepts connections and never answers (an AWS service having a bad moment)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    listener.close()


_CALL_THE_API = textwrap.dedent(
    """
    import copy, json, sys, time
    from pathlib import Path
    import functions.api.handler as api
    from stylemixer.local.context import LambdaContext

    event = copy.deepcopy(json.loads(Path("tests/events/apigw_http_v2.json").read_text()))
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/jobs/" + "0" * 32
    event["requestContext"]["http"]["method"] = "GET"
    event.pop("body", None)

    context = LambdaContext("stylemixer-api", memory_limit_in_mb=512, timeout_seconds=10)
    started = time.monotonic()
    response = api.handler(event, context)
    print(json.dumps({"seconds": time.monotonic() - started, "status": response["statusCode"],
                      "body": json.loads(response["body"])}))
    """
)


@pytest.mark.slow
def test_a_stalled_aws_call_ends_as_our_json_error_inside_the_api_timeout(stalled_endpoint: str) -> None:
    # Given the API function whose DynamoDB (every AWS service) accepts connections and never answers
    env = {
        **os.environ,
        **HANDLER_ENV,
        "AWS_ENDPOINT_URL": stalled_endpoint,
        resources.ENV_QUEUE_URL: f"{stalled_endpoint}/123456789012/{resources.JOBS_QUEUE}",
    }
    # When a caller asks for a job
    run = run_python("-c", _CALL_THE_API, env=env, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    # Then the answer is our 500, not API Gateway's timeout: the call gave up after its attempts
    # (each waiting out its read timeout; a lower bound, which a busy machine cannot break), and
    # those attempts at their worst end before the function's 10 s are up (the configuration's
    # sum: how long this run took on a busy machine is no measure of it)
    assert (report["status"], report["body"]["error"]["code"]) == (500, "InternalError")
    reads = API_CLIENT_TIMEOUTS.attempts * API_CLIENT_TIMEOUTS.read
    assert report["seconds"] >= reads - 0.5
    assert API_CLIENT_TIMEOUTS.worst_seconds < API_TIMEOUT_SECONDS
