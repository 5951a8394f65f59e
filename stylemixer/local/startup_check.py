"""The local stack's proof at start that the embedded AWS does what the page and the API rely on.

The local IAM check lives partly inside moto (:mod:`stylemixer.local.moto_iam`), and a moto release
can move what it relies on: moto 5.2.6 did, and the stack then started, said it was running, and
refused every upload with a 403 the page could only wait on. So before ``stylemixer serve`` says it
runs, it does what one job does first, with the API function's own adapters and role: reads the jobs
table, signs a presigned POST, uploads a small object through it as a browser would, signs a GET and
reads the object back, then removes it. If any step fails, the stack stops with one sentence naming
moto's version and the step, instead of serving a page that can never work.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from typing import TYPE_CHECKING, NoReturn

from stylemixer.local.moto_iam import EmulatorChangedError, moto_version
from stylemixer.resources import UPLOADS_PREFIX

if TYPE_CHECKING:
    from boto3.session import Session
    from urllib3 import BaseHTTPResponse, PoolManager

    from stylemixer.settings import Settings

#: The small object uploaded and read back (a stand-in for a photo; it is removed at once).
PROBE_BYTES = b"StyleMixer start-up check\n"
PROBE_TYPE = "image/png"
#: Seconds for each of the check's HTTP requests (the whole check stays well inside 10 s).
REQUEST_TIMEOUT = 3.0


def check_embedded_aws(settings: Settings, api: Session, admin: Session, endpoint_url: str) -> None:
    """Raise :class:`~stylemixer.local.moto_iam.EmulatorChangedError` unless a job's first steps work.

    ``api`` signs as the API function's role (through the API's own adapters, so the presigned POST
    and GET are the ones the page gets); ``admin`` removes the probe afterwards.

    Example (not run by the test suite: the local stack runs it on every start, and
    tests/reliability/test_startup_check.py runs it against a broken moto):
        >>> api = roles[Function.API].session()  # doctest: +SKIP
        >>> check_embedded_aws(Settings.from_env(), api, admin, endpoint)  # doctest: +SKIP
    """
    import urllib3
    from botocore.exceptions import BotoCoreError, ClientError

    from stylemixer.aws.clients import build_adapters

    adapters = build_adapters(settings, session=api)
    key = f"{UPLOADS_PREFIX}startup-check/{uuid.uuid4().hex}"
    http = urllib3.PoolManager(timeout=REQUEST_TIMEOUT, retries=False)
    try:
        try:
            adapters.repo.get("0" * 32)
        except (ClientError, BotoCoreError) as exc:
            _refused("a read of the jobs table as the API's role", str(exc))
        post = adapters.store.presign_post(key, PROBE_TYPE, len(PROBE_BYTES), 60)
        fields: dict[str, str | tuple[str, bytes, str]] = dict(post.fields)
        fields["file"] = ("probe.png", PROBE_BYTES, PROBE_TYPE)
        answer = _request(http, "POST", post.url, fields=fields, step="a presigned POST (an upload)")
        if answer.status not in (200, 201, 204):
            _refused("a presigned POST (an upload) signed as the API's role", _said(answer))
        url = adapters.store.presign_get(key, None, 60, "probe.png")
        answer = _request(http, "GET", url, step="a presigned GET (a download)")
        if answer.status != 200 or answer.data != PROBE_BYTES:
            _refused("a presigned GET (a download) signed as the API's role", _said(answer))
    finally:
        # (If nothing was stored, or the embedded AWS refuses this too, the failure is already reported.)
        with contextlib.suppress(ClientError, BotoCoreError):
            admin.client("s3", endpoint_url=endpoint_url).delete_object(Bucket=settings.bucket, Key=key)
        http.clear()


def _request(http: PoolManager, method: str, url: str, *, step: str, **kwargs: object) -> BaseHTTPResponse:
    import urllib3

    try:
        return http.request(method, url, **kwargs)  # type: ignore[arg-type]
    except urllib3.exceptions.HTTPError as exc:
        _refused(step, f"no answer: {exc}")


def _said(answer: BaseHTTPResponse) -> str:
    """The status and S3's error code of a refusal, e.g. ``403 AccessDenied``."""
    body = answer.data.decode("utf-8", "replace")
    code = re.search(r"<Code>([^<]+)</Code>", body)
    return f"{answer.status} {code.group(1) if code else body[:80].strip()}".strip()


def _refused(step: str, detail: str) -> NoReturn:
    raise EmulatorChangedError(
        message=(
            f"The embedded AWS (moto {moto_version()}) refused {step} ({detail}), so the page could never "
            "upload or show a picture: install the locked versions with `make setup`, or adapt "
            "stylemixer/local/moto_iam.py to this moto."
        )
    )
