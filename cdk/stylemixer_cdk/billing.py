"""Billing: a monthly cost budget (AWS Budgets) that e-mails ``alarm_email`` before the bill grows.

The limits per client and admission control bound what the service can spend in an hour (the
worst case, line by line, is in docs/operators.md); the budget is the ceiling over a month, whatever
the cause: it tells the operator when 80 % of ``budget_monthly_usd`` is spent, when all of it is,
and when the month's forecast passes it. It covers the account's whole bill: a budget of this
stage's resources only would need the ``stage`` cost allocation tag activated in the account's
billing settings first (without it such a budget reads zero for ever).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import Annotations, Aws
from aws_cdk import aws_budgets as budgets
from constructs import Construct

if TYPE_CHECKING:
    from stylemixer_cdk.config import StackConfig

#: When the operator is told: (ACTUAL or FORECASTED, percent of the budget).
NOTIFICATIONS: tuple[tuple[str, float], ...] = (("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100))


class Billing(Construct):
    """The budget, named ``StyleMixer-<stage>-<region>`` (budgets are per account, not per region)."""

    def __init__(self, scope: Construct, id_: str, *, config: StackConfig) -> None:
        super().__init__(scope, id_)
        notifications: list[dict[str, Any]] = []
        if config.alarm_email:
            subscribers = [{"subscriptionType": "EMAIL", "address": config.alarm_email}]
            notifications = [
                {
                    "notification": {
                        "notificationType": kind,
                        "comparisonOperator": "GREATER_THAN",
                        "threshold": percent,
                        "thresholdType": "PERCENTAGE",
                    },
                    "subscribers": subscribers,
                }
                for kind, percent in NOTIFICATIONS
            ]
        else:  # only a dev stage gets here (StackConfig refuses any other without an address)
            Annotations.of(self).add_warning_v2(
                "stylemixer:NoBudgetEmail",
                f"Stage {config.stage!r} has no alarm_email: its budget tells no one when it is spent.",
            )
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget={
                "budgetName": f"StyleMixer-{config.stage}-{Aws.REGION}",
                "budgetType": "COST",
                "timeUnit": "MONTHLY",
                "budgetLimit": {"amount": config.budget_monthly_usd, "unit": "USD"},
            },
            notifications_with_subscribers=notifications or None,
        )
