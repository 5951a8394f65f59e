"""Powertools Logger, Metrics and Tracer, set up the same way for every function.

The Tracer is built on the first invocation rather than at import: constructing it imports the
X-Ray SDK (and botocore), about 0.3 s the API function's cold import would otherwise pay before it
can route a request. It is still built once per cold start.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from stylemixer.resources import METRIC_JOBS_FAILED, METRIC_REQUESTS_REFUSED, METRICS_NAMESPACE, SERVICE_NAME

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

F = TypeVar("F", bound=Callable[..., Any])

# Most API requests emit no metric (only job submissions do); that is expected, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def observability(stage: str) -> tuple[Logger, Metrics, LazyTracer]:
    """The logger, the metrics (with ``stage``) and the tracer each function builds at cold start.

    Example:
        >>> logger, metrics, tracer = observability("prod")
    """
    return make_logger(), make_metrics(stage), LazyTracer()


def make_logger() -> Logger:
    """A structured JSON logger for the service, shared with the library's own loggers.

    ``stylemixer.*`` modules log with the standard library; their records go out through this
    logger's formatter, so they are JSON too and carry the keys appended here (the job id).
    """
    logger = Logger(service=SERVICE_NAME)
    copy_config_to_registered_loggers(source_logger=logger, include={"stylemixer"})
    return logger


def make_metrics(stage: str) -> Metrics:
    """EMF metrics in the service's namespace, with the ``service`` and ``stage`` dimensions.

    The stage keeps two deployments in one account apart: each has its own series, and its alarms
    and dashboard read only its own.

    Example:
        >>> metrics = make_metrics("prod")
    """
    metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
    metrics.set_default_dimensions(stage=stage)
    return metrics


def count_failure(stage: str, reason: str) -> None:
    """``JobsFailed`` with the reason as a third dimension (its own EMF blob, so other metrics keep
    their two dimensions).

    Example:
        >>> count_failure("prod", "ProcessingFailed")  # one EMF line on standard output
        {"_aws":...,"stage":"prod","reason":"ProcessingFailed","JobsFailed":[1.0]}
    """
    _count_with_reason(METRIC_JOBS_FAILED, stage, reason)


def count_refusal(stage: str, reason: str) -> None:
    """``RequestsRefused`` (a client's limit, or a busy queue: 429 or 503) with the refusal's code as
    its ``reason`` dimension, as :func:`count_failure` does.

    Example:
        >>> count_refusal("prod", "Busy")
        {"_aws":...,"stage":"prod","reason":"Busy","RequestsRefused":[1.0]}
    """
    _count_with_reason(METRIC_REQUESTS_REFUSED, stage, reason)


def _count_with_reason(name: str, stage: str, reason: str) -> None:
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=METRICS_NAMESPACE,
        default_dimensions={"service": SERVICE_NAME, "stage": stage},
    ) as metric:
        metric.add_dimension(name="reason", value=reason)


class LazyTracer:
    """A Powertools :class:`Tracer` whose construction waits for the first invocation.

    Example:
        >>> tracer = LazyTracer()
        >>> @tracer.capture_lambda_handler
        ... def handler(event, context): ...
    """

    def __init__(self, service: str = SERVICE_NAME) -> None:
        self._service = service

    @functools.cached_property
    def tracer(self) -> Tracer:
        from aws_lambda_powertools import Tracer

        return Tracer(service=self._service)

    def capture_lambda_handler(self, handler: F) -> F:
        """Trace ``handler`` with the real Tracer, built on its first call."""
        traced: list[Callable[..., Any]] = []

        @functools.wraps(handler)
        def wrapper(event: Any, context: Any) -> Any:
            if not traced:
                traced.append(self.tracer.capture_lambda_handler(handler))
            return traced[0](event, context)

        return wrapper  # type: ignore[return-value]

    def put_annotation(self, key: str, value: str | int | float | bool) -> None:
        """Annotate the current trace segment (searchable in X-Ray)."""
        self.tracer.put_annotation(key=key, value=value)
