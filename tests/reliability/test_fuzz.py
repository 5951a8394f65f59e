"""Schemathesis fuzzes the API from its generated OpenAPI document, on the local stack.

`stylemixer serve` runs in a child process on a free loopback port. The document is the one the API
serves at ``/api/openapi.json`` (checked equal to the in-process one, which names the parameters);
for every operation, schemathesis generates requests that fit it (positive) and requests that break
it (negative) and sends them. No answer is a 5xx; no request that fits the document is refused
(only a 404 for an id that names nothing may answer it: a job, or an upload never made); every
request that breaks it is. A fixed number of examples per operation and mode bounds the run. The
repository's ``schemathesis.toml`` (also read by ``schemathesis run``) counts 413 as a refusal.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import pytest
import requests

schemathesis = pytest.importorskip(
    "schemathesis", reason="schemathesis is a dev dependency (pip install -e .[dev])"
)
from hypothesis import HealthCheck, given, settings  # noqa: E402  (schemathesis brings hypothesis)
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    negative_data_rejection,
    positive_data_acceptance,
)

from functions.api import handler as api  # noqa: E402  (the harness, via conftest, set its environment)
from stylemixer.local.process import served_stack  # noqa: E402
from stylemixer.resources import API_ROUTES  # noqa: E402
from tests.support.environment import STARTUP_PATIENCE_SECONDS  # noqa: E402
from tests.support.paths import ROOT  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator

    from stylemixer.local.process import ServedStack

#: Examples per operation and mode (6 operations positive, the 2 with a body negative too).
EXAMPLES = 30
LOG = ROOT / "artifacts" / "reliability" / "fuzz-serve.log"
SCHEMA = schemathesis.openapi.from_dict(
    api.openapi(), config=SchemathesisConfig.from_path(str(ROOT / "schemathesis.toml"))
)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
#: Negative requests exist only where there is something to break: a JSON body, or a path parameter
#: with a pattern (a job id).
CASES = [(o, POSITIVE) for o in OPERATIONS] + [
    (o, NEGATIVE) for o in OPERATIONS if len(o.body) > 0 or len(o.path_parameters) > 0
]
CHECKS = {
    POSITIVE: [not_a_server_error, positive_data_acceptance],
    NEGATIVE: [not_a_server_error, negative_data_rejection],
}


@pytest.fixture(autouse=True)
def subnormal_floats() -> Iterator[None]:
    """Hypothesis needs subnormal floats; an engine run earlier in this process flushes them to zero.

    (``stylemixer.neural.runtime.tune_runtime`` sets torch's flush-denormal mode, which is process-wide.)
    """
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    smallest_normal = sys.float_info.min
    flushing = smallest_normal / 2 == 0.0  # subnormal results are flushed to zero
    torch.set_flush_denormal(False)
    try:
        yield
    finally:
        if flushing:
            torch.set_flush_denormal(True)


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[ServedStack]:
    with served_stack(LOG, python=sys.executable, timeout=STARTUP_PATIENCE_SECONDS) as served:
        yield served
    output = LOG.read_text(encoding="utf-8")
    assert "Traceback" not in output, f"the stack logged a failure while being fuzzed; see {LOG}"


def test_the_served_document_is_the_one_fuzzed(fuzz_stack: ServedStack) -> None:
    served = requests.get(fuzz_stack.url + "api/openapi.json", timeout=10).json()
    assert served == api.openapi()
    assert len(OPERATIONS) == len(API_ROUTES)


@pytest.mark.parametrize(("operation", "mode"), CASES, ids=[f"{o.label} {m.value}" for o, m in CASES])
def test_api_answers_as_its_document_says(fuzz_stack: ServedStack, operation: Any, mode: Any) -> None:
    base_url = fuzz_stack.url + "api"
    session = requests.Session()
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def fuzz(case: Any) -> None:
        # Given a generated request / When it is sent / Then the answer is not a 5xx, and a request
        # that fits the document is not refused, one that breaks it is
        response = case.call_and_validate(base_url=base_url, session=session, checks=CHECKS[mode], timeout=10)
        statuses.append(response.status_code)

    fuzz()
    assert statuses, "no request was sent"
    if mode is NEGATIVE:
        # And a request that breaks the document is refused, never accepted
        assert all(400 <= s < 500 for s in statuses), sorted(set(statuses))
    else:
        # And one that fits it is taken, or names something that is not there
        assert all(s < 400 or s == 404 for s in statuses), sorted(set(statuses))
