"""IP address and CIDR checks with the Kubernetes wording (Services, Endpoints, Nodes).

Values are strings from the wire; each check returns the problems as message details
(empty when valid) so callers wrap them in `invalid_value` under their own field path.
"""

from __future__ import annotations

import ipaddress
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

IP_FORMAT = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
CIDR_FORMAT = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"


def parse_ip(value: Any) -> IPAddress | None:
    """The address `value` spells, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def ip_problems(value: Any) -> list[str]:
    """`[IP_FORMAT]` unless `value` is an IPv4 or IPv6 address."""
    return [] if parse_ip(value) is not None else [IP_FORMAT]


def is_ipv6(value: Any) -> bool:
    return isinstance(parse_ip(value), ipaddress.IPv6Address)


def special_ip_problems(value: Any) -> list[str]:
    """Why an endpoint or external address may not be `value` (it routes nowhere useful)."""
    ip = parse_ip(value)
    if ip is None:
        return []
    if ip.is_unspecified:
        return ["may not be unspecified (0.0.0.0)"]
    if ip.is_loopback:
        return ["may not be in the loopback range (127.0.0.0/8, ::1/128)"]
    if ip.is_link_local:
        return ["may not be in the link-local range (169.254.0.0/16, fe80::/10)"]
    if ip in _LINK_LOCAL_MULTICAST_V4 or ip in _LINK_LOCAL_MULTICAST_V6:
        return ["may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"]
    return []


_LINK_LOCAL_MULTICAST_V4 = ipaddress.ip_network("224.0.0.0/24")
_LINK_LOCAL_MULTICAST_V6 = ipaddress.ip_network("ff02::/16")


def parse_cidr(value: Any) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface | None:
    """The network `value` spells as address/prefix (host bits allowed), or None."""
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        return ipaddress.ip_interface(value)
    except ValueError:
        return None


def cidr_problems(value: Any) -> list[str]:
    """`[CIDR_FORMAT]` unless `value` is an address with a prefix length."""
    return [] if parse_cidr(value) is not None else [CIDR_FORMAT]
