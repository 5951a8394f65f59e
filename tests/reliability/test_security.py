"""The security review, point by point, where a test can prove it (docs/reliability.md lists each).

Handlers in-process against moto. moto does not enforce POST policies, so what S3 would enforce is
proven by reading the signed policy itself; everything the project enforces is proven by behaviour.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import subprocess
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from stylemixer.jobs.model import new_id
from stylemixer.limits import MAX_UPLOAD_BYTES
from stylemixer.page import content_security_policy
from tests.support import imagefiles as files
from tests.support.aws import (
    FakeEngine,
    Stack,
    as_owner,
    call_api,
    run_worker,
    upload_through_presigned_post,
)
from tests.support.environment import SITE_ORIGIN
from tests.support.paths import ROOT

FOREIGN = "https://evil.example"


def _policy(ticket: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(ticket["fields"]["policy"]))


# -- presigned uploads: short-lived, one key, size and type fixed --------------------------------


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("purpose", ["content", "style"])
@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "image/webp"])
def test_presigned_post_policy_allows_one_key_one_type_one_size_range_for_minutes(
    purpose: str, content_type: str
) -> None:
    # When a client asks for an upload
    before = datetime.now(UTC)
    ticket = call_api(
        "POST", "/uploads", {"purpose": purpose, "content_type": content_type, "size": 4321}
    ).body
    # Then the signed policy names exactly its own key, type and size, and nothing looser
    key = f"uploads/{purpose}/{ticket['upload_id']}"
    assert ticket["fields"]["key"] == key
    assert "${filename}" not in ticket["fields"]["key"]
    policy = _policy(ticket)
    conditions = policy["conditions"]
    assert {"key": key} in conditions
    assert {"Content-Type": content_type} in conditions
    assert ["content-length-range", 1, 4321] in conditions
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"], conditions
    assert {"bucket": ticket["url"].split("//")[1].split(".")[0]} in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert 0 < (expires - before).total_seconds() <= 15 * 60


@pytest.mark.usefixtures("aws")
def test_no_upload_can_be_signed_above_the_limit() -> None:
    body = {"purpose": "content", "content_type": "image/jpeg", "size": MAX_UPLOAD_BYTES + 1}
    response = call_api("POST", "/uploads", body)
    assert (response.status, response.body["error"]["code"]) == (413, "ImageTooLarge")


# -- ids -----------------------------------------------------------------------------------------


def test_ids_are_random_uuid4_with_122_unpredictable_bits() -> None:
    # Given many fresh ids
    ids = [new_id() for _ in range(4000)]
    # Then none repeats, each is a version-4 uuid, and every random bit is as often 0 as 1
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}", i) for i in ids)
    fixed = {48, 49, 50, 51, 64, 65}  # the version nibble (0100) and the variant bits (10)
    values = [int(i, 16) for i in ids]
    for bit in range(128):
        share = sum((v >> (127 - bit)) & 1 for v in values) / len(values)
        if bit in fixed:
            assert share in (0.0, 1.0)
        else:
            assert 0.44 < share < 0.56, f"bit {bit} is set in {share:.0%} of ids"


@pytest.mark.usefixtures("aws")
def test_ids_handed_out_by_the_api_never_repeat_or_follow_each_other() -> None:
    body = {"purpose": "content", "content_type": "image/jpeg", "size": 10}
    ids = [call_api("POST", "/uploads", body).body["upload_id"] for _ in range(200)]
    assert len(set(ids)) == 200
    numbers = sorted(int(i, 16) for i in ids)
    assert min(b - a for a, b in itertools.pairwise(numbers)) > 2**64


# -- what a job reveals: its own result and its own pictures, nothing of another job -------------


def _run_job(aws: Stack, fmt: str = "png") -> tuple[str, str, dict[str, Any]]:
    """A finished job, and its answer to its owner."""
    upload_id = upload_through_presigned_post(files.encode(files.quadrants(96, 72), "JPEG"))
    accepted = call_api(
        "POST", "/jobs", {"content": upload_id, "styles": [{"preset": "tapestry"}], "format": fmt}
    )
    job_id = accepted.body["job_id"]
    assert run_worker(aws.receive()) == {"batchItemFailures": []}
    return upload_id, job_id, call_api("GET", f"/jobs/{job_id}", headers=as_owner(accepted)).body


def test_a_job_shows_its_own_pictures_and_nothing_of_another(aws: Stack, fake_engine: FakeEngine) -> None:
    # Given two finished jobs of two clients
    upload_a, job_a, body_a = _run_job(aws)
    upload_b, job_b, body_b = _run_job(aws)
    # Then each job's answer names only its own photo and result, never the other job's
    for upload_id, job_id, body, other_upload, other_job in (
        (upload_a, job_a, body_a, upload_b, job_b),
        (upload_b, job_b, body_b, upload_a, job_a),
    ):
        text = json.dumps(body)
        assert other_upload not in text
        assert other_job not in text
        assert urlparse(body["result"]["url"]).path.endswith(f"/results/{job_id}.png")
        assert urlparse(body["result"]["thumbnail_url"]).path.endswith(f"/results/{job_id}.thumb.jpg")
        # And its photo's link (its owner's answer) is a GET of exactly that upload's key, for at
        # most 15 minutes
        photo = body["request"]["content"]
        assert photo["upload"] == upload_id
        assert urlparse(photo["url"]).path.endswith(f"/uploads/content/{upload_id}")
        query = parse_qs(urlparse(photo["url"]).query)
        assert int(query["X-Amz-Expires"][0]) <= 15 * 60
        assert query["response-content-disposition"][0].startswith("inline; filename=")
        # (uploads are held to a picture type by their POST policy and checked by their bytes
        # before any job names them, so the link serves the type they were stored with)
        assert requests.get(photo["url"], timeout=10).headers["Content-Type"] == "image/jpeg"
        links = [v for v in _strings(body) if v.startswith("http")]
        # the photo, the result and its small copy; a preset's thumbnail is the site's
        assert len(links) == 3, links
        # And anyone else holding the job's link gets the result only: no photo, no upload id
        shared = call_api("GET", f"/jobs/{job_id}").body
        assert shared["request"]["content"] is None
        assert upload_id not in json.dumps(shared)
        shown = [shared["result"]["url"], shared["result"]["thumbnail_url"]]
        assert [v for v in _strings(shared) if v.startswith("http")] == shown


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize(("fmt", "content_type"), [("png", "image/png"), ("jpeg", "image/jpeg")])
def test_result_is_served_with_its_own_content_type(
    aws: Stack, fake_engine: FakeEngine, fmt: str, content_type: str
) -> None:
    # Given a finished job
    _upload, _job_id, body = _run_job(aws, fmt)
    url = body["result"]["url"]
    query = parse_qs(urlparse(url).query)
    # Then its link fixes the type and an inline file name, and lives at most 15 minutes
    assert query["response-content-type"] == [content_type]
    assert query["response-content-disposition"][0].startswith("inline; filename=")
    assert int(query["X-Amz-Expires"][0]) <= 15 * 60
    # And fetching it gives that type and the picture's own bytes
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == content_type
    magic = {"png": b"\x89PNG", "jpeg": b"\xff\xd8\xff"}[fmt]
    assert fetched.content.startswith(magic)


def test_content_type_is_decided_by_the_bytes_not_the_declaration(
    aws: Stack, fake_engine: FakeEngine
) -> None:
    # Given an HTML page and an SVG, each uploaded declaring image/png
    for data in (b"<html><script>alert(1)</script></html>" * 4, files.SVG):
        upload_id = upload_through_presigned_post(data, content_type="image/png")
        # When a job names it
        response = call_api("POST", "/jobs", {"content": upload_id, "styles": [{"preset": "tapestry"}]})
        # Then it is refused by what it is
        assert response.status == 415, response.body
    assert aws.receive() == []


# -- CORS: the site's origin only ------------------------------------------------------------------


ROUTES = [
    ("GET", "/health", None),
    ("GET", "/styles", None),
    ("POST", "/uploads", {"purpose": "content", "content_type": "image/jpeg", "size": 10}),
    ("POST", "/jobs", {"content": "0" * 32, "styles": [{"preset": "tapestry"}]}),
    ("GET", f"/jobs/{'0' * 32}", None),
    ("GET", "/jobs/not-an-id", None),
    ("DELETE", "/jobs", None),
    ("GET", "/openapi.json", None),
]


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_cors_allows_the_site_origin_and_no_other(method: str, path: str, body: Any) -> None:
    # When the site and a foreign origin call the same route
    ours = call_api(method, path, body, headers={"origin": SITE_ORIGIN})
    theirs = call_api(method, path, body, headers={"origin": FOREIGN})
    # Then only the site's origin is allowed to read the answer, and never by wildcard
    assert ours.headers.get("access-control-allow-origin") == SITE_ORIGIN
    assert "access-control-allow-origin" not in theirs.headers
    assert ours.headers.get("access-control-allow-credentials") is None


@pytest.mark.usefixtures("aws")
def test_preflight_from_a_foreign_origin_is_not_allowed() -> None:
    preflight = call_api(
        "OPTIONS", "/jobs", headers={"origin": FOREIGN, "access-control-request-method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


# -- the page's content security policy -----------------------------------------------------------


def test_content_security_policy_allows_no_inline_script_no_framing_no_plugins() -> None:
    policy = dict(
        (d.split()[0], d.split()[1:]) for d in content_security_policy("https://api.example").split("; ")
    )
    assert policy["default-src"] == ["'none'"]
    # Scripts from the page's own files only; WebAssembly (the preview's runtime) may be compiled,
    # which allows no JavaScript eval; the preview's Web Worker comes from the page's own files
    assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert policy["worker-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    unsafe = [v for values in policy.values() for v in values if "unsafe" in v or v == "*"]
    assert unsafe == ["'wasm-unsafe-eval'"]


# -- no secret in the code or the image ---------------------------------------------------------


SECRET_PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret key": re.compile(r"(?i)aws.{0,20}secret.{0,20}['\"=:\s][A-Za-z0-9/+]{40}\b"),
    "private key": re.compile("-----BEGIN [A-Z ]*" + "PRIVATE KEY-----"),
    "API key in a URL": re.compile(r"(?i)[?&](api_?key|token|secret)=[A-Za-z0-9_\-]{16,}"),
    "bearer token": re.compile(r"(?i)bearer\s+[A-Za-z0-9_\-.=]{30,}"),
}


def _tracked_text_files() -> list[tuple[str, str]]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: no list of tracked files")
    out = []
    for name in filter(None, listed.split("\0")):
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:4096]:
            continue  # binary (pictures, weights)
        out.append((name, data.decode("utf-8", errors="replace")))
    return out


def test_no_secret_is_tracked_in_the_repository() -> None:
    found = [
        f"{name}: {what}"
        for name, text in _tracked_text_files()
        for what, pattern in SECRET_PATTERNS.items()
        if pattern.search(text)
    ]
    assert found == []


def test_the_image_is_built_with_no_secret() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    # No ENV or ARG carries a credential; no credential file is copied in
    for line in dockerfile.splitlines():
        words = line.strip().split()
        if words and words[0].upper() in {"ENV", "ARG"}:
            assert not re.search(r"(?i)secret|password|token|access_key|credential", line), line
        if words and words[0].upper() in {"COPY", "ADD"}:
            assert not re.search(r"(?i)\.env\b|\.aws|credentials|\.pem|id_rsa", line), line
    # And the build context holds only what the image needs (everything else is ignored)
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    assert "*" in ignored, "the build context must start from nothing and add what the image needs"
    assert not [line for line in ignored if line.startswith("!") and re.search(r"(?i)env|aws|secret", line)]
