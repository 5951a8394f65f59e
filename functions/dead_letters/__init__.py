"""The dead-letter consumer: fails the job of every message SQS gave up on."""
