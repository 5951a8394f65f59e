"""Adapters from the job logic's interfaces to AWS (S3, DynamoDB, SQS), plus in-memory fakes.

Importing this package does not import boto3: :func:`stylemixer.aws.clients.build_adapters` does,
once per cold start, so the API function's cold import stays small.

The examples here run in the test suite against moto's in-process AWS, which holds the stack's
bucket, table and queues, with the handlers' environment set (the project's ``conftest.py``).
"""

from __future__ import annotations
