"""Admission: the table the API counts each client's jobs, jobs in flight and upload bytes in.

Its items are counters that expire on their own (TTL) within hours or a day; only the API's role may
read or write them. The limits themselves are settings (``client_*``, ``jobs_per_upload``) that the
API function reads from its environment (see :mod:`stylemixer_cdk.functions`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import RemovalPolicy
from constructs import Construct

from stylemixer.resources import QUOTA_PARTITION_KEY, QUOTA_TTL_ATTRIBUTE
from stylemixer_cdk.nag import suppress
from stylemixer_cdk.tables import expiring_table

if TYPE_CHECKING:
    from stylemixer_cdk.config import StackConfig


class Admission(Construct):
    """The quotas table: on demand, TTL on ``expires_at_epoch``, removed with the stack."""

    def __init__(self, scope: Construct, id_: str, *, config: StackConfig) -> None:
        super().__init__(scope, id_)
        self.quotas = expiring_table(
            self,
            "Quotas",
            key=QUOTA_PARTITION_KEY,
            ttl_attribute=QUOTA_TTL_ATTRIBUTE,
            # Counters of the last hour or day: nothing to keep when the stack goes.
            removal_policy=RemovalPolicy.DESTROY,
        )
        suppress(
            self.quotas,
            "AwsSolutions-DDB3",
            "The quotas table holds only counters of the last hour (and jobs in flight of the last "
            "day), which expire on their own: a restored copy would hold stale counts, and an empty "
            "table is a correct one (every client starts its hour afresh).",
        )
