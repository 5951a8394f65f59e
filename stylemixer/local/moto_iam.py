"""What moto's IAM enforcement lacks for this service, added in the process that runs moto.

moto checks IAM when asked (``INITIAL_NO_AUTH_ACTION_COUNT``): every request's SigV4 signature,
its caller (an IAM user's key, or a role's credentials from STS), and whether the caller's policies
allow the action on the resource. Three gaps would make the embedded AWS refuse what AWS allows, or
allow what AWS refuses:

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

The presigned POST's policy conditions (key, type, size range) are still not enforced; the
project's own code checks every limit that matters (see :mod:`stylemixer.limits`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
from hashlib import sha256
from typing import Any
from urllib.parse import parse_qsl, urlsplit

#: How a SigV4 timestamp is written (``X-Amz-Date``).
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
#: Calls AWS authorizes with another call's IAM action.
IAM_ACTION_OF = {
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}

_extended = False


def extend_moto() -> None:
    """Add what is missing to moto's IAM enforcement (once per process; see the module's docstring).

    Example:
        >>> extend_moto()  # before moto serves its first request
    """
    global _extended  # noqa: PLW0603  (one process-wide switch, like moto's own settings)
    if _extended:
        return
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.dynamodb.responses import DynamoHandler
    from moto.iam.access_control import IAMRequest, S3IAMRequest

    class AwsActionRequest(IAMRequest):
        """moto's check of a signed request, with the IAM action AWS uses for the call."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._action = IAM_ACTION_OF.get(self._action, self._action)

    DynamoHandler._determine_resource = _dynamodb_table_arn  # type: ignore[attr-defined]
    checked = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if iam_request_cls is S3IAMRequest and self.method == "OPTIONS":
            return  # a CORS preflight: unsigned by design, answered from the CORS rules
        if "Authorization" in self.headers or not enforcing():
            checked(self, AwsActionRequest if iam_request_cls is IAMRequest else iam_request_cls, resource)
            return
        if iam_request_cls is S3IAMRequest:
            _authorize_presigned(self, resource)
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


def _authorize_presigned(self: Any, resource: str) -> None:
    """Check a presigned S3 request (URL or POST form) as AWS does, or raise S3's refusal."""
    from moto.s3.exceptions import S3AccessDeniedError

    fields = {k.lower(): (v[0] if isinstance(v, list) else v) for k, v in self.querystring.items()}
    if "x-amz-credential" not in fields or "x-amz-signature" not in fields:
        raise S3AccessDeniedError  # no signature at all: an anonymous request to a private bucket
    if "policy" in fields:  # a browser's form upload: the signature is over the policy document
        signer = _signer(self, fields)
        _check_signature(fields["x-amz-signature"], _sign(signer.secret, fields, fields["policy"]))
        policy = json.loads(base64.b64decode(fields["policy"]))
        _check_not_expired(dt.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")))
        if "key" in fields and "/" not in resource.split(":::", 1)[1]:
            resource = f"{resource}/{fields['key']}"
    else:  # a presigned URL: the signature is over the canonical request
        signer = _signer(self, fields)
        _check_signature(fields["x-amz-signature"], _url_signature(self, signer))
        signed_at = dt.datetime.strptime(fields["x-amz-date"], _AMZ_DATE).replace(tzinfo=dt.UTC)
        _check_not_expired(signed_at + dt.timedelta(seconds=int(fields.get("x-amz-expires", "3600"))))
    _check_permitted(signer.key, f"s3:{self._get_action()}", resource)


class _Signer:
    """The access key a presigned request names, with its secret and its policies."""

    def __init__(self, key: Any, secret: str, region: str) -> None:
        self.key = key
        self.secret = secret
        self.region = region


def _signer(self: Any, fields: dict[str, str]) -> _Signer:
    from moto.iam.access_control import CreateAccessKeyFailure, create_access_key
    from moto.s3.exceptions import S3InvalidAccessKeyIdError, S3InvalidTokenError

    access_key_id, _date, region, *_ = fields["x-amz-credential"].split("/")
    token = fields.get("x-amz-security-token")
    try:
        key = create_access_key(
            account_id=self.current_account,
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


def _url_signature(self: Any, signer: _Signer) -> str:
    """What the signature of this presigned URL must be (botocore's own canonical request)."""
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest

    parts = urlsplit(self.uri)
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith("x-amz-signature="))
    host = self.headers.get("Host", parts.netloc)
    request = AWSRequest(method=self.method, url=f"{parts.scheme}://{host}{parts.path}?{query}", headers={})
    request.headers["host"] = host
    fields = dict((k.lower(), v) for k, v in parse_qsl(parts.query, keep_blank_values=True))
    request.context["timestamp"] = fields["x-amz-date"]
    auth = S3SigV4QueryAuth(signer.key.create_credentials(), "s3", signer.region)
    canonical = auth.canonical_request(request)
    return auth.signature(auth.string_to_sign(request, canonical), request)


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
