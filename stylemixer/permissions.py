"""What each function may do in AWS: named once, for the CDK app and for the local stack.

The CDK app turns these grants into each function's role policy, with the deployed ARNs; the local
stack turns the same grants into IAM roles in the embedded AWS, with local ARNs, and runs each
function with its own role's credentials, enforced by moto. So an action a role lacks fails on one
machine exactly as it fails in AWS, and nothing here can drift from what is deployed.

Lambda's own needs (writing the function's log group, sending traces to X-Ray) are added by the
CDK app beside these: the code never makes those calls itself, and the local stack has neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from stylemixer.resources import RESULTS_PREFIX, UPLOADS_PREFIX

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class Target(StrEnum):
    """What a grant is on; each stack supplies the ARN of each (see :func:`policy_document`)."""

    #: Objects under ``uploads/`` in the data bucket.
    UPLOADS = "uploads"
    #: Objects under ``results/`` in the data bucket.
    RESULTS = "results"
    JOBS_TABLE = "jobs-table"
    #: The jobs table's index of queued jobs (an index is its own IAM resource).
    QUEUED_INDEX = "queued-index"
    QUOTAS_TABLE = "quotas-table"
    JOBS_QUEUE = "jobs-queue"
    DEAD_LETTER_QUEUE = "dead-letter-queue"


class Function(StrEnum):
    """The four functions (their ids in the CDK app)."""

    API = "Api"
    WORKER = "Worker"
    DEAD_LETTERS = "DeadLetters"
    SWEEPER = "Sweeper"

    @property
    def local_name(self) -> str:
        """The function's (and its role's) name in the local stack, e.g. ``stylemixer-dead-letters``."""
        return "stylemixer-" + "".join(f"-{c.lower()}" if c.isupper() else c for c in self.value).lstrip("-")


@dataclass(frozen=True, slots=True)
class Grant:
    """Some actions on one target, and why the function needs them."""

    actions: tuple[str, ...]
    target: Target
    why: str


#: The event source mapping polls a queue with the function's own role (Lambda's documented needs).
_CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")

GRANTS: dict[Function, tuple[Grant, ...]] = {
    Function.API: (
        Grant(
            ("s3:PutObject",),
            Target.UPLOADS,
            "signs each upload's POST: a presigned request carries its signer's permission",
        ),
        Grant(
            ("s3:GetObject",),
            Target.UPLOADS,
            (
                "reads the first bytes of an upload to check them (a region map whole, and a photo's"
                " header for its shape), and signs GETs of the uploads a job named, for its answer to"
                " show the photo, the style pictures and the region map"
            ),
        ),
        Grant(
            ("s3:GetObject",),
            Target.RESULTS,
            "signs each result's GET: a presigned request carries its signer's permission",
        ),
        Grant(
            ("s3:DeleteObject",),
            Target.UPLOADS,
            "deletes the photo, style pictures and region map a job named, when its owner deletes the job",
        ),
        Grant(
            ("s3:DeleteObject",),
            Target.RESULTS,
            "deletes a job's result and region map, when its owner deletes the job",
        ),
        Grant(
            ("dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
            Target.JOBS_TABLE,
            "stores a new job, reads it for its status (and for a client's jobs in flight), fails it "
            "when the queue refuses it, and deletes it for its owner",
        ),
        Grant(
            ("dynamodb:GetItem", "dynamodb:UpdateItem"),
            Target.QUOTAS_TABLE,
            "counts each client's jobs, jobs in flight and upload bytes, and each upload's jobs, by "
            "conditional updates, and reads a client's jobs in flight when they are at their limit",
        ),
        Grant(("sqs:SendMessage",), Target.JOBS_QUEUE, "queues each new job for the worker"),
        Grant(
            ("sqs:GetQueueAttributes",),
            Target.JOBS_QUEUE,
            "reads how many jobs wait (admission control answers busy when the workers are behind)",
        ),
    ),
    Function.WORKER: (
        Grant(("s3:GetObject",), Target.UPLOADS, "reads the pictures and the region map a job names"),
        Grant(
            ("s3:PutObject", "s3:DeleteObject"),
            Target.RESULTS,
            "writes a job's result, and removes it again when the job cannot succeed",
        ),
        Grant(
            ("dynamodb:GetItem", "dynamodb:UpdateItem"),
            Target.JOBS_TABLE,
            "moves a job along by conditional updates (running, progress, succeeded or failed)",
        ),
        Grant(_CONSUME, Target.JOBS_QUEUE, "its event source mapping receives and deletes job messages"),
        Grant(
            ("sqs:ChangeMessageVisibility",),
            Target.JOBS_QUEUE,
            "hands a job back to the queue sooner after a passing failure (the retry back-off)",
        ),
    ),
    Function.DEAD_LETTERS: (
        Grant(("s3:DeleteObject",), Target.RESULTS, "removes anything a given-up job left behind"),
        Grant(
            ("dynamodb:GetItem", "dynamodb:UpdateItem"),
            Target.JOBS_TABLE,
            "marks a job whose message gave up as failed",
        ),
        Grant(_CONSUME, Target.DEAD_LETTER_QUEUE, "its event source mapping reads the dead-letter queue"),
    ),
    Function.SWEEPER: (
        Grant(
            ("dynamodb:Query",),
            Target.QUEUED_INDEX,
            "reads the oldest queued jobs from the table's index of queued jobs",
        ),
        Grant(
            ("dynamodb:UpdateItem",),
            Target.JOBS_TABLE,
            "fails a job that waited longer than the queue keeps messages (a conditional update)",
        ),
    ),
}


def index_arn(table_arn: str, index: str) -> str:
    """An index of a DynamoDB table as an IAM resource.

    Example:
        >>> index_arn("arn:aws:dynamodb:eu-west-1:123456789012:table/jobs", "queued-by-age")
        'arn:aws:dynamodb:eu-west-1:123456789012:table/jobs/index/queued-by-age'
    """
    return f"{table_arn}/index/{index}"


def object_arns(bucket_arn: str) -> dict[Target, str]:
    """The two key prefixes of the data bucket as IAM resources.

    Example:
        >>> object_arns("arn:aws:s3:::stylemixer-data")[Target.UPLOADS]
        'arn:aws:s3:::stylemixer-data/uploads/*'
    """
    return {
        Target.UPLOADS: f"{bucket_arn}/{UPLOADS_PREFIX}*",
        Target.RESULTS: f"{bucket_arn}/{RESULTS_PREFIX}*",
    }


def policy_document(grants: Iterable[Grant], arns: Mapping[Target, Any]) -> dict[str, Any]:
    """An IAM policy document allowing ``grants`` (one statement each), with ``arns`` for the targets.

    The ARNs may be strings or anything the caller's stack resolves (CDK tokens).

    Example:
        >>> arns = {target: f"arn:aws:::{target.value}" for target in Target}  # stand-ins
        >>> policy_document(GRANTS[Function.API], arns)["Statement"][0]["Action"]
        ['s3:PutObject']
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": list(grant.actions), "Resource": arns[grant.target]}
            for grant in grants
        ],
    }
