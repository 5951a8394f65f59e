"""cdk-nag suppressions, each with its reason and on the narrowest construct that needs it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo

if TYPE_CHECKING:
    from collections.abc import Sequence

    from constructs import IConstruct


def suppress(
    construct: IConstruct,
    rule: str,
    reason: str,
    *,
    applies_to: Sequence[str | RegexAppliesTo] | None = None,
    children: bool = False,
) -> None:
    """Silence one AwsSolutions rule on one construct, saying why.

    ``applies_to`` narrows an IAM5 suppression to the named wildcard resources or actions;
    ``children`` reaches the L1 resources under an L2 construct (e.g. a role's default policy).

    Example:
        >>> suppress(bucket, "AwsSolutions-S1", "This is the access-log bucket itself.")  # doctest: +SKIP
    """
    suppression = NagPackSuppression(
        id=rule, reason=reason, applies_to=list(applies_to) if applies_to else None
    )
    NagSuppressions.add_resource_suppressions(construct, [suppression], apply_to_children=children)
