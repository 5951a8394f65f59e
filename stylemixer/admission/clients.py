"""Who a client is: the address a request comes from, as the key its limits are counted under.

An IPv4 address is one client. An IPv6 client is its /64 network: one home or one phone gets a whole
/64 and may pick any address in it, so counting single addresses would let it have billions of
quotas. The key is a hash, so the quotas table holds no address in plain sight (the API's access
logs hold the addresses anyway, for as long as they are kept: the hash is not anonymity).
"""

from __future__ import annotations

import hashlib
import ipaddress

#: The key of a request whose address cannot be read (it never happens behind API Gateway): all
#: such requests share one client's limits rather than escaping them.
UNKNOWN_CLIENT = "unknown"
#: An IPv6 client is this network around its address.
IPV6_CLIENT_PREFIX = 64


def client_key(address: str | None) -> str:
    """The key the limits of the client at ``address`` are counted under.

    Example:
        >>> client_key("203.0.113.7") == client_key("203.0.113.7"), client_key("203.0.113.7") == client_key("203.0.113.8")
        (True, False)
        >>> client_key("2001:db8::1") == client_key("2001:db8::ffff:1")  # one /64
        True
        >>> client_key("not an address") == client_key(None)
        True
    """  # noqa: E501
    try:
        parsed = ipaddress.ip_address(str(address or "").strip())
    except ValueError:
        return UNKNOWN_CLIENT
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    if isinstance(parsed, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network((parsed, IPV6_CLIENT_PREFIX), strict=False)
        text = f"{network.network_address}/{IPV6_CLIENT_PREFIX}"
    else:
        text = str(parsed)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:32]


def viewer_address(header: str | None) -> str | None:
    """The address in CloudFront's ``CloudFront-Viewer-Address`` header (``address:port``), or None.

    Example:
        >>> viewer_address("198.51.100.10:46532"), viewer_address("2001:db8::1:46532")
        ('198.51.100.10', '2001:db8::1')
    """
    address, sep, port = str(header or "").strip().rpartition(":")
    if not sep or not port.isdigit() or not address:
        return None
    address = address.strip("[]")
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
