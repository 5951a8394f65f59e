"""The HTTP API: routes, validation, CORS and the error shape; the work is in :mod:`stylemixer.jobs.service`.

Every refusal is ``{"error": {"code", "message"}}``: request-shape problems found by Powertools'
validation are 422 ``ValidationError``, malformed JSON 400 ``MalformedJson``, our own rules use the
code and status of their :class:`~stylemixer.errors.StyleMixerError`, and anything unexpected is a
plain 500 ``InternalError`` that says nothing about why. A refusal that waiting cures (a client's
limit, a busy queue) carries ``Retry-After``.

Each request's client is the address API Gateway reports; with the API behind the site's
CloudFront (``STYLEMIXER_ORIGIN_VERIFY`` set), every request must prove it came through CloudFront
and its client is the viewer's address CloudFront forwards.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths

from functions.observability import count_refusal, observability
from stylemixer import __version__
from stylemixer.admission import (
    Backlog,
    Capacity,
    ClientGate,
    ClientLimits,
    QueueGauge,
    RetryLaterError,
    client_key,
    viewer_address,
)
from stylemixer.aws.clients import LazyAdapters
from stylemixer.errors import (
    INTERNAL_ERROR,
    MALFORMED_JSON,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    REQUEST_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    USE_THE_SITE,
    VALIDATION_ERROR,
    StyleMixerError,
)
from stylemixer.jobs import service
from stylemixer.jobs.model import ID_PATTERN, utcnow
from stylemixer.jobs.owner import bearer_token, new_owner_token
from stylemixer.jobs.schemas import (
    ErrorResponse,
    HealthResponse,
    JobAccepted,
    JobOut,
    JobRequest,
    StylesResponse,
    UploadRequest,
    UploadTicket,
)
from stylemixer.resources import (
    API_CLIENT_TIMEOUTS,
    API_ROUTES,
    DELETE_JOB_ROUTE,
    HEALTH_ROUTE,
    JOB_ROUTE,
    JOBS_ROUTE,
    METRIC_JOBS_DELETED,
    METRIC_JOBS_SUBMITTED,
    OPENAPI_ROUTE,
    ORIGIN_VERIFY_HEADER,
    STYLES_ROUTE,
    UPLOADS_ROUTE,
    VIEWER_ADDRESS_HEADER,
    ApiRoute,
)
from stylemixer.settings import Settings

#: Request bodies are small JSON documents; anything larger is refused before it is parsed.
MAX_REQUEST_BYTES = 16 * 1024

SETTINGS = Settings.from_env(require_queue=True, require_quotas=True)
logger, metrics, tracer = observability(SETTINGS.stage)
#: S3, DynamoDB and SQS. Their clients give up on a stalled call within the function's timeout, so
#: the caller gets our error shape rather than API Gateway's timeout.
adapters = LazyAdapters(SETTINGS, timeouts=API_CLIENT_TIMEOUTS)
#: What one client may do, from the function's settings (stylemixer.limits gives each reason).
LIMITS = ClientLimits(
    jobs_per_hour=SETTINGS.client_jobs_per_hour,
    jobs_in_flight=SETTINGS.client_jobs_in_flight,
    upload_bytes_per_hour=SETTINGS.client_upload_bytes_per_hour,
    jobs_per_upload=SETTINGS.jobs_per_upload,
)
#: What the workers can take; without a worker count, the queue is not limited.
CAPACITY = (
    Capacity(SETTINGS.workers, SETTINGS.worker_jobs_per_minute, SETTINGS.backlog_minutes)
    if SETTINGS.workers
    else None
)

_cors = (
    CORSConfig(
        allow_origin=SETTINGS.allowed_origins[0],
        extra_origins=list(SETTINGS.allowed_origins[1:]),
        allow_headers=["Content-Type", "Authorization"],
        expose_headers=["Retry-After", "Location"],
        max_age=600,
    )
    if SETTINGS.allowed_origins
    else None
)
app = APIGatewayHttpResolver(cors=_cors, enable_validation=True)
#: The OpenAPI security scheme of the owner token (POST /jobs hands it out).
OWNER_TOKEN = "ownerToken"
app.configure_openapi(
    title="StyleMixer API",
    version=__version__,
    description="Upload a photo, pick styles, submit a job, poll it, fetch the stylized picture.",
    security_schemes={
        OWNER_TOKEN: HTTPBearer(
            description="The owner_token of POST /jobs's answer: `Authorization: Bearer <token>`."
        )
    },
)

_OWNER_OPTIONAL = [{}, {OWNER_TOKEN: []}]
_OWNER_REQUIRED = [{OWNER_TOKEN: []}]


def _route(route: ApiRoute, **details: Any) -> Any:
    """``app.route`` for one of :data:`~stylemixer.resources.API_ROUTES` (its method and path)."""
    return app.route(route.rule, route.method, **details)


def _responses(ok: int, model: type | None, *errors: int) -> dict[int, Any]:
    """OpenAPI responses: the success, and our error shape for each error status (500 on every route).

    Declaring 422 here also replaces Powertools' default validation-error schema with ours. A
    ``model`` of None is a success with no body (204).
    """
    entries: dict[int, Any] = {
        ok: {"description": HTTPStatus(ok).phrase}
        if model is None
        else {"description": HTTPStatus(ok).phrase, "content": {"application/json": {"model": model}}}
    }
    for status in (*errors, 422, 500):
        entries[status] = {
            "description": HTTPStatus(status).phrase,
            "content": {"application/json": {"model": ErrorResponse}},
        }
    return entries


# -- routes --------------------------------------------------------------------------------------


@_route(HEALTH_ROUTE, summary="Liveness check", tags=["meta"], responses=_responses(200, HealthResponse))
def health() -> HealthResponse:
    return HealthResponse()


@_route(STYLES_ROUTE, summary="The preset styles", tags=["styles"], responses=_responses(200, StylesResponse))
def styles() -> StylesResponse:
    return service.list_styles(SETTINGS.site_url)


@_route(
    UPLOADS_ROUTE,
    summary="Get a presigned POST for one picture",
    tags=["uploads"],
    responses=_responses(201, UploadTicket, 400, 413, 415, 429),
)
def create_upload(request: Annotated[UploadRequest, Body()]) -> Response[UploadTicket]:
    ticket = service.create_upload(adapters().store, request, utcnow(), gate=_gate())
    logger.append_keys(upload_id=ticket.upload_id)
    return Response(
        status_code=HTTPStatus.CREATED, content_type="application/json", body=ticket.model_dump(mode="json")
    )


@_route(
    JOBS_ROUTE,
    summary="Submit a stylization job",
    description="The answer's owner_token is given once: keep it to see the job's photo and to delete it.",
    tags=["jobs"],
    responses=_responses(202, JobAccepted, 400, 404, 410, 413, 415, 429, 503),
)
def submit_job(request: Annotated[JobRequest, Body()]) -> Response[JobAccepted]:
    deps = adapters()
    if deps.queue is None:  # cannot happen: Settings.from_env(require_queue=True) refused to start
        raise RuntimeError("the API function has no queue configured")
    accepted = service.accept_job(
        deps.store, deps.repo, deps.queue, request, utcnow(), owner_token=new_owner_token(), gate=_gate()
    )
    logger.append_keys(job_id=accepted.job_id)
    tracer.put_annotation("job_id", accepted.job_id)
    metrics.add_metric(name=METRIC_JOBS_SUBMITTED, unit="Count", value=1)
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type="application/json",
        body=accepted.model_dump(mode="json"),
        headers={"Location": accepted.links.self},
    )


@_route(
    JOB_ROUTE,
    summary="A job's status, progress and result",
    description="With the job's owner token, the answer also shows the photo the job was sent with.",
    tags=["jobs"],
    responses=_responses(200, JobOut, 400, 404),
    security=_OWNER_OPTIONAL,
)
def get_job(
    job_id: Annotated[str, Path(pattern=ID_PATTERN, description="A job id, from POST /jobs.")],
) -> Response[JobOut]:
    logger.append_keys(job_id=job_id[:64])
    deps = adapters()
    job = service.describe_job(
        deps.store, deps.repo, job_id, utcnow(), SETTINGS.site_url, owner_token=_owner_token()
    )
    return Response(
        status_code=HTTPStatus.OK,
        content_type="application/json",
        body=job.model_dump(mode="json"),
        # The body carries presigned links: no shared or browser cache may keep it.
        headers={"Cache-Control": "no-store"},
    )


@_route(
    DELETE_JOB_ROUTE,
    summary="Delete a job: its result, the pictures it was sent with, and its record",
    description="Needs the job's owner token. Afterwards the job answers 404 and its links fail.",
    tags=["jobs"],
    responses=_responses(204, None, 400, 403, 404),
    security=_OWNER_REQUIRED,
)
def delete_job(
    job_id: Annotated[str, Path(pattern=ID_PATTERN, description="A job id, from POST /jobs.")],
) -> Response[None]:
    logger.append_keys(job_id=job_id[:64])
    deps = adapters()
    service.delete_job(deps.store, deps.repo, job_id, _owner_token())
    metrics.add_metric(name=METRIC_JOBS_DELETED, unit="Count", value=1)
    return Response(status_code=HTTPStatus.NO_CONTENT, body="", headers={"Cache-Control": "no-store"})


@_route(
    OPENAPI_ROUTE,
    summary="This API's OpenAPI description",
    tags=["meta"],
    responses=_responses(200, dict[str, Any]),
)
def openapi() -> dict[str, Any]:
    return _openapi_document()


@functools.cache
def _openapi_document() -> dict[str, Any]:
    return json.loads(app.get_openapi_json_schema())


# -- who is asking -------------------------------------------------------------------------------


def _queue_depth() -> int:
    queue = adapters().queue
    return queue.depth() if queue is not None else 0


#: The queue's depth as this container sees it (read from SQS at most every few seconds).
gauge = QueueGauge(_queue_depth)


def _gate() -> ClientGate:
    """The limits of the client making this request (and admission control, with workers known)."""
    deps = adapters()
    if deps.quotas is None:  # cannot happen: Settings.from_env(require_quotas=True) refused to start
        raise RuntimeError("the API function has no quotas table configured")
    backlog = Backlog(gauge, CAPACITY) if CAPACITY is not None else None
    return ClientGate(deps.quotas, deps.repo, client_key(_client_address()), LIMITS, backlog)


def _client_address() -> str | None:
    """The address this request comes from: the viewer's, behind CloudFront, else API Gateway's."""
    event = app.current_event
    if SETTINGS.origin_verify is not None:  # check_origin let only CloudFront's requests through
        return viewer_address(event.headers.get(VIEWER_ADDRESS_HEADER))
    return event.request_context.http.source_ip


def _owner_token() -> str | None:
    return bearer_token(app.current_event.headers.get("authorization"))


# -- errors --------------------------------------------------------------------------------------


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """Our one error shape."""
    return Response(
        status_code=status,
        content_type="application/json",
        body={"error": {"code": code, "message": message}},
        headers=headers,
    )


@app.exception_handler(StyleMixerError)
def _refused(exc: StyleMixerError) -> Response:
    if isinstance(exc, RetryLaterError):  # a client's limit, or a busy queue: never our fault
        logger.info("request refused for now", extra={"code": exc.code, "retry_after": exc.retry_after})
        count_refusal(SETTINGS.stage, exc.code)
        retry = {"Retry-After": str(exc.retry_after)}
        return error_response(exc.status, exc.code, exc.message, headers=retry)
    if exc.status >= 500:
        logger.error("operator error", extra={"code": exc.code})
        return _internal_error()
    logger.info("request refused", extra={"code": exc.code})
    return error_response(exc.status, exc.code, exc.message)


@app.exception_handler(RequestValidationError)
def _invalid(exc: RequestValidationError) -> Response:
    errors = list(exc.errors())
    if any(e.get("loc", ("",))[0] == "response" for e in errors):
        # A response that does not match its own model is our bug, never the caller's 422.
        logger.error("response failed validation", extra={"errors": [e.get("type") for e in errors]})
        return _internal_error()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, MALFORMED_JSON, "The request body is not valid JSON.")
    refusal = service.schema_refusal(errors)
    if refusal is not None:
        return _refused(refusal)
    details = "; ".join(_describe(e) for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return error_response(422, VALIDATION_ERROR, f"The request is not valid: {details}{more}.")


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_type(_exc: RequestUnsupportedContentType) -> Response:
    return error_response(415, UNSUPPORTED_MEDIA_TYPE, "Send the request body as application/json.")


@app.exception_handler(NotFoundError)
def _not_found(_exc: NotFoundError) -> Response:
    event = app.current_event
    path, method = event.path, event.http_method.upper()
    allowed = sorted({route.method for route in API_ROUTES if route.pattern.match(path)})
    if allowed and method not in allowed:
        return error_response(
            405,
            METHOD_NOT_ALLOWED,
            f"{method} is not allowed here; use {', '.join(allowed)}.",
            headers={"Allow": ", ".join(allowed)},
        )
    return error_response(404, NOT_FOUND, "There is nothing at this address.")


@app.exception_handler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    status = HTTPStatus(exc.status_code)
    if status >= 500:
        return _internal_error()
    return error_response(status, status.phrase.replace(" ", ""), status.phrase + ".")


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    logger.exception("unhandled error")
    return _internal_error()


def _internal_error() -> Response:
    return error_response(
        500, INTERNAL_ERROR, "Something went wrong on our side. Please try again in a few minutes."
    )


def _describe(error: dict[str, Any]) -> str:
    """One validation error as ``field.path: what is wrong`` (never echoing the input)."""
    parts = [str(p) for p in error.get("loc", ()) if not (isinstance(p, str) and p[:1].isupper())]
    if parts and parts[0] == "body":
        parts = parts[1:]
    where = ".".join(parts) or "body"
    message = str(error.get("msg", "is not valid"))[:200]
    return f"{where}: {message}"


# -- entry point ---------------------------------------------------------------------------------


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for API Gateway HTTP API (payload format 2.0) events."""
    refusal = check_origin(event) or check_body(event)
    if refusal is not None:
        return refusal
    return app.resolve(event, context)


