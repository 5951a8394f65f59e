"""Firewall (optional, ``waf_enabled``): an AWS WAF web ACL on the site's CloudFront distribution
that limits, per address, the requests to the API served behind it under ``/api/*``.

API Gateway's throttles count everyone together: one script sending faster than a route's limit
takes that route from every other person. A rate-based rule counts each address apart and blocks
one that sends too much at the edge, before API Gateway or a Lambda function sees the request (and
before either costs anything). A refused request gets the API's own error shape, 429 and
``Retry-After``. A CloudFront web ACL exists only in us-east-1: a rule of the template stops the
deployment in any other region with a sentence. It costs about 7 USD a month at rest (the web ACL
and its two rules) and 0.60 USD per million requests; see docs/operators.md.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Fn
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from stylemixer.errors import TOO_MANY_REQUESTS

if TYPE_CHECKING:
    from stylemixer_cdk.config import StackConfig

#: Where the API is served on the site's distribution.
API_PATH = "/api/"
#: A rate rule blocks an address until its rate falls back under the limit: about a minute.
BLOCKED_RETRY_SECONDS = 60
#: The window the rules count requests in, seconds (WAF allows 60, 120, 300 or 600).
WINDOW_SECONDS = 300
#: The refusal's body, in the API's error shape.
REFUSAL = {
    "error": {
        "code": TOO_MANY_REQUESTS,
        "message": "Too many requests from your address; wait a minute and try again.",
    }
}
#: The one region a CloudFront web ACL can be created in.
WAF_REGION = "us-east-1"


def _path_starts_with_api() -> dict[str, Any]:
    return {
        "byteMatchStatement": {
            "fieldToMatch": {"uriPath": {}},
            "positionalConstraint": "STARTS_WITH",
            "searchString": API_PATH,
            "textTransformations": [{"priority": 0, "type": "NONE"}],
        }
    }


def _not_a_read() -> dict[str, Any]:
    return {
        "notStatement": {
            "statement": {
                "byteMatchStatement": {
                    "fieldToMatch": {"method": {}},
                    "positionalConstraint": "EXACTLY",
                    "searchString": "GET",
                    "textTransformations": [{"priority": 0, "type": "NONE"}],
                }
            }
        }
    }


class Firewall(Construct):
    """The web ACL: every request allowed, but per address, at most ``waf_api_requests_per_5_minutes``
    to ``/api/`` and ``waf_writes_per_5_minutes`` of them not GET."""

    def __init__(self, scope: Construct, id_: str, *, config: StackConfig) -> None:
        super().__init__(scope, id_)
        prefix = f"StyleMixer-{config.stage}"
        blocked = {
            "block": {
                "customResponse": {
                    "responseCode": 429,
                    "customResponseBodyKey": TOO_MANY_REQUESTS,
                    "responseHeaders": [{"name": "Retry-After", "value": str(BLOCKED_RETRY_SECONDS)}],
                }
            }
        }
        rules = [
            self._rate_rule(
                f"{prefix}-ApiWrites", 0, config.waf_writes_per_5_minutes, _not_a_read(), blocked
            ),
            self._rate_rule(f"{prefix}-ApiRequests", 1, config.waf_api_requests_per_5_minutes, None, blocked),
        ]
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"{prefix}-{Aws.REGION}",
            description="StyleMixer: requests to the API per address",
            scope="CLOUDFRONT",
            default_action={"allow": {}},
            custom_response_bodies={
                TOO_MANY_REQUESTS: {"contentType": "APPLICATION_JSON", "content": json.dumps(REFUSAL)}
            },
            visibility_config=_visibility(prefix),
            rules=rules,
        )
        # A CloudFront web ACL can only be made in us-east-1: stop before anything is created.
        CfnRule(
            self,
            "OnlyInUsEast1",
            assertions=[
                CfnRuleAssertion(
                    assert_=Fn.condition_equals(Aws.REGION, WAF_REGION),
                    assert_description=(
                        "waf_enabled needs the stack in us-east-1 (a CloudFront web ACL exists only "
                        "there): deploy this stage to us-east-1, or set waf_enabled to false."
                    ),
                )
            ],
        )

    @property
    def arn(self) -> str:
        """The web ACL's ARN, for the distribution."""
        return self.web_acl.attr_arn

    @staticmethod
    def _rate_rule(
        name: str, priority: int, limit: int, narrower: dict[str, Any] | None, action: dict[str, Any]
    ) -> dict[str, Any]:
        scope: dict[str, Any] = _path_starts_with_api()
        if narrower is not None:
            scope = {"andStatement": {"statements": [scope, narrower]}}
        return {
            "name": name,
            "priority": priority,
            "action": action,
            "statement": {
                "rateBasedStatement": {
                    "limit": limit,
                    "aggregateKeyType": "IP",
                    "evaluationWindowSec": WINDOW_SECONDS,
                    "scopeDownStatement": scope,
                }
            },
            "visibilityConfig": _visibility(name),
        }


def _visibility(name: str) -> dict[str, Any]:
    return {
        "cloudWatchMetricsEnabled": True,
        "metricName": name.replace("-", ""),
        "sampledRequestsEnabled": True,
    }
