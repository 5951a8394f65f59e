"""The Lambda entry points: thin handlers over :mod:`stylemixer.jobs`.

``functions.api.handler.handler`` answers the HTTP API; ``functions.worker.handler.handler`` consumes
the jobs queue and ``functions.worker.handler.dlq_handler`` its dead-letter queue.
"""
