"""Names shared by the CDK app and the local stack, so both create the same resources.

The deployed stack lets CloudFormation add a unique suffix to physical names; the local stack uses
the base names as they are. Handlers never hard-code a name: they read the environment variables
named here, which both the stack and the local stack set.
"""

from __future__ import annotations

#: CloudWatch metrics namespace (EMF) and the Powertools service name.
METRICS_NAMESPACE = "StyleMixer"
SERVICE_NAME = "stylemixer"

#: Base names of the resources (the local stack uses them as they are).
DATA_BUCKET = "stylemixer-data"
JOBS_TABLE = "stylemixer-jobs"
JOBS_QUEUE = "stylemixer-jobs"
JOBS_DLQ = "stylemixer-jobs-dlq"

#: Key prefixes in the data bucket; lifecycle rules expire each on its own schedule.
UPLOADS_PREFIX = "uploads/"
RESULTS_PREFIX = "results/"

#: Jobs table: partition key and the TTL attribute (epoch seconds).
TABLE_PARTITION_KEY = "job_id"
TABLE_TTL_ATTRIBUTE = "expires_at_epoch"

#: Queue: receives before a message moves to the dead-letter queue; visibility timeout is at least
#: this many times the worker's timeout (AWS's advice for SQS event sources).
MAX_RECEIVE_COUNT = 3
#: The worker's default timeout (Lambda's maximum): a 16 MP regions job on a cold container needs it.
WORKER_TIMEOUT_SECONDS = 900
VISIBILITY_TIMEOUT_FACTOR = 6

#: Environment variables read by the handlers (validated at cold start).
ENV_BUCKET = "STYLEMIXER_BUCKET"
ENV_TABLE = "STYLEMIXER_TABLE"
ENV_QUEUE_URL = "STYLEMIXER_QUEUE_URL"
ENV_ALLOWED_ORIGINS = "STYLEMIXER_ALLOWED_ORIGINS"
ENV_WEIGHTS = "STYLEMIXER_WEIGHTS"
#: Public URL of the site (CloudFront or the local stack); preset thumbnails are made absolute with it.
ENV_SITE_URL = "STYLEMIXER_SITE_URL"

#: Handler entry points inside the one container image.
API_HANDLER = "functions.api.handler.handler"
WORKER_HANDLER = "functions.worker.handler.handler"
#: Consumes the dead-letter queue: marks every job it sees failed, so none stays queued or running.
DLQ_HANDLER = "functions.worker.handler.dlq_handler"

#: CloudFormation output keys.
OUTPUT_SITE_URL = "SiteUrl"
OUTPUT_API_URL = "ApiUrl"
OUTPUT_DATA_BUCKET = "DataBucketName"
OUTPUT_DASHBOARD = "DashboardName"
