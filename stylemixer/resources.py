"""Names and numbers shared by the CDK app, the local stack and the handlers, so all three agree.

The deployed stack lets CloudFormation add a unique suffix to physical names; the local stack uses
the base names as they are. Handlers never hard-code a name: they read the environment variables
named here, which both the stack and the local stack set. The functions' sizes, timeouts and the
queue's retry settings live here too, each with the reason for its value: the CDK app's settings
default to them and the local stack runs with them. What each function may do in AWS is in
:mod:`stylemixer.permissions`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import NamedTuple

from stylemixer.limits import MAX_CLIP_PAINT_SECONDS

#: CloudWatch metrics namespace (EMF) and the Powertools service name.
METRICS_NAMESPACE = "StyleMixer"
SERVICE_NAME = "stylemixer"
#: The service's own metrics, as the functions emit them (EMF, dimensions ``service`` and ``stage``)
#: and the alarms and the dashboard read them. Counts of jobs:
METRIC_JOBS_SUBMITTED = "JobsSubmitted"
METRIC_JOBS_SUCCEEDED = "JobsSucceeded"
#: ... failed, with the reason (the job's error code) as a third dimension.
METRIC_JOBS_FAILED = "JobsFailed"
#: ... deleted by their owners (DELETE /jobs/{job_id}).
METRIC_JOBS_DELETED = "JobsDeleted"
#: Requests refused for now (429 or 503 with Retry-After: a client's limit, or a busy queue), with
#: the refusal's code as the ``reason`` dimension.
METRIC_REQUESTS_REFUSED = "RequestsRefused"
METRIC_POISON_MESSAGES = "PoisonMessages"
#: Seconds a job waited in the queue, and painted; megapixels of its photo.
METRIC_QUEUE_WAIT_SECONDS = "QueueWaitSeconds"
METRIC_STYLIZE_SECONDS = "StylizeSeconds"
METRIC_INPUT_MEGAPIXELS = "InputMegapixels"
#: The worker's use of the vCPUs and the memory Lambda gives it, per invocation (percent).
METRIC_CPU_UTILIZATION = "CPUUtilization"
METRIC_MEMORY_UTILIZATION = "MemoryUtilization"

#: Base names of the resources (the local stack uses them as they are).
DATA_BUCKET = "stylemixer-data"
JOBS_TABLE = "stylemixer-jobs"
JOBS_QUEUE = "stylemixer-jobs"
JOBS_DLQ = "stylemixer-jobs-dlq"
#: The per-client counters (jobs, jobs in flight, upload bytes, jobs per upload): a table of their
#: own, so nothing but the API reads or writes them and their items expire on their own clock.
QUOTAS_TABLE = "stylemixer-quotas"

#: Key prefixes in the data bucket; lifecycle rules expire each on its own schedule.
UPLOADS_PREFIX = "uploads/"
RESULTS_PREFIX = "results/"

#: Jobs table: partition key and the TTL attribute (epoch seconds).
TABLE_PARTITION_KEY = "job_id"
TABLE_TTL_ATTRIBUTE = "expires_at_epoch"
#: A sparse index of the jobs still queued, oldest first: only a queued job carries its key
#: attribute (removed when it starts or ends), so the sweeper reads the waiting jobs, not the table.
QUEUED_INDEX = "queued-by-age"
QUEUED_INDEX_KEY = "waiting"
QUEUED_INDEX_SORT = "created_at"
#: Quotas table: partition key and the TTL attribute (epoch seconds).
QUOTA_PARTITION_KEY = "pk"
QUOTA_TTL_ATTRIBUTE = "expires_at_epoch"

#: Queue: receives of a job's message before it moves to the dead-letter queue. The default of the
#: ``max_receive_count`` setting; the worker reads the deployed value from ENV_MAX_RECEIVE_COUNT,
#: set from the same setting, so it fails a job on the receive that is really the last.
MAX_RECEIVE_COUNT = 3
#: The queue hides a received message for this many times the worker's timeout (AWS's advice for
#: SQS event sources: a message is never handed to a second worker while the first may still run).
VISIBILITY_TIMEOUT_FACTOR = 6

# -- Lambda's CPUs -----------------------------------------------------------------------------------

#: Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB, up to six.
LAMBDA_MB_PER_VCPU = 1769
LAMBDA_MAX_VCPUS = 6


def lambda_vcpus(memory_mb: int) -> float:
    """The vCPUs Lambda allocates to a function of ``memory_mb`` (fractional below 1,769 MB).

    Example:
        >>> round(lambda_vcpus(3008), 2)
        1.7
    """
    return min(LAMBDA_MAX_VCPUS, memory_mb / LAMBDA_MB_PER_VCPU)


# -- the worker's size, from the largest and the slowest job measured (docs/full-resolution.md) ----

#: The largest job's peak memory, in MB: a 50 MP photo (8160 x 6120, the largest painted at its own
#: size) painted with a preset and a painting by region at ``fine``, through the worker's own job
#: path (the upload and the result held as bytes beside the painting; ``python -m bench.cost``, the
#: whole process with the worker's ``MALLOC_ARENA_MAX``: 2,774 MB on one thread, 2,709 MB on two;
#: without it 2,832 to 3,164 MB). One style paints with less (a painting at ``fine`` 2,483 MB, a
#: preset 1,716 MB); more styles by region paint one at a time into the same composite.
LARGEST_JOB_PEAK_MB = 2774
#: The largest job's peak may fill at most this share of the worker's memory: 10 points below the
#: memory alarm (85 %), so a photo heavier than the one measured (more detail, a larger upload) is
#: still painted, and the alarm fires before a job is killed.
WORKER_MEMORY_LARGEST_SHARE = 0.75
#: The worker's memory by default, in whole 512 MB: 4,096 MB. The cost table (docs/operators.md,
#: ``python -m bench.cost``) chose it: 2.3 vCPUs, on which torch paints on the two threads measured
#: (as fast as any larger size here); 3,538 MB would be 14 % cheaper a picture but leave the largest
#: job at 77 %, 5,120 MB 25 % dearer for the same seconds on two threads.
WORKER_MEMORY_MB = 512 * math.ceil(LARGEST_JOB_PEAK_MB / WORKER_MEMORY_LARGEST_SHARE / 512)
#: The slowest job measured: a 50 MP photo painted with two presets by region at ``fine`` took 55 s
#: on 2 cores, the whole process (load average 1.7; ``regions_50mp_cli_s_per_mp`` 1.1). The regions
#: path may take (K + 1/2) times one style before it is worth redesigning (docs/regions.md), so 4
#: styles may take 4.5 / 2.5 of that: sized for them, in CPU-core seconds.
WORST_JOB_CORE_SECONDS = 2 * 55 * (4 + 0.5) / (2 + 0.5)
#: What every large job pays besides painting: a cold start (torch and the weights), reading and
#: decoding a 64 MB upload, encoding and writing a 50 MP result.
WORST_JOB_FIXED_SECONDS = 15
#: The painting runs on torch's two threads: more vCPUs than that do not make it faster.
PAINTING_THREADS = 2
#: The worker's timeout is at least this many times the slowest job at its memory size.
WORKER_TIMEOUT_MARGIN = 3
#: glibc's heaps (arenas) in the worker. Left alone, glibc adds one for each thread that finds the
#: others busy, which depends on the CPU's contention: the same 16 MP job peaked anywhere from
#: 1.35 to 1.75 GB. Two (torch paints on two threads) keep it at 1.35-1.36 GB, whatever the load.
WORKER_MALLOC_ARENA_MAX = "2"


def worst_job_seconds(memory_mb: int) -> float:
    """How long the slowest job takes on a worker of ``memory_mb`` (see WORST_JOB_CORE_SECONDS).

    Example:
        >>> round(worst_job_seconds(WORKER_MEMORY_MB))
        114
    """
    return WORST_JOB_FIXED_SECONDS + WORST_JOB_CORE_SECONDS / min(PAINTING_THREADS, lambda_vcpus(memory_mb))


#: The slowest clip: the most painting one clip may ask for (MAX_CLIP_PAINT_SECONDS on 2 cores, from
#: the measured cost of a frame: stylemixer.limits, docs/clips.md), in CPU-core seconds.
WORST_CLIP_CORE_SECONDS = 2 * MAX_CLIP_PAINT_SECONDS
#: What a clip's job pays besides painting: a cold start, fetching a 200 MB clip to the function's disk
#: and storing its painting (at most 12 Mbit/s, 90 MB a minute).
WORST_CLIP_FIXED_SECONDS = 45
#: Lambda stops any function after 15 minutes.
LAMBDA_MAX_TIMEOUT_SECONDS = 900


def worst_clip_seconds(memory_mb: int) -> float:
    """How long the slowest clip's job takes on a worker of ``memory_mb`` (see WORST_CLIP_CORE_SECONDS).

    Example:
        >>> round(worst_clip_seconds(3008))
        680
    """
    return WORST_CLIP_FIXED_SECONDS + WORST_CLIP_CORE_SECONDS / min(PAINTING_THREADS, lambda_vcpus(memory_mb))


#: The worker's default timeout: 3 times the slowest photo at 4,096 MB (114 s: a 50 MP photo with four
#: styles by region at ``fine``), or the slowest clip's job (585 s) with a quarter to spare, whichever
#: is longer, rounded up to whole minutes and at most what Lambda allows: 780 s. A photo is done in
#: seconds to minutes whatever the timeout; only a worker that crashes or is killed waits for the
#: queue's visibility timeout, 6 times this (78 minutes; any other failure comes back sooner, see
#: :mod:`stylemixer.jobs.worker`'s retry back-off).
WORKER_TIMEOUT_SECONDS = min(
    LAMBDA_MAX_TIMEOUT_SECONDS,
    60
    * math.ceil(
        max(
            WORKER_TIMEOUT_MARGIN * worst_job_seconds(WORKER_MEMORY_MB),
            1.25 * worst_clip_seconds(WORKER_MEMORY_MB),
        )
        / 60
    ),
)
#: The worker's disk (Lambda's ephemeral storage, /tmp): a clip's job holds the clip (at most 200 MB)
#: and its painting (at most 12 Mbit/s: 90 MB a minute) at once; the rest is room for FFmpeg's and
#: Python's own temporary files. 512 MB is Lambda's least; 1024 MB leaves the clip's size to spare. A
#: photo's job needs none of it: the whole path of a 50 MP job (decode, two styles by region, JPEG and
#: PNG encoded) opens no file for writing (traced with ``strace -e trace=openat,creat,mkdir,rename``).
WORKER_EPHEMERAL_MB = 1024

#: The dead-letter consumer only marks jobs failed (a few small calls per message).
DLQ_HANDLER_TIMEOUT_SECONDS = 30
#: The sweeper fails jobs that waited longer than the queue keeps messages, a page of them at a time.
SWEEPER_TIMEOUT_SECONDS = 60
#: How often the sweeper runs: a job whose message the queue dropped is failed within this long of
#: the queue's retention (four days or more), so an hour is soon enough and costs 24 runs a day.
SWEEP_EVERY_MINUTES = 60
#: The API function: small, no torch; API Gateway waits at most 30 s for it.
API_MEMORY_MB = 512
API_TIMEOUT_SECONDS = 10

# -- how long the queues keep messages -------------------------------------------------------------

#: SQS keeps a message at most 14 days; the dead-letter queue keeps them that long. A message keeps
#: its first enqueue time when it moves there, so the jobs queue must keep them for less.
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
#: A backlog this old must still reach a worker (the OldestQueuedJob alarm fires long before).
BACKLOG_ALLOWANCE_SECONDS = 24 * 3600
#: The jobs queue keeps messages at least SQS's default, 4 days.
MIN_QUEUE_RETENTION_SECONDS = 4 * 24 * 3600


def queue_retention_seconds(max_receive_count: int, visibility_seconds: int) -> int:
    """How long the jobs queue keeps a message: time for every receive, after a day of backlog.

    Every message then either finishes or reaches the dead-letter queue before SQS drops it.
    Raises ``ValueError`` when that does not fit in what SQS allows below the dead-letter queue's.

    Example:
        >>> queue_retention_seconds(3, 6 * 180) // 86400
        4
    """
    needed = BACKLOG_ALLOWANCE_SECONDS + max_receive_count * visibility_seconds
    if needed >= DLQ_RETENTION_SECONDS:
        raise ValueError(
            f"{max_receive_count} receives of {visibility_seconds} s each, after a day of backlog, "
            "do not fit in the 14 days SQS keeps a message"
        )
    return max(MIN_QUEUE_RETENTION_SECONDS, needed)


# -- AWS clients inside the functions' timeouts ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientTimeouts:
    """botocore's timeouts and attempts for one function's clients.

    A stalled call must end (and the function answer in its own words) before the function's own
    timeout does: :attr:`worst_seconds` is checked against each function's timeout.
    """

    connect: float
    read: float
    attempts: int

    @property
    def worst_seconds(self) -> float:
        """The longest one call can take: every attempt waits out both timeouts, plus botocore's
        back-off between attempts (standard mode: up to 1, 2, 4 ... s).

        Example:
            >>> ClientTimeouts(connect=1, read=2, attempts=2).worst_seconds
            7.0
        """
        backoff = 2 ** (self.attempts - 1) - 1
        return float(self.attempts * (self.connect + self.read) + backoff)


#: The API and the dead-letter consumer make small calls (a 1 KB ranged GET, single items, one
#: message), answered in milliseconds: 7 s at worst, inside the API's 10 s.
API_CLIENT_TIMEOUTS = ClientTimeouts(connect=1, read=2, attempts=2)
#: The worker reads and writes pictures of up to 64 MB: more patience, well inside its timeout.
WORKER_CLIENT_TIMEOUTS = ClientTimeouts(connect=2, read=10, attempts=3)

#: Environment variables read by the handlers (validated at cold start).
ENV_BUCKET = "STYLEMIXER_BUCKET"
ENV_TABLE = "STYLEMIXER_TABLE"
ENV_QUEUE_URL = "STYLEMIXER_QUEUE_URL"
ENV_ALLOWED_ORIGINS = "STYLEMIXER_ALLOWED_ORIGINS"
ENV_WEIGHTS = "STYLEMIXER_WEIGHTS"
#: Public URL of the site (CloudFront or the local stack); preset thumbnails are made absolute with it.
ENV_SITE_URL = "STYLEMIXER_SITE_URL"
#: The deployment's stage: a dimension of every custom metric, so two stages never share a series.
ENV_STAGE = "STYLEMIXER_STAGE"
#: The worker's copy of the queue's maxReceiveCount (set from the same setting as the queue's).
ENV_MAX_RECEIVE_COUNT = "STYLEMIXER_MAX_RECEIVE_COUNT"
#: The API's limits per client (see stylemixer.limits) and the table that counts them.
ENV_QUOTA_TABLE = "STYLEMIXER_QUOTA_TABLE"
ENV_CLIENT_JOBS_PER_HOUR = "STYLEMIXER_CLIENT_JOBS_PER_HOUR"
ENV_CLIENT_JOBS_IN_FLIGHT = "STYLEMIXER_CLIENT_JOBS_IN_FLIGHT"
ENV_CLIENT_UPLOAD_BYTES_PER_HOUR = "STYLEMIXER_CLIENT_UPLOAD_BYTES_PER_HOUR"
ENV_JOBS_PER_UPLOAD = "STYLEMIXER_JOBS_PER_UPLOAD"
#: Admission control: how many workers run at once, how many jobs each finishes a minute, and how
#: many minutes of their work the queue may hold before POST /jobs answers busy.
ENV_WORKERS = "STYLEMIXER_WORKERS"
ENV_WORKER_JOBS_PER_MINUTE = "STYLEMIXER_WORKER_JOBS_PER_MINUTE"
ENV_BACKLOG_MINUTES = "STYLEMIXER_BACKLOG_MINUTES"
#: The sweeper's copy of how long the jobs queue keeps a message (set from the queue's own setting).
ENV_QUEUE_RETENTION_SECONDS = "STYLEMIXER_QUEUE_RETENTION_SECONDS"
#: With the API behind the site's CloudFront: the value CloudFront sends in ORIGIN_VERIFY_HEADER.
#: Only a request carrying it is taken to come from CloudFront, and only then is the viewer's
#: address in VIEWER_ADDRESS_HEADER believed (anyone can send that header to the API's own URL).
ENV_ORIGIN_VERIFY = "STYLEMIXER_ORIGIN_VERIFY"
ORIGIN_VERIFY_HEADER = "x-stylemixer-origin-verify"
VIEWER_ADDRESS_HEADER = "cloudfront-viewer-address"

#: Handler entry points inside the one container image.
API_HANDLER = "functions.api.handler.handler"
WORKER_HANDLER = "functions.worker.handler.handler"
#: Consumes the dead-letter queue: marks every job it sees failed, so none stays queued or running.
DLQ_HANDLER = "functions.dead_letters.handler.handler"
#: Run on a schedule: fails the jobs whose message the queue has dropped, so none stays queued.
SWEEPER_HANDLER = "functions.sweeper.handler.handler"

#: CloudFormation output keys.
OUTPUT_SITE_URL = "SiteUrl"
OUTPUT_API_URL = "ApiUrl"
OUTPUT_DATA_BUCKET = "DataBucketName"
OUTPUT_DASHBOARD = "DashboardName"


# -- the HTTP API's routes -------------------------------------------------------------------------


class ApiRoute(NamedTuple):
    """One route of the HTTP API: a method and a path in OpenAPI's (and API Gateway's) form.

    Example:
        >>> JOB_ROUTE.rule, bool(JOB_ROUTE.pattern.match("/jobs/0123"))
        ('/jobs/<job_id>', True)
    """

    method: str
    path: str

    @property
    def rule(self) -> str:
        """The path as the API function's router writes it (``/jobs/<job_id>``)."""
        return re.sub(r"\{(\w+)\}", r"<\1>", self.path)

    @property
    def pattern(self) -> re.Pattern[str]:
        """A request path this route answers, whatever its parameters."""
        return re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(self.path)) + "$")

    @property
    def key(self) -> str:
        """The route as API Gateway names it (``GET /jobs/{job_id}``): its route key."""
        return f"{self.method} {self.path}"


