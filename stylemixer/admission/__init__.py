"""What a public page needs to survive its public: limits per client, and admission control.

A client is an address (:mod:`~stylemixer.admission.clients`); its jobs, jobs in flight and upload
bytes are counted in the quotas table (:mod:`~stylemixer.admission.quotas`), and the queue may hold
only so many minutes of the workers' work (:mod:`~stylemixer.admission.backlog`). Every refusal
says when to come back (:mod:`~stylemixer.admission.exceptions`). No boto3 here.
"""

from __future__ import annotations

from stylemixer.admission.backlog import Backlog, Capacity, QueueGauge
from stylemixer.admission.clients import client_key, viewer_address
from stylemixer.admission.exceptions import BusyError, QuotaExceededError, RetryLaterError, UploadUsedUpError
from stylemixer.admission.quotas import ClientGate, ClientLimits

__all__ = [
    "Backlog",
    "BusyError",
    "Capacity",
    "ClientGate",
    "ClientLimits",
    "QueueGauge",
    "QuotaExceededError",
    "RetryLaterError",
    "UploadUsedUpError",
    "client_key",
    "viewer_address",
]
