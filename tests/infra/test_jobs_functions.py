"""Jobs (table, queue, dead-letter queue) and the three functions with their least-privilege grants."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from stylemixer import resources as names
from stylemixer.permissions import GRANTS, Target
from stylemixer.resources import (
    API_HANDLER,
    BACKLOG_ALLOWANCE_SECONDS,
    DLQ_HANDLER,
    LARGEST_JOB_PEAK_MB,
    MAX_RECEIVE_COUNT,
    METRICS_NAMESPACE,
    SERVICE_NAME,
    TABLE_PARTITION_KEY,
    TABLE_TTL_ATTRIBUTE,
    VISIBILITY_TIMEOUT_FACTOR,
    WORKER_EPHEMERAL_MB,
    WORKER_HANDLER,
    WORKER_MALLOC_ARENA_MAX,
    WORKER_MEMORY_MB,
    WORKER_TIMEOUT_MARGIN,
    WORKER_TIMEOUT_SECONDS,
    worst_clip_seconds,
    worst_job_seconds,
)
from tests.support.cfn import permissions, render, statements

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra


def test_table_is_on_demand_with_ttl_and_point_in_time_recovery(synth: Synth) -> None:
    props = synth.props(synth.stack.jobs.table)
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": TABLE_PARTITION_KEY, "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": TABLE_TTL_ATTRIBUTE, "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True


def test_queue_redrives_to_the_dead_letter_queue_after_the_shared_receive_count(synth: Synth) -> None:
    # Given the jobs queue
    props = synth.props(synth.stack.jobs.queue)
    dlq_id = synth.logical_id(synth.stack.jobs.dead_letters)
    # Then after MAX_RECEIVE_COUNT receives a message moves to the dead-letter queue
    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    }
    # And the dead-letter queue keeps messages for the longest SQS allows (14 days)
    assert synth.props(synth.stack.jobs.dead_letters)["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_worker_timeout_fits_the_slowest_photo_thrice_and_the_longest_clip_with_a_quarter_to_spare(
    synth: Synth,
) -> None:
    # Given the worker as deployed by default
    props = synth.props(synth.stack.functions.worker)
    memory = props["MemorySize"]
    # Then its timeout is the sized default: at least 3 times the slowest photo (a 50 MP photo, four
    # styles by region at fine: about 114 s) and 1.25 times the longest clip's job (about 585 s at
    # 4096 MB), in whole minutes, within Lambda's 900 s
    assert props["Timeout"] == WORKER_TIMEOUT_SECONDS <= 900
    assert props["Timeout"] >= WORKER_TIMEOUT_MARGIN * worst_job_seconds(memory)
    assert props["Timeout"] >= 1.25 * worst_clip_seconds(memory)
    assert props["Timeout"] - 60 < 1.25 * worst_clip_seconds(memory)
    # And its disk holds a clip and its painting
    assert props["EphemeralStorage"]["Size"] == WORKER_EPHEMERAL_MB


def test_queue_visibility_is_six_times_the_worker_timeout(synth: Synth) -> None:
    worker_timeout = synth.props(synth.stack.functions.worker)["Timeout"]
    visibility = synth.props(synth.stack.jobs.queue)["VisibilityTimeout"]
    assert visibility == VISIBILITY_TIMEOUT_FACTOR * worker_timeout == 4680  # 78 minutes, at most 12 hours
    # And the dead-letter queue's visibility covers its own consumer the same way
    dlq_visibility = synth.props(synth.stack.jobs.dead_letters)["VisibilityTimeout"]
    assert (
        dlq_visibility
        >= VISIBILITY_TIMEOUT_FACTOR * synth.props(synth.stack.functions.dead_letters)["Timeout"]
    )


def test_every_message_reaches_a_worker_or_the_dead_letter_queue_before_it_expires(synth: Synth) -> None:
    # Given the jobs queue and its dead-letter queue
    queue = synth.props(synth.stack.jobs.queue)
    dlq = synth.props(synth.stack.jobs.dead_letters)
    receives = queue["RedrivePolicy"]["maxReceiveCount"]
    # Then a message kept waiting a day still has every receive before the queue drops it
    assert (
        queue["MessageRetentionPeriod"] >= BACKLOG_ALLOWANCE_SECONDS + receives * queue["VisibilityTimeout"]
    )
    assert queue["MessageRetentionPeriod"] >= 4 * 24 * 3600
    # And the dead-letter queue keeps it longer than that (a message keeps its first enqueue time)
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]


def test_queues_are_encrypted_and_refuse_plain_http(synth: Synth) -> None:
    for queue in (synth.stack.jobs.queue, synth.stack.jobs.dead_letters):
        assert synth.props(queue)["SqsManagedSseEnabled"] is True
    policies = synth.resources("AWS::SQS::QueuePolicy").values()
    for policy in policies:
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(policies) == 2


def test_functions_run_the_one_image_with_their_own_handler(synth: Synth) -> None:
    # Given the three functions
    fns = synth.stack.functions
    expected = {fns.api: API_HANDLER, fns.worker: WORKER_HANDLER, fns.dead_letters: DLQ_HANDLER}
    images = set()
    for fn, handler in expected.items():
        props = synth.props(fn)
        # Then each is a container image function naming its handler as the command
        assert props["PackageType"] == "Image"
        assert props["ImageConfig"]["Command"] == [handler]
        images.add(render(props["Code"]["ImageUri"]))
        assert props["TracingConfig"] == {"Mode": "Active"}
    # And all three run the same image
    assert len(images) == 1


def test_worker_size_is_the_configured_one(synth: Synth) -> None:
    props = synth.props(synth.stack.functions.worker)
    # The largest photo job's peak (a 50 MP photo by region at fine) fills at most 75 % of it, 10 points
    # below the memory alarm; a disk for a clip
    assert props["MemorySize"] == WORKER_MEMORY_MB == 4096
    assert LARGEST_JOB_PEAK_MB <= 0.75 * props["MemorySize"] < LARGEST_JOB_PEAK_MB + 0.75 * 512
    assert props["EphemeralStorage"] == {"Size": WORKER_EPHEMERAL_MB}
    assert props["Architectures"] == ["x86_64"]
    # Two glibc heaps: its peak memory then does not depend on the CPU's contention (tests/unit/test_bands.py)
    assert props["Environment"]["Variables"]["MALLOC_ARENA_MAX"] == WORKER_MALLOC_ARENA_MAX


def test_worker_consumes_one_job_at_a_time_with_bounded_concurrency(synth: Synth) -> None:
    # Given the event source mappings
    mappings = {
        render(m["Properties"]["FunctionName"]): m["Properties"]
        for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
    }
    worker = mappings[f"<{synth.logical_id(synth.stack.functions.worker)}>"]
    dead_letters = mappings[f"<{synth.logical_id(synth.stack.functions.dead_letters)}>"]
    # Then the worker takes one message per invocation and reports failures per message
    assert worker["BatchSize"] == 1
    assert worker["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert worker["ScalingConfig"] == {"MaximumConcurrency": 5}
    assert render(worker["EventSourceArn"]) == f"<{synth.logical_id(synth.stack.jobs.queue)}.Arn>"
    # And the dead-letter consumer reads the dead-letter queue
    assert (
        render(dead_letters["EventSourceArn"]) == f"<{synth.logical_id(synth.stack.jobs.dead_letters)}.Arn>"
    )
    assert dead_letters["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_functions_get_the_environment_the_handlers_read(synth: Synth) -> None:
    fns = synth.stack.functions
    bucket, table, queue = (
        synth.logical_id(synth.stack.storage.data),
        synth.logical_id(synth.stack.jobs.table),
        synth.logical_id(synth.stack.jobs.queue),
    )
    for fn in (fns.api, fns.worker, fns.dead_letters):
        env = synth.props(fn)["Environment"]["Variables"]
        assert env[names.ENV_BUCKET] == {"Ref": bucket}
        assert env[names.ENV_TABLE] == {"Ref": table}
        assert env[names.ENV_QUEUE_URL] == {"Ref": queue}
        assert env[names.ENV_STAGE] == "dev"
        assert env["POWERTOOLS_SERVICE_NAME"] == SERVICE_NAME
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == METRICS_NAMESPACE
    # And the worker knows the queue's maxReceiveCount, from the same setting as the redrive policy
    worker_env = synth.props(fns.worker)["Environment"]["Variables"]
    redrive = synth.props(synth.stack.jobs.queue)["RedrivePolicy"]
    max_receive = worker_env[names.ENV_MAX_RECEIVE_COUNT]
    assert max_receive == str(redrive["maxReceiveCount"]) == str(MAX_RECEIVE_COUNT)
    # And the API knows the site's origin (for CORS and absolute thumbnail URLs)
    api_env = synth.props(fns.api)["Environment"]["Variables"]
    site = f"https://<{synth.logical_id(synth.stack.site.distribution)}.DomainName>"
    assert render(api_env[names.ENV_ALLOWED_ORIGINS]) == site
    assert render(api_env[names.ENV_SITE_URL]) == site


def test_functions_use_their_own_roles_without_managed_policies(synth: Synth) -> None:
    fns = synth.stack.functions
    roles = {synth.logical_id(fn.role) for fn in fns.by_function.values()}
    assert len(roles) == 4
    for role in roles:
        assert "ManagedPolicyArns" not in synth.cfn["Resources"][role]["Properties"]


def test_each_role_allows_exactly_the_grants_the_local_stack_enforces(synth: Synth) -> None:
    # Given the targets as the template names them
    bucket = f"<{synth.logical_id(synth.stack.storage.data)}.Arn>"
    table = f"<{synth.logical_id(synth.stack.jobs.table)}.Arn>"
    names = {
        Target.UPLOADS: f"{bucket}/uploads/*",
        Target.RESULTS: f"{bucket}/results/*",
        Target.JOBS_TABLE: table,
        Target.QUEUED_INDEX: f"{table}/index/queued-by-age",
        Target.QUOTAS_TABLE: f"<{synth.logical_id(synth.stack.admission.quotas)}.Arn>",
        Target.JOBS_QUEUE: f"<{synth.logical_id(synth.stack.jobs.queue)}.Arn>",
        Target.DEAD_LETTER_QUEUE: f"<{synth.logical_id(synth.stack.jobs.dead_letters)}.Arn>",
    }
    for function, fn in synth.stack.functions.by_function.items():
        # When the role's statements are read back, Lambda's own (logs, X-Ray) set aside
        found = {
            (actions, resources)
            for actions, resources in statements(synth.cfn, synth.logical_id(fn.role))
            if not all(a.startswith(("logs:", "xray:")) for a in actions)
        }
        # Then they are the grants of stylemixer.permissions, one statement each, nothing more
        expected = {(frozenset(g.actions), frozenset({names[g.target]})) for g in GRANTS[function]}
        assert found == expected, function


def _grants(synth: Synth, fn) -> dict[str, set[str]]:
    allowed = permissions(synth.cfn, synth.logical_id(fn.role))
    logs = synth.logical_id(fn.node.scope.node.find_child(f"{fn.node.id}Logs"))
    # Every function writes its own log group and sends traces; nothing else is shared.
    assert allowed.pop("logs:CreateLogStream") == {f"<{logs}.Arn>"}
    assert allowed.pop("logs:PutLogEvents") == {f"<{logs}.Arn>"}
    assert allowed.pop("xray:PutTraceSegments") == {"*"}
    assert allowed.pop("xray:PutTelemetryRecords") == {"*"}
    return allowed


def test_api_may_sign_uploads_check_them_write_jobs_and_enqueue_nothing_more(synth: Synth) -> None:
    # Given the API function's role
    allowed = _grants(synth, synth.stack.functions.api)
    bucket = synth.logical_id(synth.stack.storage.data)
    table = synth.logical_id(synth.stack.jobs.table)
    quotas = synth.logical_id(synth.stack.admission.quotas)
    queue = synth.logical_id(synth.stack.jobs.queue)
    objects = {f"<{bucket}.Arn>/uploads/*", f"<{bucket}.Arn>/results/*"}
    # Then it signs POSTs for uploads/* only (the signature carries the signer's PutObject)
    assert allowed["s3:PutObject"] == {f"<{bucket}.Arn>/uploads/*"}
    # And reads the head of an upload to check it, and signs result GETs (which need GetObject)
    assert allowed["s3:GetObject"] == objects
    # And deletes a job's pictures for its owner, uploads and results alike
    assert allowed["s3:DeleteObject"] == objects
    # And writes, reads, fails and deletes jobs, counts each client's limits, and enqueues jobs
    assert allowed["dynamodb:PutItem"] == allowed["dynamodb:DeleteItem"] == {f"<{table}.Arn>"}
    assert (
        allowed["dynamodb:GetItem"] == allowed["dynamodb:UpdateItem"] == {f"<{table}.Arn>", f"<{quotas}.Arn>"}
    )
    assert allowed["sqs:SendMessage"] == allowed["sqs:GetQueueAttributes"] == {f"<{queue}.Arn>"}
    # And nothing else: no list, no scan, no consume
    assert set(allowed) == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:DeleteObject",
        "dynamodb:PutItem",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "sqs:SendMessage",
        "sqs:GetQueueAttributes",
    }


def test_worker_reads_uploads_writes_results_updates_jobs_and_consumes_its_queue(synth: Synth) -> None:
    allowed = _grants(synth, synth.stack.functions.worker)
    bucket = synth.logical_id(synth.stack.storage.data)
    table = synth.logical_id(synth.stack.jobs.table)
    queue = synth.logical_id(synth.stack.jobs.queue)
    assert allowed.pop("s3:GetObject") == {f"<{bucket}.Arn>/uploads/*"}
    assert allowed.pop("s3:PutObject") == {f"<{bucket}.Arn>/results/*"}
    assert allowed.pop("s3:DeleteObject") == {f"<{bucket}.Arn>/results/*"}
    assert allowed.pop("dynamodb:GetItem") == allowed.pop("dynamodb:UpdateItem") == {f"<{table}.Arn>"}
    consume = {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
    }
    for action in consume:
        assert allowed.pop(action) == {f"<{queue}.Arn>"}
    assert allowed == {}


def test_dead_letter_consumer_only_fails_jobs_and_cleans_their_results(synth: Synth) -> None:
    allowed = _grants(synth, synth.stack.functions.dead_letters)
    bucket = synth.logical_id(synth.stack.storage.data)
    table = synth.logical_id(synth.stack.jobs.table)
    dlq = synth.logical_id(synth.stack.jobs.dead_letters)
    assert allowed.pop("s3:DeleteObject") == {f"<{bucket}.Arn>/results/*"}
    assert allowed.pop("dynamodb:GetItem") == allowed.pop("dynamodb:UpdateItem") == {f"<{table}.Arn>"}
    assert allowed == {
        action: {f"<{dlq}.Arn>"}
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
    }


def test_sweeper_only_reads_the_queued_jobs_index_and_fails_jobs(synth: Synth) -> None:
    allowed = _grants(synth, synth.stack.functions.sweeper)
    table = synth.logical_id(synth.stack.jobs.table)
    assert allowed == {
        "dynamodb:Query": {f"<{table}.Arn>/index/queued-by-age"},
        "dynamodb:UpdateItem": {f"<{table}.Arn>"},
    }


def test_no_function_role_can_touch_the_whole_bucket(synth: Synth) -> None:
    bucket = synth.logical_id(synth.stack.storage.data)
    fns = synth.stack.functions
    for fn in fns.by_function.values():
        for action, resources in permissions(synth.cfn, synth.logical_id(fn.role)).items():
            assert not action.endswith("*"), action
            assert f"<{bucket}.Arn>" not in resources
            assert f"<{bucket}.Arn>/*" not in resources
