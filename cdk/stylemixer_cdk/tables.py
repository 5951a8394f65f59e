"""The one kind of DynamoDB table this stack makes, for the jobs and for the per-client quotas."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import aws_dynamodb as dynamodb

if TYPE_CHECKING:
    from aws_cdk import RemovalPolicy
    from constructs import Construct


def expiring_table(
    scope: Construct, id_: str, *, key: str, ttl_attribute: str, removal_policy: RemovalPolicy, **options: Any
) -> dynamodb.Table:
    """A table keyed by one string, billed on demand (nothing to pay at rest but storage), its items
    expired by TTL on ``ttl_attribute``, encrypted with the AWS-managed key; ``options`` add to it
    (point-in-time recovery for the jobs)."""
    return dynamodb.Table(
        scope,
        id_,
        partition_key=dynamodb.Attribute(name=key, type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        time_to_live_attribute=ttl_attribute,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        removal_policy=removal_policy,
        **options,
    )