def check_origin(event: dict[str, Any]) -> dict[str, Any] | None:
    """Behind the site's CloudFront, refuse a request that did not come through it (403).

    CloudFront adds a header only it knows the value of; a request sent to the API's own address
    lacks it, and could otherwise name any viewer address it likes and pass the edge's rate limits.
    """
    if SETTINGS.origin_verify is None:
        return None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    proof = str(headers.get(ORIGIN_VERIFY_HEADER) or "")
    if hmac.compare_digest(proof.encode(), SETTINGS.origin_verify.encode()):
        return None
    return _raw_error(event, 403, USE_THE_SITE, "Call the API through the site's own address (/api/...).")


def check_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """Refuse a body that is too large, cannot be read as JSON or is not an object, before anything parses it.

    Powertools would parse it too, but a body nested 5000 deep, invalid UTF-8 or broken base64 makes
    its parser raise errors that are not JSON errors, which would come out as 500s; and it parses
    form bodies itself (a ``multipart/form-data`` type without a boundary raises), so a body of any
    other type is refused here.
    """
    body = event.get("body") or ""
    encoded = bool(event.get("isBase64Encoded"))
    size = len(body) * 3 // 4 if encoded else len(body.encode())
    if size > MAX_REQUEST_BYTES:
        return _raw_error(
            event,
            413,
            REQUEST_TOO_LARGE,
            f"The request body is larger than {MAX_REQUEST_BYTES // 1024} KB; "
            "send the picture to the upload URL, not to the API.",
        )
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = (headers.get("content-type") or "").strip().lower()
    if not body:
        return None  # validation says what is missing
    if content_type and not content_type.startswith("application/json"):
        return _raw_error(event, 415, UNSUPPORTED_MEDIA_TYPE, "Send the request body as application/json.")
    try:
        text = base64.b64decode(body, validate=True).decode("utf-8") if encoded else body
        parsed = json.loads(text)
    except (ValueError, RecursionError, binascii.Error):  # UnicodeDecodeError is a ValueError
        return _raw_error(event, 400, MALFORMED_JSON, "The request body is not valid JSON.")
    if not isinstance(parsed, dict):
        # Powertools would validate the first element of a list in place of the body, ignoring the rest.
        return _raw_error(event, 422, VALIDATION_ERROR, "The request is not valid: send one JSON object.")
    return None


def _raw_error(event: dict[str, Any], status: int, code: str, message: str) -> dict[str, Any]:
    """An error in our shape, with CORS headers, answered without routing the request."""
    headers = {"Content-Type": "application/json"}
    origin = {k.lower(): v for k, v in (event.get("headers") or {}).items()}.get("origin")
    if _cors is not None and origin:
        headers.update(_cors.to_dict(origin))
    return {
        "statusCode": status,
        "headers": headers,
        "isBase64Encoded": False,
        "body": json.dumps({"error": {"code": code, "message": message}}),
    }
