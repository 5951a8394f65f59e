"""What moto's IAM enforcement lacks for this service, added in the process that runs moto.

moto checks IAM when asked (``INITIAL_NO_AUTH_ACTION_COUNT``): every request's SigV4 signature,
its caller (an IAM user's key, or a role's credentials from STS), and whether the caller's policies
allow the action on the resource. Its gaps would make the embedded AWS refuse what AWS allows, or
allow what AWS refuses:

* **S3 actions are named by moto's routing, not by IAM.** From moto 5.2.6 a HEAD of an object asks
  for ``s3:HeadObject`` and a form upload for ``s3:PostObject``, which no policy grants. Here every S3
  request's action is named from the request itself as AWS names it (:mod:`stylemixer.local.s3_actions`).
* **DynamoDB names no resource.** moto checks DynamoDB calls against ``*``, so a role allowed on
  its table (``arn:aws:dynamodb:…:table/stylemixer-jobs``, as every role here is) would be refused
  everything. :func:`extend_moto` names the table's ARN, as AWS does (an index's, for a query of
  an index: ``…:table/stylemixer-jobs/index/queued-by-age``).
* **Presigned requests carry no ``Authorization`` header.** A browser's upload (a presigned POST)
  and its download of a result (a presigned GET) are signed in the form or the URL; moto reads only
  the header and fails with a 500. Here such a request is checked as AWS checks it: the signature
  against the signer's secret, the expiry, and the *signer's* permission for the action on the
  object's key (``s3:PutObject`` for a POST, ``s3:GetObject`` for a GET).
* **SQS's batch calls are their own actions in moto.** AWS authorizes ``DeleteMessageBatch``,
  ``SendMessageBatch`` and ``ChangeMessageVisibilityBatch`` with the single call's action
  (``sqs:DeleteMessage`` ...); moto asks for ``sqs:DeleteMessageBatch``, which no policy grants.
* **A request with no signature at all** is refused (``AccessDenied``), as AWS refuses an
  anonymous request to a private bucket, instead of failing inside moto; except a CORS preflight
  (``OPTIONS``), which a browser never signs and S3 answers from the bucket's CORS rules alone.

The request is read through werkzeug's interface (its headers, query arguments and form parser),
never through moto's parsed copies of it, which change between releases. What this module does rely
on inside moto is listed once, in :data:`MOTO_HOOKS`, and checked by :func:`extend_moto` before moto
serves anything; the local stack also proves the whole path at start (a presigned POST and GET
signed as the API role: :mod:`stylemixer.local.startup_check`), so a moto release that moves
anything stops ``stylemixer serve`` with a sentence instead of refusing every upload.

The presigned POST's policy conditions (key, type, size range) are still not enforced; the
project's own code checks every limit that matters (see :mod:`stylemixer.limits`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import importlib
import json
import xml.etree.ElementTree as ET
from hashlib import sha256
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from stylemixer.errors import EMBEDDED_AWS_CHANGED, StyleMixerError
from stylemixer.local.s3_actions import s3_action

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

#: How a SigV4 timestamp is written (``X-Amz-Date``).
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
#: Calls AWS authorizes with another call's IAM action.
IAM_ACTION_OF = {
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
#: Everything used inside moto that is not its public interface: ``module: (attribute, ...)``.
#: Besides these, a response object carries the request as a werkzeug ``Request`` in
#: ``normalized_request`` (checked on each request, see :func:`_request_of`), and moto's request
#: checkers keep the IAM action they check in ``_action``.
MOTO_HOOKS: dict[str, tuple[str, ...]] = {
    "moto.core.authorization": ("ActionAuthenticatorMixin",),
    "moto.dynamodb.responses": ("DynamoHandler",),
    "moto.iam.access_control": (
        "IAMRequest",
        "S3IAMRequest",
        "IAMPolicy",
        "PermissionResult",
        "create_access_key",
        "CreateAccessKeyFailure",
    ),
    "moto.core.exceptions": ("AccessDeniedError",),
    "moto.s3.exceptions": (
        "S3AccessDeniedError",
        "S3ClientError",
        "S3InvalidAccessKeyIdError",
        "S3InvalidTokenError",
        "S3SignatureDoesNotMatchError",
    ),
}
#: Methods moto calls that :func:`extend_moto` replaces: ``(module, class, method)``. (It also gives
#: ``DynamoHandler`` the ``_determine_resource`` that moto asks other services' handlers for; the
#: start-up check proves moto still asks, with a DynamoDB call as the API's role.)
MOTO_METHODS = (
    ("moto.core.authorization", "ActionAuthenticatorMixin", "_authenticate_and_authorize_action"),
)

_extended = False


class EmulatorChangedError(StyleMixerError):
    """The embedded AWS (moto) no longer behaves as the local stack relies on."""

    code = EMBEDDED_AWS_CHANGED


def moto_version() -> str:
    """The installed moto's version, for messages ("moto 5.2.6")."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("moto")
    except PackageNotFoundError:
        return "unknown"


