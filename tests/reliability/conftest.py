"""Fixtures for the reliability tests: the functional harness (handlers in-process against moto)."""

from __future__ import annotations

from tests.functional.harness import aws, aws_session, fake_engine

__all__ = ["aws", "aws_session", "fake_engine"]
