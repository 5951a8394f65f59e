"""The local front door: ``static_site/`` at ``/``, ``/config.json``, and ``/api/...`` for the API handler.

Every method reaches the API under ``/api`` (as API Gateway's ``$default`` route hands it to the
function, which answers 405 in its own error shape); elsewhere only GET and HEAD are served. Nothing
the door answers by itself is an HTML page: its own refusals (a malformed request, a body too large)
use the API's JSON error shape too.

Requests under ``/api`` become API Gateway HTTP API v2 events for the same handler Lambda runs,
one at a time, as in one Lambda execution environment: Powertools' router keeps the event it is
answering on its class (``BaseRouter.current_event``), so two invocations in one process, even of two
copies of the handler module, would read each other's events (tried: under load a ``POST /jobs`` was
validated against another request's body). Running more environments as child processes was
measured too and did not lower the latency of ``GET /jobs`` on two cores (the extra processes cost
what the overlap saved); letting waiting reads go first (:class:`ReadsFirstLock`) did. Everything
else is a static file.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import sys
import threading
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from stylemixer.errors import BAD_REQUEST, LENGTH_REQUIRED, METHOD_NOT_ALLOWED, REQUEST_TOO_LARGE, STARTING
from stylemixer.local.context import LambdaContext
from stylemixer.local.gateway import (
    DRAIN_BODY_BYTES,
    MAX_BODY_BYTES,
    HttpReply,
    error_reply,
    http_api_event,
    http_reply,
)
from stylemixer.page import SITE_TOOLING, content_security_policy, site_config
from stylemixer.permissions import Function
from stylemixer.resources import API_MEMORY_MB, API_TIMEOUT_SECONDS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

API_PREFIX = "/api"
#: The API function as deployed (its timeout bounds every request).
API_FUNCTION_NAME = Function.API.local_name

#: What the site may serve; anything else under static_site/ (and its npm tooling, SITE_TOOLING) is not.
STATIC_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
}


def resolve_static(root: Path, url_path: str) -> Path | None:
    """The file under ``root`` that ``url_path`` names, or None (missing, hidden, or outside root).

    Example:
        >>> resolve_static(Path("static_site"), "/../pyproject.toml") is None
        True
    """
    relative = unquote(url_path).lstrip("/")
    if relative == "" or relative.endswith("/"):
        relative += "index.html"
    parts = Path(relative).parts
    if any(p.startswith(".") or p in SITE_TOOLING for p in parts):
        return None
    root = root.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    if candidate.suffix.lower() not in STATIC_TYPES:
        return None
    return candidate


class ReadsFirstLock:
    """A lock that waiting reads (GET, HEAD) take before waiting writes, each kind in arrival order.

    The API runs one invocation at a time (see the module's docstring). First come, first served,
    a poll that arrives behind a burst of submissions waits for all of them, which in AWS, where
    each would run in an environment of its own, it never does; taking reads first, it waits at
    most for the invocation already running. Writes cannot starve: a client polls about once a
    second.

    Example:
        >>> lock = ReadsFirstLock()
        >>> with lock.hold(read=True):
        ...     pass
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._tickets = itertools.count()
        self._waiting: list[tuple[int, int]] = []  # (0 read / 1 write, ticket), a heap

    @contextmanager
    def hold(self, *, read: bool) -> Iterator[None]:
        """Hold the lock for one invocation; ``read`` for a request that changes nothing."""
        me = (0 if read else 1, next(self._tickets))
        with self._cond:
            heapq.heappush(self._waiting, me)
            while self._busy or self._waiting[0] != me:
                self._cond.wait()
            heapq.heappop(self._waiting)
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()


class FrontDoor(ThreadingHTTPServer):
    """The HTTP server, holding what its request handlers need."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        site_dir: Path,
        storage_origin: str,
    ) -> None:
        super().__init__(address, FrontDoorHandler)
        self.site_dir = site_dir
        # The deployed page's policy, with local origins: this door (the API) and the embedded S3.
        host, port = self.server_address[:2]
        self.csp = content_security_policy(f"http://{host}:{port}", [storage_origin])
        self.config_body = json.dumps(site_config(API_PREFIX)).encode("utf-8")
        self.api_handler: Callable[[dict[str, Any], Any], Any] | None = None
        self.api_lock = ReadsFirstLock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that leaves mid-answer (a reload, a closed tab) is normal; anything else is logged."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        log.exception("the front door failed while answering %s", client_address[0])

    def invoke_api(self, event: dict[str, Any]) -> HttpReply:
        """One API invocation, serialised like a single Lambda execution environment (reads first)."""
        if self.api_handler is None:
            return error_reply(503, STARTING, "StyleMixer is still starting. Try again in a moment.")
        context = LambdaContext(
            API_FUNCTION_NAME, memory_limit_in_mb=API_MEMORY_MB, timeout_seconds=API_TIMEOUT_SECONDS
        )
        read = event.get("requestContext", {}).get("http", {}).get("method") in {"GET", "HEAD"}
        with self.api_lock.hold(read=read):
            try:
                result = self.api_handler(event, context)
            except Exception:
                # API Gateway's answer when the integration fails: nothing internal leaks.
                log.exception("the API handler raised")
                return HttpReply(
                    500, [("Content-Type", "application/json")], b'{"message":"Internal Server Error"}'
                )
        return http_reply(result)


class FrontDoorHandler(BaseHTTPRequestHandler):
    """Routes one request: the API, the site's config, or a static file."""

    server: FrontDoor
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two sends: with Nagle on, every answer on a kept-alive connection
    # would wait for the client's delayed ACK (40 ms).
    disable_nagle_algorithm = True
    server_version = "StyleMixer"
    sys_version = ""
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - " + format, self.address_string(), *args)

    def _is_api(self) -> bool:
        path = urlsplit(self.path).path
        return path == API_PREFIX or path.startswith(API_PREFIX + "/")

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def __getattr__(self, name: str) -> Any:
        """Any other method (POST, PUT, DELETE, OPTIONS, TRACE, QUERY...) goes to the API, which answers
        405 with the methods it allows, as API Gateway's routes would refuse it: http.server looks up
        ``do_<METHOD>`` and would answer a method it has no such attribute for with an HTML 501 page."""
        if name.startswith("do_"):
            return self._dispatch_api_only
        raise AttributeError(name)

    def _dispatch_api_only(self) -> None:
        if self._is_api():
            self._api()
        else:
            reply = error_reply(405, METHOD_NOT_ALLOWED, "This address only answers GET and HEAD.")
            self._send(HttpReply(reply.status, [*reply.headers, ("Allow", "GET, HEAD")], reply.body))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line, a URI or header too long), in the
        API's error shape instead of its HTML page, never echoing what was sent."""
        status = HTTPStatus(code)
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # the request line did not parse: answer as HTTP/1.1
            self.request_version = "HTTP/1.1"
        self._send(error_reply(code, status.phrase.replace(" ", "").replace("-", ""), f"{status.phrase}."))

    def _dispatch(self, *, head: bool) -> None:
        if self._is_api():
            self._api()
            return
        path = urlsplit(self.path).path
        if path == "/config.json":
            self._send(
                HttpReply(200, [("Content-Type", "application/json")], self.server.config_body), head=head
            )
            return
        file = resolve_static(self.server.site_dir, path)
        if file is None:
            body = b"Not found. The StyleMixer page is at /."
            self._send(HttpReply(404, [("Content-Type", "text/plain; charset=utf-8")], body), head=head)
            return
        # Every file carries the policy, as CloudFront sends it: a Web Worker runs under the policy
        # of its own script's response, not the page's.
        headers = [
            ("Content-Type", STATIC_TYPES[file.suffix.lower()]),
            ("Cache-Control", "no-cache"),
            ("Content-Security-Policy", self.server.csp),
        ]
        self._send(HttpReply(200, headers, file.read_bytes()), head=head)

    def _read_body(self) -> bytes | HttpReply:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return error_reply(411, LENGTH_REQUIRED, "Send the request with a Content-Length header.")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return error_reply(400, BAD_REQUEST, "The Content-Length header is not a number.")
        if length > MAX_BODY_BYTES:
            # Refused before any event is built. A client still sending when the door answers and
            # closes would get "broken pipe" instead of the answer: a body up to DRAIN_BODY_BYTES is
            # read and dropped first; a larger one is answered at once (the connection closes).
            self.close_connection = True
            if length <= DRAIN_BODY_BYTES:
                self._drain(length)
            return error_reply(
                413,
                REQUEST_TOO_LARGE,
                f"The request body is larger than {MAX_BODY_BYTES // 1024} KB. "
                "Pictures go to the upload link, not to the API.",
            )
        return self.rfile.read(length) if length > 0 else b""

    def _drain(self, length: int) -> None:
        """Read and drop ``length`` bytes of the body (the socket's timeout bounds a stalled client)."""
        left = length
        try:
            while left > 0:
                chunk = self.rfile.read(min(left, 64 * 1024))
                if not chunk:
                    return
                left -= len(chunk)
        except OSError:
            return

    def _api(self) -> None:
        body = self._read_body()
        if isinstance(body, HttpReply):
            self._send(body)
            return
        event = http_api_event(
            self.command,
            self.path,
            list(self.headers.items()),
            body,
            prefix=API_PREFIX,
            source_ip=self.client_address[0],
        )
        self._send(self.server.invoke_api(event), head=self.command == "HEAD")

    def _send(self, reply: HttpReply, *, head: bool = False) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(reply.body)


def make_front_door(host: str, port: int, *, site_dir: Path, storage_origin: str) -> FrontDoor:
    """Bind the front door (port 0 picks a free port); serve it with ``serve_forever`` in a thread."""
    return FrontDoor((host, port), site_dir=site_dir, storage_origin=storage_origin)
