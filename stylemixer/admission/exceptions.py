"""The refusals of admission: each with its status, a stable code, a sentence and when to come back."""

from __future__ import annotations

import math

from stylemixer.errors import BUSY, TOO_MANY_JOBS, UPLOAD_USED_UP, StyleMixerError


class RetryLaterError(StyleMixerError):
    """A refusal that waiting cures: the API answers it with ``Retry-After: <retry_after>`` seconds.

    It is the caller's answer, never an outage, even as a 503 (the service is busy on purpose).

    Example:
        >>> error = BusyError(retry_after=150)
        >>> error.status, error.code, error.retry_after
        (503, 'Busy', 150)
    """

    code = TOO_MANY_JOBS  # each kind below names its own; a limit's refusal names which limit

    def __init__(self, code: str | None = None, message: str = "", *, retry_after: int) -> None:
        super().__init__(code, message)
        self.retry_after = max(1, int(retry_after))


class QuotaExceededError(RetryLaterError):
    """One client has used up a limit of its own (jobs, jobs in flight, upload bytes): 429, with the
    limit's code (``TooManyJobs``, ``TooManyJobsInFlight``, ``UploadQuotaExceeded``)."""

    code = TOO_MANY_JOBS


class BusyError(RetryLaterError):
    """The queue holds more work than the workers finish in the allowed minutes: 503, for everyone."""

    code = BUSY

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(
            message=f"StyleMixer is busy: try again in {in_words(retry_after)}.", retry_after=retry_after
        )


class UploadUsedUpError(StyleMixerError):
    """An upload was named by as many jobs as one upload may be (410: send the picture again)."""

    code = UPLOAD_USED_UP


def in_words(seconds: int) -> str:
    """``seconds`` as a person says a wait: "about 3 minutes", "a minute", "about 40 seconds".

    Example:
        >>> in_words(150), in_words(60), in_words(40), in_words(5400)
        ('about 3 minutes', 'about a minute', 'about 40 seconds', 'about 90 minutes')
    """
    if seconds < 55:
        return f"about {max(5, round(seconds / 5) * 5)} seconds"
    minutes = math.ceil(seconds / 60 - 0.01)
    return "about a minute" if minutes <= 1 else f"about {minutes} minutes"