def check_moto_hooks() -> None:
    """Raise :class:`EmulatorChangedError` naming what is missing if moto moved anything this module uses.

    Example:
        >>> check_moto_hooks()  # the locked moto has everything
    """
    missing = [
        f"{module}.{name}" for module, names in MOTO_HOOKS.items() for name in names if not _has(module, name)
    ]
    missing += [f"{m}.{c}.{f}" for m, c, f in MOTO_METHODS if not hasattr(_attribute(m, c), f)]
    if missing:
        raise EmulatorChangedError(
            message=(
                f"The embedded AWS (moto {moto_version()}) lacks {', '.join(missing)}, which the local "
                "IAM check needs: install the locked versions (`make setup`) or update "
                "stylemixer/local/moto_iam.py for this moto."
            )
        )


def extend_moto() -> None:
    """Add what is missing to moto's IAM enforcement (once per process; see the module's docstring).

    Example:
        >>> extend_moto()  # before moto serves its first request
    """
    global _extended  # noqa: PLW0603  (one process-wide switch, like moto's own settings)
    if _extended:
        return
    check_moto_hooks()
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.dynamodb.responses import DynamoHandler
    from moto.iam.access_control import IAMRequest, S3IAMRequest

    DynamoHandler._determine_resource = _dynamodb_table_arn  # type: ignore[attr-defined]
    checked = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        s3 = iam_request_cls is S3IAMRequest
        if not enforcing():  # moto counts the requests it lets through before enforcing
            checked(self, iam_request_cls, resource)
            return
        request = _request_of(self)
        if s3 and request.method == "OPTIONS":
            return  # a CORS preflight: unsigned by design, answered from the CORS rules
        if "Authorization" in request.headers:
            if not s3:
                checked(self, _named(IAMRequest), resource)
                return
            action, resources = _s3_action_and_resources(request, resource)
            for each in resources:
                checked(self, _named(S3IAMRequest, action), each)
            return
        if s3:
            _authorize_presigned(self, request, resource)
            return
        from moto.core.exceptions import AccessDeniedError

        raise AccessDeniedError(user_arn="anonymous", action=f"{self.service_name}:{self._get_action()}")

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate  # type: ignore[method-assign]
    _extended = True


def enforcing() -> bool:
    """Whether moto checks IAM on the next request (its no-auth allowance is used up)."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    return ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT


def _has(module: str, name: str) -> bool:
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


def _attribute(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name, None) if _has(module, name) else None


def _request_of(response: Any) -> Request:
    """The request a moto response object answers, as werkzeug's ``Request`` (fails loudly if not)."""
    from werkzeug.wrappers import Request

    request = getattr(response, "normalized_request", None)
    if not isinstance(request, Request):
        raise EmulatorChangedError(
            message=(
                f"The embedded AWS (moto {moto_version()}) no longer hands its request to the local IAM "
                "check as a werkzeug Request: update stylemixer/local/moto_iam.py for this moto."
            )
        )
    return request


def _named(cls: type, action: str | None = None) -> type:
    """``cls`` (one of moto's request checkers) checking ``action``, or the IAM action of moto's name.

    Without ``action``, moto's name stands except for the batch calls AWS authorizes as single ones.
    """

    class Named(cls):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._action = action or IAM_ACTION_OF.get(self._action, self._action)

    return Named


def _bucket_and_key(resource: str) -> tuple[str, str]:
    """``arn:aws:s3:::bucket/key`` as ``(bucket, key)``; ``"*"`` is no bucket."""
    if ":::" not in resource:
        return "", ""
    bucket, _, key = resource.split(":::", 1)[1].partition("/")
    return ("" if bucket == "*" else bucket), key


def _s3_action_and_resources(request: Request, resource: str) -> tuple[str, list[str]]:
    """The IAM action of an S3 request and the resources AWS checks it on (each key of a batch delete)."""
    bucket, key = _bucket_and_key(resource)
    action = s3_action(request.method, request.args, has_key=bool(key), has_bucket=bool(bucket))
    if request.method == "POST" and not key:
        keys = _deleted_keys(request) if "delete" in request.args else [_form(request).get("key", "")]
        return action, [f"{resource}/{k}" for k in keys if k] or [resource]
    return action, [resource]


def _deleted_keys(request: Request) -> list[str]:
    """The keys a DeleteObjects request names (AWS checks ``s3:DeleteObject`` on each)."""
    try:
        root = ET.fromstring(request.get_data())
    except ET.ParseError:
        return []
    return [element.text or "" for element in root.iter() if element.tag.rpartition("}")[2] == "Key"]


def _form(request: Request) -> dict[str, str]:
    """A form upload's fields (werkzeug's form parser), names lower-cased as S3 compares them."""
    return {name.lower(): value for name, value in request.form.items()}


def _dynamodb_table_arn(self: Any) -> str:
    """The table a DynamoDB call names, as its ARN (AWS checks table-level grants against it)."""
    params = self.body if isinstance(self.body, dict) else {}
    name = params.get("TableName")
    if not isinstance(name, str) or not name:
        return "*"
    table = (
        name
        if name.startswith("arn:")
        else f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{name}"
    )
    index = params.get("IndexName")
    return f"{table}/index/{index}" if isinstance(index, str) and index else table


