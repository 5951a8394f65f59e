"""The local front door: static files, config.json, and /api/... handed to a handler as events.

The handler here is a recorder, so these tests pin the front door's own behaviour; the real API
handler behind it is exercised by the end-to-end tests.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from stylemixer.local.gateway import DRAIN_BODY_BYTES, MAX_BODY_BYTES
from stylemixer.local.server import FrontDoor, ReadsFirstLock, make_front_door, resolve_static
from stylemixer.page import site_config

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

STORAGE = "http://127.0.0.1:5999"


class Recorder:
    """Stands in for the API handler: remembers each event and answers 200 with a JSON echo."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        self.contexts.append(context)
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(
                {"path": event["rawPath"], "method": event["requestContext"]["http"]["method"]}
            ),
        }


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "js").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title>", encoding="utf-8")
    (tmp_path / "js" / "main.js").write_text("export {};", encoding="utf-8")
    (tmp_path / "package.json").write_text("{}", encoding="utf-8")
    (tmp_path / "eslint.config.mjs").write_text("export default [];", encoding="utf-8")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.js").write_text("1", encoding="utf-8")
    (tmp_path / ".env").write_text("SECRET=1", encoding="utf-8")
    (tmp_path / "notes.py").write_text("print()", encoding="utf-8")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / "models" / "net.onnx").write_bytes(b"\x08\x08")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "rt.wasm").write_bytes(b"\x00asm\x01\x00\x00\x00")
    (tmp_path / "vendor" / "rt.mjs").write_text("export {};", encoding="utf-8")
    return tmp_path


@pytest.fixture
def door(site: Path) -> Iterator[tuple[FrontDoor, Recorder]]:
    server = make_front_door("127.0.0.1", 0, site_dir=site, storage_origin=STORAGE)
    recorder = Recorder()
    server.api_handler = recorder
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server, recorder
    server.shutdown()
    server.server_close()
    thread.join(5)


def request(
    server: FrontDoor,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read_body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def send_raw(server: FrontDoor, data: bytes) -> tuple[bytes, Any]:
    """``data`` sent as it is on a new connection: the answer's head, and its body read as JSON."""
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10) as conn:
        conn.sendall(data)
        answer = conn.makefile("rb").read()
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, json.loads(body)


def test_api_requests_reach_the_handler_as_events_without_the_prefix(
    door: tuple[FrontDoor, Recorder],
) -> None:
    server, recorder = door

    # When the page posts JSON to /api/jobs
    response = request(
        server, "POST", "/api/jobs?x=1", b'{"content": "u"}', {"Content-Type": "application/json"}
    )

    # Then the handler saw an HTTP API v2 event for /jobs, with a Lambda-like context
    assert response.status == 200
    assert json.loads(response.read_body) == {"path": "/jobs", "method": "POST"}  # type: ignore[attr-defined]
    event = recorder.events[-1]
    assert event["version"] == "2.0"
    assert event["body"] == '{"content": "u"}'
    assert event["headers"]["content-type"] == "application/json"
    assert recorder.contexts[-1].function_name == "stylemixer-api"
    assert recorder.contexts[-1].get_remaining_time_in_millis() > 0


def test_a_body_over_one_megabyte_is_refused_before_any_event(door: tuple[FrontDoor, Recorder]) -> None:
    server, recorder = door

    # When a body one byte over the limit arrives
    response = request(
        server, "POST", "/api/jobs", b"x" * (MAX_BODY_BYTES + 1), {"Content-Type": "text/plain"}
    )

    # Then it is a 413 in the API's error shape and the handler never ran
    assert response.status == 413
    assert json.loads(response.read_body)["error"]["code"] == "RequestTooLarge"  # type: ignore[attr-defined]
    assert recorder.events == []


