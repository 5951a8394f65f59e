"""The worker function: the jobs queue and its dead-letter queue."""
