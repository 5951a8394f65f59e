"""The local stack: the whole service on one machine, no AWS account (``stylemixer serve``).

moto's server stands in for S3, SQS and DynamoDB; a front door serves ``static_site/`` and turns
``/api/...`` requests into API Gateway events for the same API handler Lambda runs; pollers feed
the jobs queue to the worker's handler and its dead-letter queue to the dead-letter consumer's, as
Lambda's event source mappings would.
"""

from __future__ import annotations

from stylemixer.local.stack import LocalStack, run

__all__ = ["LocalStack", "run"]
