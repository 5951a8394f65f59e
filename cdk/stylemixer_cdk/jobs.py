"""Jobs: the DynamoDB table that holds each job's state, and the queue (with its dead-letter queue)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stylemixer.resources import TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE

if TYPE_CHECKING:
    from stylemixer_cdk.config import StackConfig

#: How long the dead-letter queue's consumer may take per message (it only marks the job failed).
DLQ_HANDLER_TIMEOUT_SECONDS = 30


class Jobs(Construct):
    """Where jobs live between ``POST /jobs`` and the worker's last write.

    The table is on demand (no cost at rest beyond storage), expires items by TTL, and keeps
    point-in-time recovery. The queue hides a message for six times the worker's timeout, so a
    running job is never handed to a second worker; after ``max_receive_count`` receives a message
    moves to the dead-letter queue, whose consumer marks the job failed.
    """

    def __init__(self, scope: Construct, id_: str, *, config: StackConfig) -> None:
        super().__init__(scope, id_)
        removal = RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=TABLE_PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TABLE_TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=removal,
        )
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            visibility_timeout=Duration.seconds(6 * DLQ_HANDLER_TIMEOUT_SECONDS),
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(1),
            visibility_timeout=Duration.seconds(config.queue_visibility_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=config.max_receive_count
            ),
        )
