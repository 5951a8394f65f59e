"""The local front door answers a kept-alive connection without the 40 ms Nagle/delayed-ACK stall.

It writes the headers and the body of an answer in two sends; with Nagle's algorithm on, the body
waits for the client's delayed ACK (40 ms on Linux) on every request of a kept-alive connection,
which alone broke the load goal (GET /jobs p99 <= 50 ms).
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
import requests

from stylemixer.local.server import make_front_door
from tests.support.environment import run_python
from tests.support.paths import ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator

    from stylemixer.local.server import FrontDoor


def _ok(_event: dict[str, Any], _context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"status": "ok"}'}


@pytest.fixture
def door() -> Iterator[FrontDoor]:
    server = make_front_door(
        "127.0.0.1", 0, site_dir=ROOT / "static_site", storage_origin="http://127.0.0.1:1"
    )
    server.api_handler = _ok
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_kept_alive_requests_are_answered_without_a_delayed_ack_stall(door: FrontDoor) -> None:
    # Given one kept-alive connection, as a polling page or client has
    session = requests.Session()
    url = f"http://127.0.0.1:{door.server_address[1]}/api/health"
    session.get(url, timeout=10)
    # When it asks thirty times in a row
    times = []
    for _ in range(30):
        started = time.perf_counter()
        assert session.get(url, timeout=10).status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    # Then the typical answer takes a few milliseconds, not the 40 ms of a delayed ACK
    assert statistics.median(times) < 20, f"median {statistics.median(times):.1f} ms"


def test_the_embedded_aws_answers_with_nagle_off() -> None:
    # Given moto's server as the embedded AWS's child process runs it (here in a child of the test
    # too: moto keeps its backends per process, the functional harness's included)
    probe = (
        "from stylemixer.local.aws import serve_moto_in_thread\n"
        "import urllib.request\n"
        "server = serve_moto_in_thread()\n"
        "endpoint = 'http://%s:%d' % server.get_host_and_port()\n"
        "handler = server._server.RequestHandlerClass\n"
        "with urllib.request.urlopen(endpoint + '/moto-api/data.json', timeout=10) as answer:\n"
        "    print(handler.disable_nagle_algorithm, answer.status)\n"
        "server.stop()\n"
    )
    # When it is asked how its connections are set
    out = run_python("-c", probe, timeout=60, check=True).stdout.split()
    # Then every connection it accepts is TCP_NODELAY (each S3/DynamoDB/SQS call of the handlers
    # would otherwise wait on delayed ACKs), and it still answers
    assert out == ["True", "200"]