def test_a_client_still_sending_a_large_body_reads_the_413(door: tuple[FrontDoor, Recorder]) -> None:
    # Given a client that sends an 8 MB body in one go (more than the sockets' buffers hold) and only
    # then reads the answer, as most clients do
    server, recorder = door
    body = b"x" * (8 * 1024 * 1024)
    assert MAX_BODY_BYTES < len(body) <= DRAIN_BODY_BYTES
    for _ in range(3):
        # When the door refuses it for its size
        response = request(server, "POST", "/api/jobs", body, {"Content-Type": "application/json"})
        # Then the client gets the 413 in the API's shape, not a reset connection or a broken pipe
        assert response.status == 413
        assert json.loads(response.read_body)["error"]["code"] == "RequestTooLarge"  # type: ignore[attr-defined]
    assert recorder.events == []


def test_a_body_too_large_to_drain_is_answered_at_once(door: tuple[FrontDoor, Recorder]) -> None:
    # Given a request declaring a 1 GB body and sending none of it
    server, recorder = door
    head, body = send_raw(server, b"POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n")
    # Then the door answers 413 without waiting for it, and closes
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"Connection: close" in head
    assert body["error"]["code"] == "RequestTooLarge"
    assert recorder.events == []


@pytest.mark.parametrize(
    "method", ["PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "PURGE", "QUERY"]
)
def test_every_method_reaches_the_api_as_api_gateways_default_route_would(
    door: tuple[FrontDoor, Recorder], method: str
) -> None:
    # When a method the API has no route for (QUERY: one http.server does not even know) comes to /api/...
    server, recorder = door
    response = request(server, method, "/api/health")
    # Then the API handler gets it (and answers it: 405 in its own shape, behind the real door)
    assert response.status == 200
    assert recorder.events[-1]["requestContext"]["http"]["method"] == method
    assert b"<html" not in response.read_body.lower()  # type: ignore[attr-defined]
    # While the site's own files refuse it
    assert request(server, method, "/index.html").status == 405


def test_a_malformed_request_is_refused_in_the_apis_shape_not_an_html_page(
    door: tuple[FrontDoor, Recorder],
) -> None:
    server, recorder = door
    head, body = send_raw(server, b"GET /api/health HTTP/1.1 and more words\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"Content-Type: application/json" in head
    assert body["error"]["code"] == "BadRequest"
    assert recorder.events == []


def test_a_body_at_the_limit_is_accepted(door: tuple[FrontDoor, Recorder]) -> None:
    server, recorder = door
    response = request(server, "POST", "/api/x", b"x" * MAX_BODY_BYTES, {"Content-Type": "text/plain"})
    assert response.status == 200
    assert len(recorder.events[-1]["body"]) == MAX_BODY_BYTES


def test_config_json_is_the_shared_site_config_pointing_at_api(door: tuple[FrontDoor, Recorder]) -> None:
    server, _ = door
    response = request(server, "GET", "/config.json")
    assert response.status == 200
    assert json.loads(response.read_body) == site_config("/api")  # type: ignore[attr-defined]


def test_the_page_is_served_with_a_strict_content_security_policy(door: tuple[FrontDoor, Recorder]) -> None:
    server, _ = door

    page = request(server, "GET", "/")
    script = request(server, "GET", "/js/main.js")

    assert page.status == 200
    assert page.getheader("Content-Type") == "text/html; charset=utf-8"
    csp = page.getheader("Content-Security-Policy") or ""
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert STORAGE in directives["connect-src"]
    assert STORAGE in directives["img-src"]
    assert script.status == 200
    assert script.getheader("Content-Type", "").startswith("text/javascript")
    assert page.getheader("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/models/manifest.json", "application/json"),
        ("/models/net.onnx", "application/octet-stream"),
        ("/vendor/rt.wasm", "application/wasm"),
        ("/vendor/rt.mjs", "text/javascript; charset=utf-8"),
        ("/js/main.js", "text/javascript; charset=utf-8"),
    ],
)
def test_preview_files_are_served_with_their_types_and_the_policy(
    door: tuple[FrontDoor, Recorder], path: str, content_type: str
) -> None:
    # The preview's worker, runtime and models: WebAssembly must be application/wasm to compile while
    # it downloads, and every file carries the page's policy (a worker runs under its script's own)
    server, _ = door
    page = request(server, "GET", "/")
    response = request(server, "GET", path)
    assert response.status == 200
    assert response.getheader("Content-Type") == content_type
    assert response.getheader("Content-Security-Policy") == page.getheader("Content-Security-Policy")


