"""Jobs: the DynamoDB table that holds each job's state, and the queue (with its dead-letter queue)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stylemixer.resources import (
    DLQ_HANDLER_TIMEOUT_SECONDS,
    DLQ_RETENTION_SECONDS,
    QUEUED_INDEX,
    QUEUED_INDEX_KEY,
    QUEUED_INDEX_SORT,
    TABLE_PARTITION_KEY,
    TABLE_TTL_ATTRIBUTE,
    VISIBILITY_TIMEOUT_FACTOR,
)
from stylemixer_cdk.tables import expiring_table

if TYPE_CHECKING:
    from stylemixer_cdk.config import StackConfig


class Jobs(Construct):
    """Where jobs live between ``POST /jobs`` and the worker's last write.

    The table is on demand (no cost at rest beyond storage), expires items by TTL, and keeps
    point-in-time recovery. The queue hides a message for six times the worker's timeout, so a
    running job is never handed to a second worker (a job that fails for a passing reason is handed
    back sooner by the worker itself); after ``max_receive_count`` receives a message moves to the
    dead-letter queue, whose consumer marks the job failed. The queue keeps a message long enough
    for all its receives after a day of backlog, and the dead-letter queue longer still (a message
    keeps its first enqueue time when it moves), so no job's message expires unseen; should one
    still expire (the workers stopped for days), the sweeper fails its job, reading the table's
    sparse index of queued jobs (only a queued job carries its key attribute).
    """

    def __init__(self, scope: Construct, id_: str, *, config: StackConfig) -> None:
        super().__init__(scope, id_)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        self.table = expiring_table(
            self,
            "Table",
            key=TABLE_PARTITION_KEY,
            ttl_attribute=TABLE_TTL_ATTRIBUTE,
            removal_policy=removal,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
        )
        self.table.add_global_secondary_index(
            index_name=QUEUED_INDEX,
            partition_key=dynamodb.Attribute(name=QUEUED_INDEX_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=QUEUED_INDEX_SORT, type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.seconds(DLQ_RETENTION_SECONDS),
            visibility_timeout=Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * DLQ_HANDLER_TIMEOUT_SECONDS),
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.seconds(config.queue_retention_seconds),
            visibility_timeout=Duration.seconds(config.queue_visibility_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=config.max_receive_count
            ),
        )