HEALTH_ROUTE = ApiRoute("GET", "/health")
STYLES_ROUTE = ApiRoute("GET", "/styles")
UPLOADS_ROUTE = ApiRoute("POST", "/uploads")
JOBS_ROUTE = ApiRoute("POST", "/jobs")
JOB_ROUTE = ApiRoute("GET", "/jobs/{job_id}")
DELETE_JOB_ROUTE = ApiRoute("DELETE", "/jobs/{job_id}")
OPENAPI_ROUTE = ApiRoute("GET", "/openapi.json")
#: Every route of the contract: the API function serves each (and tells a wrong method, 405, from
#: an unknown path, 404), the CDK app gives each an API Gateway route (the rest reach the function
#: by ``$default``), and the function's OpenAPI document lists the same.
API_ROUTES: tuple[ApiRoute, ...] = (
    HEALTH_ROUTE,
    STYLES_ROUTE,
    UPLOADS_ROUTE,
    JOBS_ROUTE,
    JOB_ROUTE,
    DELETE_JOB_ROUTE,
    OPENAPI_ROUTE,
)
#: The route the page polls, throttled on its own (``api_read_*``), so that reading a job never
#: competes with creating one.
READ_ROUTES: tuple[ApiRoute, ...] = (JOB_ROUTE,)
#: The routes that cost money (a signed upload, a queued job) or change something, throttled far
#: below the polls (``api_write_*``). Every other route takes the stage's default (``api_*``).
WRITE_ROUTES: tuple[ApiRoute, ...] = (UPLOADS_ROUTE, JOBS_ROUTE, DELETE_JOB_ROUTE)
