"""The API function's cold start: no torch, ever, and a small import (the guard Powertools keeps too).

Each check runs in a fresh interpreter, so nothing this test session imported can hide a cost. What
is guarded is *what* the cold import loads, which no machine's load can change: the packages
imported besides the standard library must be the few the function needs (Powertools' event
handler and pydantic, nearly all of its time). A new dependency on the path, or boto3's clients,
fails here by name. How long the import takes is measured by ``make bench`` (``bench/cold_import.py``:
about 0.3 s of CPU here), where a busy machine shows in the figures instead of failing a test.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap

from tests.support.clips import pan_clip
from tests.support.environment import HANDLER_ENV, run_python
from tests.support.pictures import sample_photo_file

#: Packages besides the standard library and our own that ``import functions.api.handler`` may load.
API_COLD_PACKAGES = frozenset(
    {
        "aws_lambda_powertools",
        "pydantic",
        "pydantic_core",
        "annotated_types",
        "typing_extensions",
        "typing_inspection",
        "jmespath",  # Powertools' envelopes
        "botocore",  # the bare package only: Powertools reads its version for the user agent
    }
)
#: Never on the API's cold path: the engine's, the image decoder's, and AWS's clients (built on
#: first use: boto3 and botocore's sessions are a fifth of a second).
API_NEVER = (
    "torch",
    "numpy",
    "PIL",
    "boto3",
    "s3transfer",
    "botocore.session",
    "botocore.client",
    "aws_xray_sdk",
    "av",
    "cv2",
)

_ENV = {k: v for k, v in {**os.environ, **HANDLER_ENV}.items() if k != "AWS_ENDPOINT_URL"}

_DRIVE_EVERY_ROUTE = textwrap.dedent(
    """
    import copy, json, sys
    from pathlib import Path

    from moto import mock_aws

    import functions.api.handler as api
    from stylemixer import resources
    from stylemixer.local.context import LambdaContext
    from tests.support.environment import create_stack_resources

    template = json.loads(Path("tests/events/apigw_http_v2.json").read_text())

    def call(method, path, body=None):
        event = copy.deepcopy(template)
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["requestContext"]["http"]["method"] = method
        if body is not None:
            event["body"] = json.dumps(body)

        response = api.handler(event, LambdaContext("stylemixer-api", memory_limit_in_mb=512))
        return response["statusCode"], json.loads(response["body"] or "null")

    statuses = {}
    with mock_aws():
        import boto3

        create_stack_resources()
        s3 = boto3.client("s3")
        statuses["health"] = call("GET", "/health")[0]
        statuses["styles"] = call("GET", "/styles")[0]
        statuses["openapi"] = call("GET", "/openapi.json")[0]
        upload = {"purpose": "content", "content_type": "image/jpeg", "size": 100}
        status, ticket = call("POST", "/uploads", upload)
        statuses["uploads"] = status
        s3.put_object(Bucket=resources.DATA_BUCKET, Key=ticket["fields"]["key"],
                      Body=Path(sys.argv[1]).read_bytes())
        job = {"content": ticket["upload_id"], "styles": [{"preset": "tapestry"}]}
        status, accepted = call("POST", "/jobs", job)
        statuses["jobs"] = status
        statuses["job"] = call("GET", "/jobs/" + accepted["job_id"])[0]
        clip = {"purpose": "content", "content_type": "video/mp4", "size": 100}
        ticket = call("POST", "/uploads", clip)[1]
        s3.put_object(Bucket=resources.DATA_BUCKET, Key=ticket["fields"]["key"],
                      Body=Path(sys.argv[2]).read_bytes())
        statuses["clip job"] = call("POST", "/jobs", {**job, "content": ticket["upload_id"]})[0]
        statuses["not-found"] = call("GET", "/nowhere")[0]
        statuses["invalid"] = call("POST", "/jobs", {"content": "x"})[0]
    heavy = [name for name in ("torch", "av", "cv2") if name in sys.modules]
    print(json.dumps({"statuses": statuses, "heavy": heavy}))
    """
)

_LIST_IMPORTS = textwrap.dedent(
    """
    import json, sys
    before = set(sys.modules)
    import functions.api.handler
    print(json.dumps(sorted(set(sys.modules) - before)))
    """
)


def _run(script: str, *args: str) -> dict[str, object]:
    completed = run_python("-c", script, *args, env=_ENV, timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_api_never_imports_torch_on_any_route() -> None:
    # Given a fresh interpreter that imports the API handler and drives every route, a clip's job too
    photo = sample_photo_file("chelsea")
    clip = pan_clip(size=(160, 120), frames=12)
    # When
    report = _run(_DRIVE_EVERY_ROUTE, str(photo), str(clip))
    # Then every route answered as expected, and torch was never imported
    assert report["statuses"] == {
        "health": 200,
        "styles": 200,
        "openapi": 200,
        "uploads": 201,
        "jobs": 202,
        "job": 200,
        "clip job": 202,
        "not-found": 404,
        "invalid": 422,
    }
    # And neither torch nor the clips' decoder and optical flow were imported (a clip's container is
    # read in pure Python)
    assert report["heavy"] == []


def test_worker_import_leaves_torch_for_the_first_job() -> None:
    # When the worker handler is imported cold
    report = _run(
        "import json, sys; import functions.worker.handler; "
        "print(json.dumps({m: m in sys.modules for m in ('torch', 'boto3', 'PIL', 'av', 'cv2')}))"
    )
    # Then torch, boto3, Pillow and the clips' libraries wait until a job needs them
    assert report == {"torch": False, "boto3": False, "PIL": False, "av": False, "cv2": False}


def test_api_cold_import_loads_only_what_the_function_needs() -> None:
    # When the API handler is imported cold
    modules = _run(_LIST_IMPORTS)
    assert isinstance(modules, list)
    # Then besides the standard library and our own packages, only the allowed packages came in
    packages = {name.split(".")[0] for name in modules}
    ours = {"functions", "stylemixer"}
    others = {p for p in packages - ours - set(sys.stdlib_module_names) if not p.startswith("_")}
    assert others <= API_COLD_PACKAGES, sorted(others - API_COLD_PACKAGES)
    # And nothing heavy, not even part of it
    assert [m for m in modules if m.startswith(API_NEVER)] == []


def test_unit_tests_are_collected_without_the_aws_harness() -> None:
    # Given a pytest run of the unit tests alone
    probe = (
        "import sys, pytest; "
        "code = pytest.main(['-q', '--co', '-p', 'no:cacheprovider', 'tests/unit/test_options.py']); "
        "print(int(code), 'tests.support.aws' in sys.modules, 'functions.api.handler' in sys.modules)"
    )
    # When it collects
    proc = run_python("-c", probe, check=True)
    # Then neither the AWS harness nor a handler was imported
    assert proc.stdout.strip().splitlines()[-1] == "0 False False", proc.stdout
