"""The test suite: unit, functional, infra, e2e and reliability tests, and their helpers in support/."""
