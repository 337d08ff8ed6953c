"""Port numbers, port names (IANA_SVC_NAME) and protocols, as pods, Services and Endpoints use them.

Messages keep the Kubernetes wording. Port values come straight from JSON, so a check
never assumes an int: a string where a number belongs is reported, not raised.
"""

from __future__ import annotations

import re
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_fields import integer
from edgekube.resources.validation import invalid_value, required, unsupported_value

PROTOCOLS = ("SCTP", "TCP", "UDP")
PORT_RANGE = "must be between 1 and 65535, inclusive"
PORT_NAME_MAX = 15

_PORT_NAME_CHARS = re.compile(r"^[-a-z0-9]+$")
_HAS_LETTER = re.compile(r"[a-z]")


def port_number_problems(value: Any) -> list[str]:
    """`[PORT_RANGE]` unless `value` is an integer from 1 to 65535."""
    number = integer(value)
    return [] if number is not None and 1 <= number <= 65535 else [PORT_RANGE]


def port_name_problems(name: str) -> list[str]:
    """Problems with `name` as an IANA service name (a named `targetPort`, say "http")."""
    errs = []
    if len(name) > PORT_NAME_MAX:
        errs.append(f"must be no more than {PORT_NAME_MAX} characters")
    if not _PORT_NAME_CHARS.match(name):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _HAS_LETTER.search(name):
        errs.append("must contain at least one letter (a-z)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if name.startswith("-") or name.endswith("-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def validate_port(value: Any, field: str) -> list[Cause]:
    """A required port number at `field`."""
    return [invalid_value(field, value, e) for e in port_number_problems(value)]


def validate_port_or_name(value: Any, field: str) -> list[Cause]:
    """An int-or-string port (`targetPort`): a number 1-65535 or an IANA service name."""
    if isinstance(value, str):
        if not value:
            return [required(field)]
        return [invalid_value(field, value, e) for e in port_name_problems(value)]
    return validate_port(value, field)


def validate_protocol(value: Any, field: str) -> list[Cause]:
    """A required protocol, one of SCTP, TCP and UDP (defaulting fills in TCP first)."""
    if value is None or value == "":
        return [required(field)]
    if value not in PROTOCOLS:
        return [unsupported_value(field, value, PROTOCOLS)]
    return []
