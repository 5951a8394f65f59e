"""Translation between plain HTTP and API Gateway's HTTP API (payload format 2.0) events.

The local front door hands the API handler the same event shape API Gateway would, and turns the
handler's answer back into HTTP the way API Gateway does, so the handler runs here unchanged.
Reference: "Working with AWS Lambda proxy integrations for HTTP APIs", payload format version 2.0.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from stylemixer.local.context import LOCAL_ACCOUNT

#: Largest request body the front door accepts; bigger bodies are refused before any event is built.
#: The API only ever receives small JSON documents (pictures go straight to storage).
MAX_BODY_BYTES = 1024 * 1024
#: A body refused for its size is still read (and dropped) up to this size, so that a client that is
#: still sending it reads the 413 rather than a reset connection; past it the door answers at once.
#: API Gateway refuses payloads over 10 MB.
DRAIN_BODY_BYTES = 16 * 1024 * 1024

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")
_TEXT_TYPES_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class HttpReply:
    """What goes back on the wire: status, headers (repeats allowed) and the body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _is_text(content_type: str) -> bool:
    lowered = content_type.lower()
    return lowered.startswith(_TEXT_TYPES_FORM) or any(t in lowered for t in _TEXT_TYPES)


def _joined_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased names; repeated headers joined with commas, as API Gateway does."""
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def http_api_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    prefix: str = "/api",
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The HTTP API v2 event for one request; ``prefix`` (the API's mount point) is cut from the path.

    Example:
        >>> event = http_api_event("GET", "/api/jobs/abc?x=1", [("Host", "localhost")], b"")
        >>> event["rawPath"], event["queryStringParameters"], event["requestContext"]["http"]["method"]
        ('/jobs/abc', {'x': '1'}, 'GET')
    """
    split = urlsplit(target)
    raw_path = split.path
    if prefix and (raw_path == prefix or raw_path.startswith(prefix + "/")):
        raw_path = raw_path[len(prefix) :] or "/"
    all_headers = _joined_headers(headers)
    cookie_header = all_headers.pop("cookie", "")
    cookies = [c.strip() for c in cookie_header.split(";") if c.strip()]
    domain = all_headers.get("host", "localhost")
    all_headers.setdefault("x-forwarded-for", source_ip)
    all_headers.setdefault("x-forwarded-proto", "http")
    all_headers.setdefault("x-forwarded-port", domain.rpartition(":")[2] if ":" in domain else "80")

    query: dict[str, str] = {}
    for key, value in parse_qsl(split.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value

    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": split.query,
        "headers": all_headers,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT,
            "apiId": "local",
            "domainName": domain,
            "domainPrefix": domain.split(".")[0].split(":")[0],
            "http": {
                "method": method.upper(),
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": all_headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": formatdate(now, usegmt=True),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        if _is_text(all_headers.get("content-type", "")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def http_reply(result: Any) -> HttpReply:
    """API Gateway's reading of a handler's return value (payload format 2.0).

    A dict with ``statusCode`` is a full response; anything else is sent as a 200 JSON body.

    Example:
        >>> http_reply({"statusCode": 201, "body": "{}"}).status
        201
    """
    if not isinstance(result, dict) or "statusCode" not in result:
        body = result if isinstance(result, str) else json.dumps(result)
        return HttpReply(200, [("Content-Type", "application/json")], body.encode("utf-8"))
    headers: list[tuple[str, str]] = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(v)) for v in values)
    headers.extend(("Set-Cookie", str(c)) for c in result.get("cookies") or [])
    raw = result.get("body") or ""
    if result.get("isBase64Encoded"):
        body = base64.b64decode(raw)
    else:
        body = raw.encode("utf-8") if isinstance(raw, str) else json.dumps(raw).encode("utf-8")
    if not any(name.lower() == "content-type" for name, _ in headers) and body:
        headers.append(("Content-Type", "application/json"))
    return HttpReply(int(result["statusCode"]), headers, body)


def error_reply(status: int, code: str, message: str) -> HttpReply:
    """A refusal in the API's own error shape, for what the front door rejects by itself."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")
    return HttpReply(status, [("Content-Type", "application/json")], body)
