"""The jobs table behind :class:`stylemixer.jobs.ports.JobRepository`, with conditional writes.

Every transition carries the state machine's rule as a ``ConditionExpression``, so two workers
racing on one job (a redelivery, a crash and a retry) cannot move it backwards or lower its progress.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from stylemixer.jobs.model import (
    FAIL_FROM,
    START_FROM,
    SUCCEED_FROM,
    Job,
    JobError,
    JobParams,
    JobResult,
    JobStatus,
    Painting,
    iso,
)
from stylemixer.resources import (
    QUEUED_INDEX,
    QUEUED_INDEX_KEY,
    QUEUED_INDEX_SORT,
    TABLE_PARTITION_KEY,
    TABLE_TTL_ATTRIBUTE,
)

_CONDITION_FAILED = "ConditionalCheckFailedException"
#: Every transition out of ``queued`` takes the job out of the queued jobs' index.
_LEAVES_QUEUE = " REMOVE #waiting"


class DynamoJobRepository:
    """Jobs in one DynamoDB table (partition key ``job_id``, TTL on ``expires_at_epoch``).

    Example:
        >>> import boto3
        >>> repo = DynamoJobRepository(boto3.client("dynamodb"), "stylemixer-jobs")
        >>> repo.get("0" * 32) is None
        True
    """

    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self.table = table

    def create(self, job: Job) -> None:
        self._db.put_item(
            TableName=self.table,
            Item=to_item(job),
            ConditionExpression="attribute_not_exists(#pk)",
            ExpressionAttributeNames={"#pk": TABLE_PARTITION_KEY},
        )

    def get(self, job_id: str) -> Job | None:
        item = self._db.get_item(TableName=self.table, Key=_key(job_id), ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def start(self, job_id: str, now: datetime) -> Job | None:
        attributes = self._update(
            job_id,
            "SET #status = :running, stage = :stage, updated_at = :now ADD attempts :one" + _LEAVES_QUEUE,
            _status_in(START_FROM),
            {
                ":running": _s(JobStatus.RUNNING),
                ":stage": _s("starting"),
                ":now": _s(iso(now)),
                ":one": _n(1),
            },
        )
        return from_item(attributes) if attributes else None

    def record_progress(self, job_id: str, stage: str, progress: int, now: datetime) -> bool:
        return (
            self._update(
                job_id,
                "SET stage = :stage, progress = :progress, updated_at = :now",
                "#status = :running AND progress <= :progress",
                {
                    ":running": _s(JobStatus.RUNNING),
                    ":stage": _s(stage),
                    ":progress": _n(progress),
                    ":now": _s(iso(now)),
                },
            )
            is not None
        )

    def succeed(
        self, job_id: str, result: JobResult, now: datetime, painting: Painting | None = None
    ) -> bool:
        values = {
            ":succeeded": _s(JobStatus.SUCCEEDED),
            ":done": _s("done"),
            ":full": _n(100),
            ":result": {"M": _result_item(result)},
            ":now": _s(iso(now)),
        }
        names = {"#result": "result"}
        painted = ""
        if painting is not None:  # the size painted, as the worker knows it: replaces the header's
            values[":painting"] = {"M": _painting_item(painting)}
            names["#painting"] = "painting"
            painted = ", #painting = :painting"
        return (
            self._update(
                job_id,
                "SET #status = :succeeded, stage = :done, progress = :full, #result = :result, "
                "updated_at = :now" + painted + _LEAVES_QUEUE,
                _status_in(SUCCEED_FROM),
                values,
                names=names,
            )
            is not None
        )

    def fail(self, job_id: str, error: JobError, now: datetime) -> bool:
        return (
            self._update(
                job_id,
                "SET #status = :failed, stage = :failed, error_code = :code, error_message = :message, "
                "updated_at = :now" + _LEAVES_QUEUE,
                _status_in(FAIL_FROM),
                {
                    ":failed": _s(JobStatus.FAILED),
                    ":code": _s(error.code),
                    ":message": _s(error.message),
                    ":now": _s(iso(now)),
                },
            )
            is not None
        )

    def delete(self, job_id: str, owner_hash: str) -> bool:
        try:
            self._db.delete_item(
                TableName=self.table,
                Key=_key(job_id),
                ConditionExpression="owner_hash = :owner",
                ExpressionAttributeValues={":owner": _s(owner_hash)},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == _CONDITION_FAILED:
                return False
            raise
        return True

    def queued_before(self, moment: datetime, limit: int) -> list[str]:
        """One page of the queued jobs' index (it holds only queued jobs), oldest first."""
        response = self._db.query(
            TableName=self.table,
            IndexName=QUEUED_INDEX,
            KeyConditionExpression="#waiting = :queued AND #created < :moment",
            ExpressionAttributeNames={
                "#waiting": QUEUED_INDEX_KEY,
                "#created": QUEUED_INDEX_SORT,
            },
            ExpressionAttributeValues={":queued": _s(JobStatus.QUEUED), ":moment": _s(iso(moment))},
            Limit=limit,
        )
        return [item[TABLE_PARTITION_KEY]["S"] for item in response.get("Items", [])]

    def _update(
        self,
        job_id: str,
        expression: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """One conditional update; the new item, or None when the condition refused it."""
        for status in JobStatus:
            values.setdefault(f":{status.value}", _s(status))
        try:
            response = self._db.update_item(
                TableName=self.table,
                Key=_key(job_id),
                UpdateExpression=expression,
                ConditionExpression=f"attribute_exists(#pk) AND ({condition})",
                ExpressionAttributeNames={
                    "#pk": TABLE_PARTITION_KEY,
                    "#status": "status",
                    **({"#waiting": QUEUED_INDEX_KEY} if "#waiting" in expression else {}),
                    **(names or {}),
                },
                ExpressionAttributeValues={
                    k: v for k, v in values.items() if k in expression or k in condition
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == _CONDITION_FAILED:
                return None
            raise
        return response["Attributes"]


def to_item(job: Job) -> dict[str, Any]:
    """A job as a DynamoDB item (parameters as one JSON string: stored, never queried)."""
    item: dict[str, Any] = {
        TABLE_PARTITION_KEY: _s(job.job_id),
        "status": _s(job.status),
        "stage": _s(job.stage),
        "progress": _n(job.progress),
        "attempts": _n(job.attempts),
        "params": _s(json.dumps(job.params.to_dict(), separators=(",", ":"))),
        "created_at": _s(iso(job.created_at)),
        "updated_at": _s(iso(job.updated_at)),
        TABLE_TTL_ATTRIBUTE: _n(job.expires_at_epoch),
    }
    if job.status is JobStatus.QUEUED:  # in the queued jobs' index until it starts or ends
        item[QUEUED_INDEX_KEY] = _s(JobStatus.QUEUED)
    if job.owner_hash is not None:
        item["owner_hash"] = _s(job.owner_hash)
    if job.error is not None:
        item["error_code"] = _s(job.error.code)
        item["error_message"] = _s(job.error.message)
    if job.result is not None:
        item["result"] = {"M": _result_item(job.result)}
    if job.painting is not None:
        item["painting"] = {"M": _painting_item(job.painting)}
    return item


def from_item(item: dict[str, Any]) -> Job:
    """The job a DynamoDB item holds."""
    result = None
    if "result" in item:
        r = item["result"]["M"]
        result = JobResult(
            key=r["key"]["S"],
            width=int(r["width"]["N"]),
            height=int(r["height"]["N"]),
            format=r["format"]["S"],
            regions_key=r["regions_key"]["S"] if "regions_key" in r else None,
            thumbnail_key=r["thumbnail_key"]["S"] if "thumbnail_key" in r else None,
        )
    error = None
    if "error_code" in item:
        error = JobError(item["error_code"]["S"], item.get("error_message", {}).get("S", ""))
    return Job(
        job_id=item[TABLE_PARTITION_KEY]["S"],
        params=JobParams.from_dict(json.loads(item["params"]["S"])),
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        updated_at=datetime.fromisoformat(item["updated_at"]["S"]),
        expires_at_epoch=int(item[TABLE_TTL_ATTRIBUTE]["N"]),
        status=JobStatus(item["status"]["S"]),
        stage=item["stage"]["S"],
        progress=int(item["progress"]["N"]),
        attempts=int(item["attempts"]["N"]),
        error=error,
        result=result,
        owner_hash=item["owner_hash"]["S"] if "owner_hash" in item else None,
        painting=_painting_of(item["painting"]["M"]) if "painting" in item else None,
    )


def _result_item(result: JobResult) -> dict[str, Any]:
    item = {
        "key": _s(result.key),
        "width": _n(result.width),
        "height": _n(result.height),
        "format": _s(result.format),
    }
    if result.regions_key:
        item["regions_key"] = _s(result.regions_key)
    if result.thumbnail_key:
        item["thumbnail_key"] = _s(result.thumbnail_key)
    return item


def _painting_item(painting: Painting) -> dict[str, Any]:
    return {
        "width": _n(painting.width),
        "height": _n(painting.height),
        "reduced": {"BOOL": painting.reduced},
        "photo_width": _n(painting.photo_width),
        "photo_height": _n(painting.photo_height),
    }


def _painting_of(item: dict[str, Any]) -> Painting:
    """The painting a stored map holds (items written before jobs kept one have none: see from_item)."""
    return Painting(
        width=int(item["width"]["N"]),
        height=int(item["height"]["N"]),
        reduced=bool(item["reduced"]["BOOL"]),
        photo_width=int(item["photo_width"]["N"]),
        photo_height=int(item["photo_height"]["N"]),
    )


def _status_in(statuses: frozenset[JobStatus]) -> str:
    return "#status IN (" + ", ".join(f":{s.value}" for s in sorted(statuses)) + ")"


def _key(job_id: str) -> dict[str, Any]:
    return {TABLE_PARTITION_KEY: _s(job_id)}


def _s(value: str) -> dict[str, str]:
    return {"S": str(value)}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}
