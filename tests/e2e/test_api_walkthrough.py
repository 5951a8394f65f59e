"""The API as a script uses it, against `stylemixer serve`: docs/api.md's curl walkthrough run as
written, and the presigned POST a browser makes, sent by `requests` and by `curl -F`.

These are the calls a moto release broke once (every presigned upload refused with a 403), so each
goes through the local stack's own storage with IAM enforced, as the page's do.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

from stylemixer.local.context import LOCAL_REGION
from stylemixer.resources import DATA_BUCKET
from tests.support.paths import ROOT
from tests.support.pictures import sample_photo_file

if TYPE_CHECKING:
    from pathlib import Path

    from stylemixer.local.process import ServedStack


API_DOC = ROOT / "docs" / "api.md"
#: How long the walkthrough may take on a busy machine (one small photo, one preset).
WALKTHROUGH_PATIENCE_SECONDS = 600


def walkthrough_script() -> str:
    """The shell block under docs/api.md's "One job from the command line", exactly as printed."""
    text = API_DOC.read_text(encoding="utf-8")
    section = text.split("## One job from the command line", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "docs/api.md has no sh block under 'One job from the command line'"
    return match.group(1)


def ask_for_upload(stack: ServedStack, data: bytes, content_type: str = "image/jpeg") -> dict[str, Any]:
    body = json.dumps({"purpose": "content", "content_type": content_type, "size": len(data)}).encode()
    request = urllib.request.Request(
        stack.url + "api/uploads", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 201
        return json.loads(answer.read())


def stored(stack: ServedStack, ticket: dict[str, Any]) -> bytes:
    """The uploaded object's bytes, read back as the operator (what the worker would read)."""
    import boto3

    assert stack.aws_endpoint is not None
    assert stack.operator_keys is not None
    key, secret = stack.operator_keys
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.aws_endpoint,
        region_name=LOCAL_REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    return s3.get_object(Bucket=DATA_BUCKET, Key=ticket["fields"]["key"])["Body"].read()


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")
def test_the_docs_curl_walkthrough_paints_a_photo_as_written(stack: ServedStack, tmp_path: Path) -> None:
    # Given the walkthrough's shell block and a photo
    photo = sample_photo_file("coffee")
    (tmp_path / "photo.jpg").write_bytes(photo.read_bytes())
    # When bash runs it as written, against the local stack, in a folder holding the photo
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", walkthrough_script()],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "API": stack.url + "api"},
        capture_output=True,
        text=True,
        timeout=WALKTHROUGH_PATIENCE_SECONDS,
        check=False,
    )
    # Then it ends well, having polled to the end
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "succeeded 100%", run.stdout
    # And the painted picture is there, at the photo's size, and is not the photo again
    with Image.open(tmp_path / "painted.jpg") as painted, Image.open(photo) as original:
        assert painted.format == "JPEG"
        assert painted.size == original.size
        assert painted.tobytes() != original.convert("RGB").tobytes()


def test_a_presigned_post_sent_by_requests_is_stored(stack: ServedStack) -> None:
    import requests

    # Given a ticket for a photo
    data = sample_photo_file("rocket").read_bytes()
    ticket = ask_for_upload(stack, data)
    # When requests sends the form as a browser does (the fields, then the file last)
    answer = requests.post(
        ticket["url"], data=ticket["fields"], files={"file": ("rocket.jpg", data, "image/jpeg")}, timeout=60
    )
    # Then storage accepts it and holds exactly those bytes
    assert answer.status_code in (200, 201, 204), answer.text
    assert stored(stack, ticket) == data


@pytest.mark.skipif(not shutil.which("curl"), reason="needs curl")
def test_a_presigned_post_sent_by_curl_is_stored(stack: ServedStack, tmp_path: Path) -> None:
    # Given a ticket for a photo
    photo = sample_photo_file("rocket")
    data = photo.read_bytes()
    ticket = ask_for_upload(stack, data)
    fields = [arg for name, value in ticket["fields"].items() for arg in ("--form-string", f"{name}={value}")]
    # When curl -F sends the form
    run = subprocess.run(
        [
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            *fields,
            "-F",
            f"file=@{photo};type=image/jpeg",
            ticket["url"],
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Then storage accepts it and holds exactly those bytes
    assert run.returncode == 0, run.stderr
    assert run.stdout in {"200", "201", "204"}, run.stdout
    assert stored(stack, ticket) == data
