"""A job's owner: whoever holds the token ``POST /jobs`` handed out, once, with the job's id.

Only the token's SHA-256 is stored with the job, so the table (or a copy of it) gives no one the
token. A request that needs the owner sends ``Authorization: Bearer <token>``: the links to the
original photo (and to a region map it was given), and deleting the job. Anyone else holding the
job's link sees the result and the styles, nothing it was made from.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING

from stylemixer.errors import NOT_OWNER, StyleMixerError

if TYPE_CHECKING:
    from stylemixer.jobs.model import Job

#: Random bytes in a token (256 bits; 43 characters of URL-safe base64).
OWNER_TOKEN_BYTES = 32
OWNER_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_BEARER = re.compile(r"^\s*Bearer\s+(\S+)\s*$", re.IGNORECASE)


class NotOwnerError(StyleMixerError):
    """The request needs the job's owner token and did not send it (or sent another): 403."""

    code = NOT_OWNER

    def __init__(self) -> None:
        super().__init__(
            message="Only the browser that sent this job can do that: it needs the job's owner token "
            "(Authorization: Bearer <owner_token>)."
        )


def new_owner_token() -> str:
    """A fresh owner token.

    Example:
        >>> OWNER_TOKEN_PATTERN.fullmatch(new_owner_token()) is not None
        True
    """
    return secrets.token_urlsafe(OWNER_TOKEN_BYTES)


def owner_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None (absent, another scheme, or
    not the shape of a token: it is never compared, so a stray header is just no token).

    Example:
        >>> token = new_owner_token()
        >>> bearer_token(f"Bearer {token}") == token, bearer_token("Basic dXNlcg=="), bearer_token(None)
        (True, None, None)
    """
    match = _BEARER.match(authorization or "")
    if match is None or OWNER_TOKEN_PATTERN.fullmatch(match.group(1)) is None:
        return None
    return match.group(1)


def is_owner(job: Job, token: str | None) -> bool:
    """Whether ``token`` is the owner token of ``job`` (compared in constant time)."""
    if token is None or job.owner_hash is None:
        return False
    return hmac.compare_digest(owner_hash(token), job.owner_hash)
