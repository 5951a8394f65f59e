"""Several clients on one machine: each a ``requests`` session whose connections leave from a
loopback address of its own (127.0.0.2, 127.0.0.3, ...). The local stack's front door passes each
connection's peer address to the API as its source address, so its limits see different people.

Example (any loopback address can be bound on Linux: the whole 127.0.0.0/8 is this machine):
    >>> session = client_session(loopback_address(0))
    >>> loopback_address(0), loopback_address(5)
    ('127.0.0.2', '127.0.0.7')
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter


class SourceAddressAdapter(HTTPAdapter):
    """Opens every connection from ``address`` (port chosen by the system)."""

    def __init__(self, address: str, **kwargs: Any) -> None:
        self._source = (address, 0)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = self._source
        super().init_poolmanager(*args, **kwargs)


def client_session(address: str) -> requests.Session:
    """A session whose requests come from ``address``."""
    session = requests.Session()
    adapter = SourceAddressAdapter(address)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def loopback_address(index: int) -> str:
    """The ``index``-th client's address: 127.0.0.2 for the first (127.0.0.1 is the stack's own)."""
    if not 0 <= index < 250:
        raise ValueError("at most 250 loopback clients")
    return f"127.0.0.{index + 2}"
