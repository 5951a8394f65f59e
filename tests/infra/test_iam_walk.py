"""Every AWS call each function's code can make, walked against its role in the synthesized stack.

The calls are read from the code (:mod:`tests.support.aws_calls`), starting at the handler each
function's image command names in the template, so no code path has to run to be checked; the
permissions are the role's statements as synthesized. Lambda's event source mappings poll with the
function's role too, so their needs are added. Nothing may be missing, and nothing granted unneeded.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import pytest

from stylemixer.permissions import GRANTS, Function, Target
from stylemixer.resources import QUEUED_INDEX
from tests.support.aws_calls import (
    UnplacedCallError,
    _key_target,
    function_calls,
    required_permissions,
)
from tests.support.cfn import permissions, render

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra

#: What Lambda's SQS event source mapping calls with the function's role (Lambda's documentation).
EVENT_SOURCE_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")


def _target_names(synth: Synth) -> dict[Target, str]:
    bucket = f"<{synth.logical_id(synth.stack.storage.data)}.Arn>"
    table = f"<{synth.logical_id(synth.stack.jobs.table)}.Arn>"
    return {
        Target.UPLOADS: f"{bucket}/uploads/*",
        Target.RESULTS: f"{bucket}/results/*",
        Target.JOBS_TABLE: table,
        Target.QUEUED_INDEX: f"{table}/index/{QUEUED_INDEX}",
        Target.QUOTAS_TABLE: f"<{synth.logical_id(synth.stack.admission.quotas)}.Arn>",
        Target.JOBS_QUEUE: f"<{synth.logical_id(synth.stack.jobs.queue)}.Arn>",
        Target.DEAD_LETTER_QUEUE: f"<{synth.logical_id(synth.stack.jobs.dead_letters)}.Arn>",
    }


def needed(synth: Synth, function: Function) -> dict[tuple[str, str], set[str]]:
    """(action, resource) -> why, for everything one deployed function calls in AWS."""
    fn = synth.stack.functions.by_function[function]
    props = synth.props(fn)
    (handler,) = props["ImageConfig"]["Command"]
    names = _target_names(synth)
    found = {
        (action, names[target]): where
        for (action, target), where in required_permissions(handler.rpartition(".")[0]).items()
    }
    logical_id = synth.logical_id(fn)
    for mapping in synth.resources("AWS::Lambda::EventSourceMapping").values():
        if mapping["Properties"]["FunctionName"] == {"Ref": logical_id}:
            queue = render(mapping["Properties"]["EventSourceArn"])
            for action in EVENT_SOURCE_ACTIONS:
                found.setdefault((action, queue), set()).add("its event source mapping")
    return found


def granted(synth: Synth, function: Function) -> set[tuple[str, str]]:
    """(action, resource) the function's role allows, Lambda's own logs and traces set aside."""
    allowed = permissions(synth.cfn, synth.logical_id(synth.stack.functions.by_function[function].role))
    return {
        (action, resource)
        for action, resources in allowed.items()
        if not action.startswith(("logs:", "xray:"))
        for resource in resources
    }


def missing(needs: dict[tuple[str, str], set[str]], allowed: set[tuple[str, str]]) -> list[str]:
    return sorted(
        f"{a} on {r} (needed at {', '.join(sorted(w))})"
        for (a, r), w in needs.items()
        if (a, r) not in allowed
    )


@pytest.mark.parametrize("function", list(Function))
def test_every_aws_call_the_function_makes_is_allowed_by_its_role(synth: Synth, function: Function) -> None:
    # Given every call the function's code can make, and its role's statements
    needs, allowed = needed(synth, function), granted(synth, function)
    # Then none is missing: AWS would refuse it, and the job or the request would fail
    assert needs, "the walk found no call at all"
    assert missing(needs, allowed) == []


@pytest.mark.parametrize("function", list(Function))
def test_no_role_allows_what_its_function_never_does(synth: Synth, function: Function) -> None:
    needs, allowed = needed(synth, function), granted(synth, function)
    assert sorted(allowed - set(needs)) == []


def test_the_walk_sees_the_api_fail_a_job_the_queue_refused(synth: Synth) -> None:
    # Given the API's path when SendMessage fails: the job it stored is marked failed (UpdateItem)
    needs = needed(synth, Function.API)
    table = _target_names(synth)[Target.JOBS_TABLE]
    assert any("service.py:submit_job" in where for where in needs["dynamodb:UpdateItem", table])
    # When the API's role lacks UpdateItem (as it once did), the walk reports exactly that call
    narrower = {
        (action, resource)
        for action, resource in granted(synth, Function.API)
        if (action, resource) != ("dynamodb:UpdateItem", table)
    }
    (report,) = missing(needs, narrower)
    where = "stylemixer/jobs/service.py:submit_job"
    assert report.startswith(f"dynamodb:UpdateItem on {table} (needed at {where}")


def test_the_walk_sees_the_api_delete_a_job_for_its_owner(synth: Synth) -> None:
    # Given the API's DELETE /jobs/{job_id}: the record, then the job's results and its uploads
    needs = needed(synth, Function.API)
    names = _target_names(synth)
    assert any("delete_job" in where for where in needs["dynamodb:DeleteItem", names[Target.JOBS_TABLE]])
    for prefix, helper in ((Target.UPLOADS, "delete_uploads"), (Target.RESULTS, "delete_results")):
        assert any(helper in where for where in needs["s3:DeleteObject", names[prefix]]), prefix
    # When the API's role lacks s3:DeleteObject on uploads, the walk reports exactly that call
    narrower = granted(synth, Function.API) - {("s3:DeleteObject", names[Target.UPLOADS])}
    (report,) = missing(needs, narrower)
    assert report.startswith(
        f"s3:DeleteObject on {names[Target.UPLOADS]} (needed at stylemixer/jobs/removal.py"
    )


def test_the_walk_sees_the_limits_per_client_and_the_queues_depth(synth: Synth) -> None:
    needs = needed(synth, Function.API)
    names = _target_names(synth)
    quotas = names[Target.QUOTAS_TABLE]
    assert any("admission/quotas.py" in where for where in needs["dynamodb:UpdateItem", quotas])
    assert any("admission/quotas.py" in where for where in needs["dynamodb:GetItem", quotas])
    assert any("_queue_depth" in where for where in needs["sqs:GetQueueAttributes", names[Target.JOBS_QUEUE]])
    # And no other function touches the quotas table
    for function in (Function.WORKER, Function.DEAD_LETTERS, Function.SWEEPER):
        assert not any(resource == quotas for _, resource in needed(synth, function)), function


def test_the_walk_reads_each_keys_prefix_at_the_call_site() -> None:
    # The worker reads uploads and writes results; the API signs uploads and result links
    worker = {(c.method, c.target) for c in function_calls("functions.worker.handler") if c.port == "store"}
    assert {("read", Target.UPLOADS), ("write", Target.RESULTS), ("delete", Target.RESULTS)} <= worker
    api = {(c.method, c.target) for c in function_calls("functions.api.handler") if c.port == "store"}
    assert {
        ("presign_post", Target.UPLOADS),
        ("presign_get", Target.RESULTS),
        ("peek", Target.UPLOADS),
    } <= api
    # And a key it cannot place is an error, not a pass
    scope = ast.parse("def f(store, name):\n    store.read('anywhere/' + name)\n")
    call = scope.body[0].body[0].value  # type: ignore[attr-defined]
    with pytest.raises(UnplacedCallError, match="cannot tell which prefix"):
        _key_target(call.args[0], scope, "f")


def test_the_grants_module_is_what_the_walk_needs() -> None:
    # The local stack enforces stylemixer.permissions: every action the walk needs is granted there
    modules = {
        Function.API: "functions.api.handler",
        Function.WORKER: "functions.worker.handler",
        Function.DEAD_LETTERS: "functions.dead_letters.handler",
        Function.SWEEPER: "functions.sweeper.handler",
    }
    for function, module in modules.items():
        granted_here = {(a, g.target) for g in GRANTS[function] for a in g.actions}
        assert set(required_permissions(module)) <= granted_here, function
