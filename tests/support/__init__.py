"""Fixtures and helpers shared by the test folders: pictures, the AWS harness, the page flows, CDK."""
