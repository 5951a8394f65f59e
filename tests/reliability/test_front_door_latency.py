"""The local front door answers a kept-alive connection without the 40 ms Nagle/delayed-ACK stall.

It writes the headers and the body of an answer in two sends; with Nagle's algorithm on, the body
waits for the client's delayed ACK (40 ms on Linux) on every request of a kept-alive connection,
which alone broke the load goal (GET /jobs p99 <= 50 ms). What is guarded here is the setting
(every accepted connection is TCP_NODELAY), which no machine's load can change; the latency itself
is measured by ``python -m bench.load`` (``make bench``), where a busy machine shows in the figures.
"""

from __future__ import annotations

import socket
import threading
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
    # Given one kept-alive connection, as a polling page or client has, to a front door whose
    # handler notes how each connection it accepts is set
    seen: list[int] = []

    class Noting(door.RequestHandlerClass):  # type: ignore[name-defined,misc]
        def setup(self) -> None:
            super().setup()
            seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    door.RequestHandlerClass = Noting
    session = requests.Session()
    url = f"http://127.0.0.1:{door.server_address[1]}/api/health"
    # When it asks thirty times in a row
    answers = [session.get(url, timeout=10).status_code for _ in range(30)]
    # Then every answer comes, all on the one connection, and that connection is TCP_NODELAY (the
    # body's send never waits on the client's delayed ACK)
    assert answers == [200] * 30
    assert len(seen) == 1
    assert seen[0] != 0


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
