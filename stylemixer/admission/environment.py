"""The limits per client and admission control as the API function's environment.

Written here once for both stacks, the deployed one (the CDK app) and the local one
(:mod:`stylemixer.local.environment`); :meth:`stylemixer.settings.Settings.from_env` reads the same
variables back. Floats are written with ``repr`` so that they read back exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stylemixer.resources import (
    ENV_BACKLOG_MINUTES,
    ENV_CLIENT_JOBS_IN_FLIGHT,
    ENV_CLIENT_JOBS_PER_HOUR,
    ENV_CLIENT_UPLOAD_BYTES_PER_HOUR,
    ENV_JOBS_PER_UPLOAD,
    ENV_WORKER_JOBS_PER_MINUTE,
    ENV_WORKERS,
)

if TYPE_CHECKING:
    from stylemixer.admission.backlog import Capacity
    from stylemixer.admission.quotas import ClientLimits


def admission_environment(limits: ClientLimits, capacity: Capacity) -> dict[str, str]:
    """The variables that tell the API what one client may do and what the workers can take.

    Example:
        >>> from stylemixer.admission import Capacity, ClientLimits
        >>> admission_environment(ClientLimits(), Capacity(workers=5))["STYLEMIXER_WORKERS"]
        '5'
    """
    return {
        ENV_CLIENT_JOBS_PER_HOUR: str(limits.jobs_per_hour),
        ENV_CLIENT_JOBS_IN_FLIGHT: str(limits.jobs_in_flight),
        ENV_CLIENT_UPLOAD_BYTES_PER_HOUR: str(limits.upload_bytes_per_hour),
        ENV_JOBS_PER_UPLOAD: str(limits.jobs_per_upload),
        ENV_WORKERS: str(capacity.workers),
        ENV_WORKER_JOBS_PER_MINUTE: repr(capacity.jobs_per_worker_minute),
        ENV_BACKLOG_MINUTES: repr(capacity.backlog_minutes),
    }
