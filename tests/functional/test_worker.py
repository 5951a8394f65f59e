"""The worker and the dead-letter handler, fed the messages the API really enqueued (moto SQS)."""

from __future__ import annotations

import io
import json
import resource
from typing import Any

import pytest
import requests
from PIL import Image

from functions.worker import handler as worker
from stylemixer import resources
from stylemixer.errors import InvalidRequestError
from stylemixer.jobs.model import new_id
from stylemixer.local.context import LambdaContext
from tests.support.aws import (
    FakeEngine,
    Stack,
    call_api,
    lambda_context,
    on_receive,
    raw_sqs_event,
    run_dead_letters,
    run_worker,
    upload_through_presigned_post,
)
from tests.support.environment import DLQ_URL, QUEUE_URL
from tests.support.pictures import sample_jpeg


def _photo(max_side: int = 320) -> bytes:
    return sample_jpeg("astronaut", max_side)


def _submit(aws: Stack, data: bytes | None = None, **options: Any) -> str:
    """Upload a photo the way the page does and submit a job for it."""
    content = upload_through_presigned_post(_photo() if data is None else data)
    body = {"content": content, "styles": [{"preset": "swirling-night"}], **options}
    response = call_api("POST", "/jobs", body)
    assert response.status == 202, response.body
    return response.body["job_id"]


