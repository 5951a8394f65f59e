"""The front door's translation between HTTP and API Gateway HTTP API (payload 2.0) events."""

from __future__ import annotations

import base64
import json

from stylemixer.local.context import LambdaContext
from stylemixer.local.gateway import error_reply, http_api_event, http_reply


def test_event_has_the_payload_2_shape_with_the_api_prefix_cut() -> None:
    # Given a GET under /api with a query string and mixed-case headers
    headers = [("Host", "127.0.0.1:8000"), ("User-Agent", "tests"), ("X-Thing", "a"), ("x-thing", "b")]

    # When it becomes an event
    event = http_api_event("get", "/api/jobs/abc?x=1&x=2&y=", headers, b"", source_ip="127.0.0.9")

    # Then it reads like API Gateway's: version 2.0, path without /api, lower-case joined headers
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/jobs/abc"
    assert event["rawQueryString"] == "x=1&x=2&y="
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["headers"]["x-thing"] == "a,b"
    assert event["headers"]["user-agent"] == "tests"
    assert all(name == name.lower() for name in event["headers"])
    http = event["requestContext"]["http"]
    assert http == {
        "method": "GET",
        "path": "/jobs/abc",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.9",
        "userAgent": "tests",
    }
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["domainName"] == "127.0.0.1:8000"
    assert isinstance(event["requestContext"]["timeEpoch"], int)
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    assert "cookies" not in event


def test_the_api_root_maps_to_slash() -> None:
    assert http_api_event("GET", "/api", [], b"")["rawPath"] == "/"


def test_json_body_is_text_and_binary_body_is_base64() -> None:
    # Given a JSON body and a binary body
    json_event = http_api_event("POST", "/api/jobs", [("Content-Type", "application/json")], b'{"a": 1}')
    binary = bytes(range(256))
    binary_event = http_api_event("POST", "/api/x", [("Content-Type", "application/octet-stream")], binary)

    # Then JSON stays text and binary is base64, flagged
    assert json_event["body"] == '{"a": 1}'
    assert json_event["isBase64Encoded"] is False
    assert binary_event["isBase64Encoded"] is True
    assert base64.b64decode(binary_event["body"]) == binary


def test_cookies_move_out_of_the_headers() -> None:
    event = http_api_event("GET", "/api/health", [("Cookie", "a=1; b=2")], b"")
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]


def test_a_full_response_keeps_status_headers_cookies_and_decodes_base64() -> None:
    # Given a handler's response with a base64 body and a cookie
    result = {
        "statusCode": 202,
        "headers": {"Content-Type": "image/png", "X-Id": "7"},
        "cookies": ["s=1; Path=/"],
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }

    # When it is turned back into HTTP
    reply = http_reply(result)

    # Then nothing is lost
    assert reply.status == 202
    assert ("Content-Type", "image/png") in reply.headers
    assert ("X-Id", "7") in reply.headers
    assert ("Set-Cookie", "s=1; Path=/") in reply.headers
    assert reply.body == b"\x89PNG"


def test_a_bare_value_is_a_200_json_body_as_api_gateway_infers() -> None:
    reply = http_reply({"status": "ok"})
    assert reply.status == 200
    assert json.loads(reply.body) == {"status": "ok"}
    assert ("Content-Type", "application/json") in reply.headers


def test_front_door_refusals_use_the_api_error_shape() -> None:
    reply = error_reply(413, "RequestTooLarge", "Too big.")
    assert reply.status == 413
    assert json.loads(reply.body) == {"error": {"code": "RequestTooLarge", "message": "Too big."}}


def test_lambda_context_counts_down_from_the_timeout() -> None:
    # Given a context for a 2 s function
    context = LambdaContext("stylemixer-api", memory_limit_in_mb=512, timeout_seconds=2)

    # Then it carries what Powertools reads, and the time left is within the timeout
    assert 0 < context.get_remaining_time_in_millis() <= 2000
    assert context.invoked_function_arn.endswith(":function:stylemixer-api")
    assert context.memory_limit_in_mb == 512
    assert context.aws_request_id != LambdaContext("stylemixer-api").aws_request_id
