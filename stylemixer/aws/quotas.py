"""The quotas table behind :class:`stylemixer.jobs.ports.QuotaBook`: counters and sets, changed by
conditional updates only.

Each item is one counter (``n``) or one set (``members``) under its key, with a TTL. A counter is
added to with ``ADD`` under the condition that it stays within its limit, so two requests racing for
the last unit cannot both have it; a set the same with ``size(members)``. DynamoDB deletes expired
items up to a couple of days late, so a counter's window is part of its key (an expired one is
never read again), and a set is cleaned by its owner (see :mod:`stylemixer.admission.quotas`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from stylemixer.resources import QUOTA_PARTITION_KEY, QUOTA_TTL_ATTRIBUTE

if TYPE_CHECKING:
    from collections.abc import Iterable

_CONDITION_FAILED = "ConditionalCheckFailedException"


class DynamoQuotaBook:
    """Counters in one DynamoDB table (partition key ``pk``, TTL on ``expires_at_epoch``).

    Example:
        >>> import boto3
        >>> book = DynamoQuotaBook(boto3.client("dynamodb"), "stylemixer-quotas")
        >>> expires = 2_000_000_000
        >>> book.add_within("jobs:example", 1, 2, expires), book.add_within("jobs:example", 2, 2, expires)
        (True, False)
    """

    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self.table = table

    def add_within(self, key: str, amount: int, limit: int, expires_at_epoch: int) -> bool:
        room = limit - amount
        if room < 0:
            return False
        return self._conditional(
            key,
            "SET #ttl = :ttl ADD n :amount",
            "attribute_not_exists(n) OR n <= :room",
            {":ttl": _n(expires_at_epoch), ":amount": _n(amount), ":room": _n(room)},
        )

    def take_back(self, key: str, amount: int) -> None:
        self._conditional(key, "ADD n :amount", "attribute_exists(n)", {":amount": _n(-amount)})

    def join(self, key: str, member: str, limit: int, expires_at_epoch: int) -> bool:
        return self._conditional(
            key,
            "SET #ttl = :ttl ADD members :member",
            "attribute_not_exists(members) OR size(members) < :limit OR contains(members, :one)",
            {
                ":ttl": _n(expires_at_epoch),
                ":member": {"SS": [member]},
                ":limit": _n(limit),
                ":one": {"S": member},
            },
        )

    def members(self, key: str) -> frozenset[str]:
        item = self._db.get_item(TableName=self.table, Key=_key(key), ConsistentRead=True).get("Item") or {}
        return frozenset(item.get("members", {}).get("SS", []))

    def leave(self, key: str, members: Iterable[str]) -> None:
        gone = sorted(set(members))
        if gone:
            self._db.update_item(
                TableName=self.table,
                Key=_key(key),
                UpdateExpression="DELETE members :gone",
                ExpressionAttributeValues={":gone": {"SS": gone}},
            )

    def _conditional(self, key: str, expression: str, condition: str, values: dict[str, Any]) -> bool:
        """One conditional update; False when the condition refused it."""
        names = {"ExpressionAttributeNames": {"#ttl": QUOTA_TTL_ATTRIBUTE}} if "#ttl" in expression else {}
        try:
            self._db.update_item(
                TableName=self.table,
                Key=_key(key),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                **names,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == _CONDITION_FAILED:
                return False
            raise
        return True


def _key(key: str) -> dict[str, Any]:
    return {QUOTA_PARTITION_KEY: {"S": key}}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}