def _deliver(aws: Stack) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Receive what is on the jobs queue and hand it to the worker as Lambda would."""
    messages = aws.receive()
    assert messages, "nothing was queued"
    return run_worker(messages), messages


def _job(job_id: str) -> dict[str, Any]:
    response = call_api("GET", f"/jobs/{job_id}")
    assert response.status == 200, response.body
    return response.body


def _emf(output: str) -> list[dict[str, Any]]:
    """The EMF metric documents Powertools printed."""
    documents = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            documents.append(json.loads(line))
    return documents


def _metric_names(documents: list[dict[str, Any]]) -> set[str]:
    return {m["Name"] for d in documents for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"]}


# -- the happy path ------------------------------------------------------------------------------


def test_full_path_from_upload_to_result(aws: Stack, fake_engine: FakeEngine) -> None:
    # Given a job for a real photo, uploaded through the presigned POST
    photo = _photo(400)
    job_id = _submit(aws, photo, format="png", max_size=256)
    assert _job(job_id)["status"] == "queued"
    # When the worker receives the message
    response, _ = _deliver(aws)
    # Then it acknowledges it and the job has its result
    assert response == {"batchItemFailures": []}
    job = _job(job_id)
    assert job["status"] == "succeeded", job
    assert (job["stage"], job["progress"]) == ("done", 100)
    assert job["result"]["format"] == "png"
    assert max(job["result"]["width"], job["result"]["height"]) == 256
    assert aws.keys("results/") == [f"results/{job_id}.png", f"results/{job_id}.thumb.jpg"]
    # And the presigned link serves the picture with the right type
    fetched = requests.get(job["result"]["url"], timeout=30)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/png"
    picture = Image.open(io.BytesIO(fetched.content))
    assert picture.format == "PNG"
    assert picture.size == (job["result"]["width"], job["result"]["height"])
    # And its small copy is served as a JPEG
    small = requests.get(job["result"]["thumbnail_url"], timeout=30)
    assert (small.status_code, small.headers["content-type"]) == (200, "image/jpeg")
    assert Image.open(io.BytesIO(small.content)).format == "JPEG"
    assert fake_engine.calls == 1


def test_progress_is_stored_while_the_job_runs(aws: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an engine that looks at the job from the API's side half-way through
    seen: list[dict[str, Any]] = []
    job_id = _submit(aws)

    class Watching(FakeEngine):  # slow enough for the 0.5 s throttle to let a second write through
        def stylize(self, content: Any, styles: Any, options: Any = None, progress: Any = None) -> Any:
            result = super().stylize(content, styles, options, progress)
            seen.append(_job(job_id))
            return result

    monkeypatch.setattr(worker, "engine_provider", lambda: Watching(steps=3, step_seconds=0.3))
    # When
    _deliver(aws)
    # Then the page polling at that moment saw a running job with progress between the ends
    assert seen[0]["status"] == "running"
    assert seen[0]["stage"] == "stylize"
    assert 5 < seen[0]["progress"] < 100
    assert _job(job_id)["progress"] == 100


def test_redelivered_message_is_acknowledged_and_changes_nothing(aws: Stack, fake_engine: FakeEngine) -> None:
    # Given a job that succeeded
    job_id = _submit(aws)
    _, messages = _deliver(aws)
    first = aws.s3.get_object(Bucket=resources.DATA_BUCKET, Key=f"results/{job_id}.jpg")["Body"].read()
    item_before = aws.job_item(job_id)
    # When SQS delivers the same message again
    response = run_worker([on_receive(messages[0], 2)])
    # Then it is acknowledged, nothing runs, nothing changes
    assert response == {"batchItemFailures": []}
    assert fake_engine.calls == 1
    assert aws.job_item(job_id) == item_before
    assert (
        aws.s3.get_object(Bucket=resources.DATA_BUCKET, Key=f"results/{job_id}.jpg")["Body"].read() == first
    )


def test_batch_of_several_jobs_is_processed_in_one_invocation(aws: Stack, fake_engine: FakeEngine) -> None:
    # Given three queued jobs
    job_ids = [_submit(aws) for _ in range(3)]
    # When one batch carries them all
    response, messages = _deliver(aws)
    # Then
    assert len(messages) == 3
    assert response == {"batchItemFailures": []}
    assert [_job(j)["status"] for j in job_ids] == ["succeeded"] * 3


# -- failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["not json", "{}", '{"job_id": "../../etc/passwd"}', '{"job_id": 42}', "[]", ""],
    ids=["text", "empty-object", "path", "number", "array", "empty"],
)
def test_poison_message_is_acknowledged(aws: Stack, fake_engine: FakeEngine, body: str) -> None:
    # When
    response = worker.handler(raw_sqs_event(body), lambda_context())
    # Then it is not retried (retrying cannot help) and nothing ran
    assert response == {"batchItemFailures": []}
    assert fake_engine.calls == 0


def test_message_for_an_unknown_job_is_acknowledged(aws: Stack, fake_engine: FakeEngine) -> None:
    response = worker.handler(raw_sqs_event(json.dumps({"job_id": new_id()})), lambda_context())
    assert response == {"batchItemFailures": []}
    assert fake_engine.calls == 0


def test_corrupt_upload_fails_the_job_with_its_reason_and_is_not_retried(
    aws: Stack, fake_engine: FakeEngine
) -> None:
    # Given a JPEG cut in half: its first bytes pass the API's type check, its body does not decode
    photo = _photo(400)
    job_id = _submit(aws, photo[: len(photo) // 2])
    # When
    response, _ = _deliver(aws)
    # Then
    assert response == {"batchItemFailures": []}
    job = _job(job_id)
    assert job["status"] == "failed"
    assert job["error"]["code"] in ("TruncatedImage", "CorruptImage")
    assert "result" not in job or job["result"] is None
    assert aws.keys("results/") == []
    assert fake_engine.calls == 0


def test_upload_that_vanished_before_the_worker_fails_the_job(aws: Stack, fake_engine: FakeEngine) -> None:
    # Given a queued job whose upload then expired
    job_id = _submit(aws)
    for key in aws.keys("uploads/"):
        aws.s3.delete_object(Bucket=resources.DATA_BUCKET, Key=key)
    # When
    response, _ = _deliver(aws)
    # Then
    assert response == {"batchItemFailures": []}
    assert _job(job_id)["error"]["code"] == "UploadNotFound"


def test_rule_the_engine_refuses_fails_the_job_without_retry(
    aws: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an engine that refuses the request (as the real one refuses mixed blends)
    engine = FakeEngine(
        error=InvalidRequestError("MixedStyleKinds", "A blend cannot mix presets and pictures.")
    )
    monkeypatch.setattr(worker, "engine_provider", lambda: engine)
    job_id = _submit(aws)
    # When
    response, _ = _deliver(aws)
    # Then
    assert response == {"batchItemFailures": []}
    assert _job(job_id)["error"] == {
        "code": "MixedStyleKinds",
        "message": "A blend cannot mix presets and pictures.",
    }


def test_transient_error_is_retried_and_fails_the_job_on_the_last_receive(
    aws: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an engine that keeps crashing
    engine = FakeEngine(error=MemoryError("cannot allocate"))
    monkeypatch.setattr(worker, "engine_provider", lambda: engine)
    job_id = _submit(aws)
    messages = aws.receive()
    # When the first receives fail
    for count in range(1, resources.MAX_RECEIVE_COUNT):
        response = run_worker([on_receive(messages[0], count)])
        # Then SQS is asked to deliver again and the job is still in flight
        assert response == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
        assert _job(job_id)["status"] == "running"
    # When the last allowed receive fails too
    response = run_worker([on_receive(messages[0], resources.MAX_RECEIVE_COUNT)])
    # Then the job fails with a reason and the message is acknowledged
    assert response == {"batchItemFailures": []}
    job = _job(job_id)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "ProcessingFailed"
    assert "memory" not in job["error"]["message"].lower()
    assert engine.calls == resources.MAX_RECEIVE_COUNT
    assert aws.job_item(job_id)["attempts"]["N"] == str(resources.MAX_RECEIVE_COUNT)


def test_storage_failure_while_saving_is_retried_and_the_retry_succeeds(
    aws: Stack, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given S3 refusing the first write of the result
    job_id = _submit(aws)
    store = worker.adapters().store
    real_write = store.write
    failures = [ConnectionError("S3 is having a moment")]

    def flaky_write(key: str, data: bytes, content_type: str) -> None:
        if failures:
            raise failures.pop()
        real_write(key, data, content_type)

    monkeypatch.setattr(store, "write", flaky_write)
    # When the first delivery fails and SQS delivers again
    first, messages = _deliver(aws)
    second = run_worker([on_receive(messages[0], 2)])
    # Then
    assert first == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert second == {"batchItemFailures": []}
    assert _job(job_id)["status"] == "succeeded"
    assert aws.keys("results/") == [f"results/{job_id}.jpg", f"results/{job_id}.thumb.jpg"]


def test_batch_reports_only_the_message_worth_retrying(aws: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a good job, a poison message and a job whose engine run crashes
    good, crashing = _submit(aws), _submit(aws, max_size=128)

    class Selective(FakeEngine):
        def stylize(self, content: Any, styles: Any, options: Any = None, progress: Any = None) -> Any:
            if options.max_size == 128:
                raise RuntimeError("segfault-ish")
            return super().stylize(content, styles, options, progress)

    monkeypatch.setattr(worker, "engine_provider", Selective)
    by_job = {json.loads(m["Body"])["job_id"]: m for m in aws.receive()}
    poison = {**by_job[good], "MessageId": "poison-1", "Body": "garbage"}
    # When
    response = run_worker([by_job[good], poison, by_job[crashing]])
    # Then
    assert response == {"batchItemFailures": [{"itemIdentifier": by_job[crashing]["MessageId"]}]}
    assert _job(good)["status"] == "succeeded"
    assert _job(crashing)["status"] == "running"


def test_dead_letter_handler_fails_every_unfinished_job(aws: Stack, fake_engine: FakeEngine) -> None:
    # Given one job that succeeded and one that never ran, both ending up in the dead-letter queue
    done = _submit(aws)
    _deliver(aws)
    stuck = _submit(aws)
    aws.receive()
    for job_id in (done, stuck):
        aws.sqs.send_message(QueueUrl=DLQ_URL, MessageBody=json.dumps({"job_id": job_id}))
    aws.sqs.send_message(QueueUrl=DLQ_URL, MessageBody="garbage")
    messages = aws.receive(DLQ_URL)
    # When
    response = run_dead_letters(messages)
    # Then
    assert response == {"batchItemFailures": []}
    assert _job(done)["status"] == "succeeded"
    assert _job(stuck)["status"] == "failed"
    assert _job(stuck)["error"]["code"] == "ProcessingFailed"


# -- metrics -------------------------------------------------------------------------------------


def test_worker_emits_job_and_utilisation_metrics(
    aws: Stack, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a function with 2048 MB (or twice what this test process has peaked at, when earlier tests
    # in it painted big pictures), one good job and one that fails for its input
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", str(max(2048, 2 * peak_mb)))
    _submit(aws)
    bad = _submit(aws, b"\xff\xd8\xff" + b"\x00" * 2000)
    capsys.readouterr()
    # When
    _deliver(aws)
    # Then
    documents = _emf(capsys.readouterr().out)
    names = _metric_names(documents)
    assert {
        "JobsSucceeded",
        "StylizeSeconds",
        "InputMegapixels",
        "QueueWaitSeconds",
        "CPUUtilization",
        "MemoryUtilization",
        "JobsFailed",
    } <= names
    assert all(
        d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == resources.METRICS_NAMESPACE for d in documents
    )
    failed = next(d for d in documents if "JobsFailed" in d)
    assert failed["reason"] == _job(bad)["error"]["code"]
    assert failed["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "stage", "reason"]]
    # And every metric carries the stage, so two stages in one account never share a series
    for document in documents:
        assert document["stage"] == "test"
        assert all("stage" in dims for dims in document["_aws"]["CloudWatchMetrics"][0]["Dimensions"])
    main = next(d for d in documents if "MemoryUtilization" in d)
    (memory,) = main["MemoryUtilization"]  # Powertools writes each metric's values as a list
    (cpu,) = main["CPUUtilization"]
    assert 0 < memory < 100
    assert cpu >= 0


def test_api_counts_submitted_jobs(aws: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    _submit(aws)
    assert "JobsSubmitted" in _metric_names(_emf(capsys.readouterr().out))


def test_a_job_racing_the_function_timeout_stops_in_time(aws: Stack, fake_engine: FakeEngine) -> None:
    # Given a function whose clock runs out while the job paints (2 s gone per reading, margin 10 s)
    class Draining(LambdaContext):
        left = 100_000

        def get_remaining_time_in_millis(self) -> int:
            self.left -= 2_000
            return self.left

    job_id = _submit(aws)
    messages = aws.receive()
    # When its last allowed delivery runs out of time
    response = run_worker(
        [on_receive(messages[0], resources.MAX_RECEIVE_COUNT)], Draining("stylemixer-worker")
    )
    # Then the job fails saying so, rather than being killed mid-write and left running
    assert response == {"batchItemFailures": []}
    job = _job(job_id)
    assert (job["status"], job["error"]["code"]) == ("failed", "TimedOut")
    assert aws.keys("results/") == []


def test_a_job_whose_worker_was_killed_is_finished_by_the_redelivery(
    aws: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a job left running at 60 % by a worker that was killed (no final write, no ack)
    job_id = _submit(aws)
    messages = aws.receive()
    repo = worker.adapters().repo
    from stylemixer.jobs.model import utcnow

    repo.start(job_id, utcnow())
    repo.record_progress(job_id, "stylize", 60, utcnow())
    seen: list[int] = []

    class Watching(FakeEngine):
        def stylize(self, content: Any, styles: Any, options: Any = None, progress: Any = None) -> Any:
            result = super().stylize(content, styles, options, progress)
            seen.append(_job(job_id)["progress"])
            return result

    monkeypatch.setattr(worker, "engine_provider", lambda: Watching(steps=3, step_seconds=0.3))
    # When SQS delivers the message again after its visibility timeout
    response = run_worker([on_receive(messages[0], 2)])
    # Then the second attempt finishes it, and the progress shown never went back below 60
    assert response == {"batchItemFailures": []}
    assert seen[0] >= 60
    job = _job(job_id)
    assert (job["status"], job["progress"]) == ("succeeded", 100)
    assert aws.job_item(job_id)["attempts"]["N"] == "2"


# -- retries: the back-off and the queue's receive count -----------------------------------------


def test_a_passing_failure_is_handed_back_to_the_queue_for_a_retry_within_seconds(
    aws: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a job whose first run crashes
    monkeypatch.setattr(worker, "engine_provider", lambda: FakeEngine(error=RuntimeError("segfault-ish")))
    _submit(aws)
    # When the worker (with its own role) fails it on its first receive
    response, messages = _deliver(aws)
    assert response == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    # Then the worker hid the message for the back-off (it was received visible again at once, as
    # after an expired timeout): a retry comes in 8 to 15 s, not after the queue's 90 minutes
    attributes = aws.sqs.get_queue_attributes(QueueUrl=QUEUE_URL, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert aws.sqs.receive_message(QueueUrl=QUEUE_URL, WaitTimeSeconds=0).get("Messages") is None


def test_the_worker_fails_a_job_on_the_receive_its_environment_names(
    aws: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylemixer.settings import Settings

    # Given a queue that gives up after 5 receives, which the worker is told as the CDK app tells it
    monkeypatch.setenv(resources.ENV_MAX_RECEIVE_COUNT, "5")
    monkeypatch.setattr(
        worker, "SETTINGS", Settings.from_env(require_queue=True, require_max_receive_count=True)
    )
    engine = FakeEngine(error=MemoryError("cannot allocate"))
    monkeypatch.setattr(worker, "engine_provider", lambda: engine)
    job_id = _submit(aws)
    (message,) = aws.receive()

    def deliver(count: int) -> dict[str, Any]:
        return run_worker([on_receive(message, count)])

    # When the 3rd receive fails (the default count's last), it is retried, not failed
    for count in (1, 2, 3, 4):
        assert deliver(count) == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
        assert _job(job_id)["status"] == "running"
    # And only the 5th fails the job for good
    assert deliver(5) == {"batchItemFailures": []}
    assert _job(job_id)["error"]["code"] == "ProcessingFailed"
    assert engine.calls == 5
