"""Fixtures for the functional tests (the harness itself lives in :mod:`tests.functional.harness`)."""

from __future__ import annotations

from tests.functional.harness import aws, aws_session, fake_engine

__all__ = ["aws", "aws_session", "fake_engine"]
