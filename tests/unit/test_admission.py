"""Limits per client and admission control, on the in-memory quotas table and queue: at and past
each limit, the refusal's status, code, sentence and Retry-After, and that a refusal costs nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stylemixer.admission import (
    Backlog,
    BusyError,
    Capacity,
    ClientGate,
    ClientLimits,
    QueueGauge,
    QuotaExceededError,
    UploadUsedUpError,
    client_key,
)
from stylemixer.admission.quotas import IN_FLIGHT_RETRY_SECONDS
from stylemixer.aws.fakes import InMemoryJobQueue, InMemoryJobRepository, InMemoryQuotaBook
from stylemixer.jobs.model import Job, JobError, JobParams, JobResult, StyleRef, new_id

#: 20 minutes into a clock hour: 40 minutes left in its window.
NOW = datetime(2031, 5, 6, 14, 20, 0, tzinfo=UTC)


def _gate(
    limits: ClientLimits | None = None, *, client: str = "a", backlog: Backlog | None = None
) -> tuple[ClientGate, InMemoryQuotaBook, InMemoryJobRepository]:
    quotas, repo = InMemoryQuotaBook(), InMemoryJobRepository()
    return ClientGate(quotas, repo, client, limits, backlog), quotas, repo


def _stored_job(repo: InMemoryJobRepository, job_id: str) -> None:
    params = JobParams(new_id(), (StyleRef(preset="tapestry"),))
    repo.create(Job(job_id, params, NOW, NOW, 0))


def _in_flight(quotas: InMemoryQuotaBook, client: str = "a") -> set[str]:
    return {member.partition("@")[0] for member in quotas.members(f"flight:{client}")}


def test_a_client_may_send_its_hours_jobs_and_no_more() -> None:
    # Given a client allowed 3 jobs an hour (and any number in flight)
    gate, quotas, _ = _gate(ClientLimits(jobs_per_hour=3, jobs_in_flight=100))
    # When it sends three, then a fourth
    for _ in range(3):
        gate.admit_job(new_id(), [], NOW)
    with pytest.raises(QuotaExceededError) as refused:
        gate.admit_job(new_id(), [], NOW)
    # Then the fourth is refused with 429, its code, a sentence, and the seconds left in the hour
    error = refused.value
    assert (error.status, error.code, error.retry_after) == (429, "TooManyJobs", 40 * 60)
    assert "3 pictures this hour" in error.message
    assert "about 40 minutes" in error.message
    # And the refused job counted nothing: not in the hour, not in flight
    assert sum(quotas.counters.values()) == 3
    assert len(_in_flight(quotas)) == 3
    # And the next hour starts afresh
    gate.admit_job(new_id(), [], NOW + timedelta(hours=1))


def test_jobs_in_flight_are_limited_and_a_finished_job_frees_its_place() -> None:
    # Given a client allowed 2 jobs in flight, with 2 stored and queued
    gate, quotas, repo = _gate(ClientLimits(jobs_in_flight=2))
    first, second = new_id(), new_id()
    for job_id in (first, second):
        gate.admit_job(job_id, [], NOW)
        _stored_job(repo, job_id)
    # When a third is sent, it is refused: 429, come back in about the time a picture takes
    with pytest.raises(QuotaExceededError) as refused:
        gate.admit_job(new_id(), [], NOW)
    assert (refused.value.code, refused.value.retry_after) == ("TooManyJobsInFlight", IN_FLIGHT_RETRY_SECONDS)
    assert "2 pictures being painted" in refused.value.message
    # When one succeeds, another is accepted
    repo.start(first, NOW)
    repo.succeed(first, JobResult("results/x.jpg", 1, 1, "jpeg"), NOW)
    third = new_id()
    gate.admit_job(third, [], NOW)
    _stored_job(repo, third)
    assert _in_flight(quotas) == {second, third}
    # And when one is gone (deleted), its place is free once it cannot be a job being stored
    repo.jobs.pop(second)
    with pytest.raises(QuotaExceededError):
        gate.admit_job(new_id(), [], NOW + timedelta(seconds=30))
    fourth = new_id()
    gate.admit_job(fourth, [], NOW + timedelta(seconds=61))
    assert _in_flight(quotas) == {third, fourth}


def test_a_job_not_yet_stored_holds_its_place() -> None:
    # Given a client at its limit with a job admitted a moment ago, not yet stored
    gate, _, _ = _gate(ClientLimits(jobs_in_flight=1))
    gate.admit_job(new_id(), [], NOW)
    # When another request of the same client comes at once, it is refused (no overshoot)
    with pytest.raises(QuotaExceededError):
        gate.admit_job(new_id(), [], NOW + timedelta(seconds=1))


def test_a_failed_job_frees_its_place_too() -> None:
    gate, _, repo = _gate(ClientLimits(jobs_in_flight=1))
    job_id = new_id()
    gate.admit_job(job_id, [], NOW)
    _stored_job(repo, job_id)
    with pytest.raises(QuotaExceededError):
        gate.admit_job(new_id(), [], NOW)
    repo.fail(job_id, JobError("QueueExpired", "..."), NOW)
    gate.admit_job(new_id(), [], NOW)


def test_one_clients_limits_are_not_anothers() -> None:
    # Given two clients sharing one quotas table, one at its limit
    quotas, repo = InMemoryQuotaBook(), InMemoryJobRepository()
    limits = ClientLimits(jobs_in_flight=1)
    busy, other = ClientGate(quotas, repo, "a", limits), ClientGate(quotas, repo, "b", limits)
    busy.admit_job(new_id(), [], NOW)
    _stored_job(repo, next(iter(_in_flight(quotas))))
    with pytest.raises(QuotaExceededError):
        busy.admit_job(new_id(), [], NOW)
    # Then the other is unaffected
    other.admit_job(new_id(), [], NOW)


def test_upload_bytes_are_counted_per_hour_up_to_the_limit() -> None:
    gate, _, _ = _gate(ClientLimits(upload_bytes_per_hour=100 * 1024 * 1024))
    gate.admit_upload(60 * 1024 * 1024, NOW)
    gate.admit_upload(40 * 1024 * 1024, NOW)  # exactly at the limit
    with pytest.raises(QuotaExceededError) as refused:
        gate.admit_upload(1, NOW)
    assert (refused.value.status, refused.value.code) == (429, "UploadQuotaExceeded")
    assert "100 MB of pictures this hour" in refused.value.message
    assert refused.value.retry_after == 40 * 60


def test_an_upload_may_be_named_by_so_many_jobs_and_a_refusal_takes_nothing() -> None:
    # Given uploads that may each be named by 2 jobs
    gate, quotas, _ = _gate(ClientLimits(jobs_per_upload=2, jobs_in_flight=100))
    photo, painting = new_id(), new_id()
    gate.admit_job(new_id(), [photo, painting], NOW)
    gate.admit_job(new_id(), [photo], NOW)
    # When a third job names the photo (after the painting, which still has room)
    refused_job = new_id()
    with pytest.raises(UploadUsedUpError) as refused:
        gate.admit_job(refused_job, [painting, photo], NOW)
    # Then it is refused with 410 (send the picture again), and gives back what it had counted
    assert (refused.value.status, refused.value.code) == (410, "UploadUsedUp")
    assert "upload it again" in refused.value.message
    assert quotas.counters[f"upload:{painting}"] == 1
    assert quotas.counters[f"upload:{photo}"] == 2
    assert refused_job not in _in_flight(quotas)
    assert sum(v for k, v in quotas.counters.items() if k.startswith("jobs:")) == 2


def test_the_queue_may_hold_only_so_many_minutes_of_work() -> None:
    # Given one worker finishing 2 jobs a minute, and 10 minutes of work allowed to wait: 20 jobs
    queue = InMemoryJobQueue()
    backlog = Backlog(QueueGauge(queue.depth, ttl=0), Capacity(workers=1, jobs_per_worker_minute=2.0))
    gate, _, _ = _gate(ClientLimits(jobs_in_flight=100), backlog=backlog)
    queue.sent = [new_id() for _ in range(19)]
    gate.admit_job(new_id(), [], NOW)  # the 20th waiting job
    queue.sent.append(new_id())
    # When another arrives, it is refused for everyone: 503, and when the queue will have room
    with pytest.raises(BusyError) as refused:
        gate.admit_job(new_id(), [], NOW)
    assert (refused.value.status, refused.value.code, refused.value.retry_after) == (503, "Busy", 60)
    assert refused.value.message == "StyleMixer is busy: try again in about a minute."
    # And when the workers have taken some, new jobs are accepted again
    queue.taken = 5
    gate.admit_job(new_id(), [], NOW)


def test_busy_says_how_long_the_queue_needs_to_drain() -> None:
    capacity = Capacity(workers=5, jobs_per_worker_minute=2.0, backlog_minutes=10)
    assert capacity.max_waiting == 100
    assert capacity.retry_after(100) == 60
    assert capacity.retry_after(125) == 180  # 26 jobs over, 10 a minute: 3 minutes
    assert BusyError(retry_after=180).message == "StyleMixer is busy: try again in about 3 minutes."


def test_the_gauge_asks_the_queue_at_most_once_per_period_and_counts_what_was_sent_since() -> None:
    # Given a gauge over a queue, with a clock set by hand
    reads: list[float] = []
    now = [0.0]

    def depth() -> int:
        reads.append(now[0])
        return 10

    gauge = QueueGauge(depth, ttl=5.0, clock=lambda: now[0])
    # When many jobs are admitted within the period
    assert gauge.depth() == 10
    for _ in range(3):
        gauge.queued()
    now[0] = 4.9
    # Then SQS was read once, and the jobs sent since are counted
    assert gauge.depth() == 13
    assert reads == [0.0]
    # And after the period it is read again (SQS's own count now includes them)
    now[0] = 5.0
    assert gauge.depth() == 10
    assert reads == [0.0, 5.0]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("203.0.113.7", "203.0.113.7", True),
        ("203.0.113.7", "203.0.113.8", False),
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", True),  # one /64: one home, one phone
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
        ("::ffff:203.0.113.7", "203.0.113.7", True),  # the same IPv4 client, however written
        ("", "garbage", True),  # both unknown: they share one client's limits
    ],
)
def test_a_client_is_its_address_or_its_ipv6_network(a: str, b: str, same: bool) -> None:
    assert (client_key(a) == client_key(b)) is same
    assert "203.0.113" not in client_key(a)  # the table holds no address in plain sight