def _authorize_presigned(response: Any, request: Request, resource: str) -> None:
    """Check a presigned S3 request (URL or POST form) as AWS does, or raise S3's refusal."""
    from moto.s3.exceptions import S3AccessDeniedError

    form = _form(request) if request.method == "POST" else {}
    if "policy" in form:  # a browser's form upload: the signature is over the policy document
        fields = form
        if "x-amz-credential" not in fields or "x-amz-signature" not in fields:
            raise S3AccessDeniedError
        signer = _signer(response.current_account, fields)
        _check_signature(fields["x-amz-signature"], _sign(signer.secret, fields, fields["policy"]))
        policy = json.loads(base64.b64decode(fields["policy"]))
        _check_not_expired(dt.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")))
        action, resources = _s3_action_and_resources(request, resource)
    else:  # a presigned URL: the signature is over the canonical request
        fields = {name.lower(): value for name, value in request.args.items()}
        if "x-amz-credential" not in fields or "x-amz-signature" not in fields:
            raise S3AccessDeniedError  # no signature at all: an anonymous request to a private bucket
        signer = _signer(response.current_account, fields)
        _check_signature(fields["x-amz-signature"], _url_signature(request, signer, fields))
        signed_at = dt.datetime.strptime(fields["x-amz-date"], _AMZ_DATE).replace(tzinfo=dt.UTC)
        _check_not_expired(signed_at + dt.timedelta(seconds=int(fields.get("x-amz-expires", "3600"))))
        action, resources = _s3_action_and_resources(request, resource)
    for each in resources:
        _check_permitted(signer.key, action, each)


class _Signer:
    """The access key a presigned request names, with its secret and its policies."""

    def __init__(self, key: Any, secret: str, region: str) -> None:
        self.key = key
        self.secret = secret
        self.region = region


def _signer(account_id: str, fields: dict[str, str]) -> _Signer:
    from moto.iam.access_control import CreateAccessKeyFailure, create_access_key
    from moto.s3.exceptions import S3InvalidAccessKeyIdError, S3InvalidTokenError

    access_key_id, _date, region, *_ = fields["x-amz-credential"].split("/")
    token = fields.get("x-amz-security-token")
    try:
        key = create_access_key(
            account_id=account_id,
            partition="aws",
            access_key_id=access_key_id,
            headers={"X-Amz-Security-Token": token} if token else {},
        )
    except CreateAccessKeyFailure as failure:
        raise (
            S3InvalidTokenError if failure.reason == "InvalidToken" else S3InvalidAccessKeyIdError
        )() from None
    return _Signer(key, key.create_credentials().secret_key, region)


def _signing_key(secret: str, date: str, region: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), sha256).digest()
    return key


def _sign(secret: str, fields: dict[str, str], string_to_sign: str) -> str:
    _access_key, date, region, *_ = fields["x-amz-credential"].split("/")
    return hmac.new(_signing_key(secret, date, region), string_to_sign.encode(), sha256).hexdigest()


def _url_signature(request: Request, signer: _Signer, fields: dict[str, str]) -> str:
    """What the signature of this presigned URL must be (botocore's own canonical request)."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest

    parts = urlsplit(request.url)
    raw_query = request.query_string.decode("latin-1")
    query = "&".join(p for p in raw_query.split("&") if p and not p.lower().startswith("x-amz-signature="))
    host = request.headers.get("Host", parts.netloc)
    path = request.environ.get("RAW_URI", "").split("?", 1)[0] or parts.path
    signed = AWSRequest(method=request.method, url=f"{parts.scheme}://{host}{path}?{query}", headers={})
    signed.headers["host"] = host
    signed.context["timestamp"] = fields["x-amz-date"]
    auth = S3SigV4QueryAuth(signer.key.create_credentials(), "s3", signer.region)
    canonical = auth.canonical_request(signed)
    return auth.signature(auth.string_to_sign(signed, canonical), signed)


def _check_signature(given: str, expected: str) -> None:
    from moto.s3.exceptions import S3SignatureDoesNotMatchError

    if not hmac.compare_digest(given.lower(), expected.lower()):
        raise S3SignatureDoesNotMatchError


def _check_not_expired(expires: dt.datetime) -> None:
    from moto.s3.exceptions import S3ClientError

    if dt.datetime.now(dt.UTC) > expires:
        raise S3ClientError("AccessDenied", "Request has expired")


def _check_permitted(key: Any, action: str, resource: str) -> None:
    """The signer's policies decide, as moto decides for a signed request (an explicit Deny wins)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.exceptions import S3AccessDeniedError

    permitted = False
    for policy in key.collect_policies():
        result = IAMPolicy(policy).is_action_permitted(action, resource)
        if result == PermissionResult.DENIED:
            raise S3AccessDeniedError
        permitted = permitted or result == PermissionResult.PERMITTED
    if not permitted:
        raise S3AccessDeniedError