@pytest.mark.parametrize(
    "path",
    [
        "/package.json",
        "/eslint.config.mjs",
        "/node_modules/x.js",
        "/.env",
        "/notes.py",
        "/../pyproject.toml",
        "/%2e%2e/etc/passwd",
        "/nope",
    ],
)
def test_only_site_files_are_served(door: tuple[FrontDoor, Recorder], path: str) -> None:
    server, recorder = door
    response = request(server, "GET", path)
    assert response.status == 404
    assert recorder.events == []


@pytest.mark.parametrize("method", ["POST", "DELETE", "TRACE", "PROPFIND"])
def test_other_methods_outside_the_api_are_refused(door: tuple[FrontDoor, Recorder], method: str) -> None:
    server, recorder = door
    response = request(server, method, "/index.html", b"{}")
    assert response.status == 405
    assert response.getheader("Allow") == "GET, HEAD"
    assert json.loads(response.read_body)["error"]["code"] == "MethodNotAllowed"  # type: ignore[attr-defined]
    assert recorder.events == []


def test_a_handler_that_raises_becomes_a_plain_500(door: tuple[FrontDoor, Recorder]) -> None:
    server, _ = door

    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("secret detail")

    server.api_handler = broken
    response = request(server, "GET", "/api/health")
    assert response.status == 500
    assert b"secret" not in response.read_body  # type: ignore[attr-defined]


def test_resolve_static_maps_directories_to_index(site: Path) -> None:
    assert resolve_static(site, "/") == (site / "index.html").resolve()
    assert resolve_static(site, "/js/main.js") == (site / "js" / "main.js").resolve()
    assert resolve_static(site, "/js/") is None


def test_a_browser_leaving_mid_answer_is_not_reported(
    door: tuple[FrontDoor, Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    server, _ = door

    # When a reload cuts a connection while the door writes its answer
    try:
        raise BrokenPipeError(32, "Broken pipe")
    except BrokenPipeError:
        server.handle_error(None, ("127.0.0.1", 50000))

    # Then nothing is logged; but a real failure is
    assert [r for r in caplog.records if r.name == "stylemixer.local.server"] == []
    try:
        raise ValueError("a bug")
    except ValueError:
        server.handle_error(None, ("127.0.0.1", 50000))
    assert any("front door failed" in r.getMessage() for r in caplog.records)


def test_waiting_reads_go_before_waiting_writes_and_each_kind_keeps_its_order() -> None:
    # Given the API's lock held by a running invocation, and writes then reads queueing behind it
    lock = ReadsFirstLock()
    order: list[str] = []
    running = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with lock.hold(read=False):
            running.set()
            release.wait(5)

    def waiter(name: str, *, read: bool) -> None:
        with lock.hold(read=read):
            order.append(name)

    first = threading.Thread(target=holder)
    first.start()
    assert running.wait(5)
    threads = []
    for name, read in [("write-1", False), ("write-2", False), ("read-1", True), ("read-2", True)]:
        thread = threading.Thread(target=waiter, args=(name,), kwargs={"read": read})
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # each is queued before the next arrives
    # When the running invocation ends
    release.set()
    for thread in [first, *threads]:
        thread.join(5)
    # Then the reads ran first, in arrival order, then the writes, in arrival order
    assert order == ["read-1", "read-2", "write-1", "write-2"]


def test_the_api_lock_lets_one_invocation_in_at_a_time() -> None:
    # Given many readers and writers
    lock = ReadsFirstLock()
    inside = 0
    most = 0
    guard = threading.Lock()

    def work(read: bool) -> None:
        nonlocal inside, most
        for _ in range(50):
            with lock.hold(read=read):
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.0002)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=work, args=(i % 2 == 0,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # Then never two at once
    assert most == 1
