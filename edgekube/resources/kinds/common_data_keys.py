"""Key, size and immutability rules that ConfigMaps and Secrets share.

Both kinds hold a map of file-like keys (they become file names when mounted, hence
the ban on "." and ".."), a 1 MiB limit on the stored bytes, and an `immutable` flag
that freezes the data once set.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_fields import mapping
from edgekube.resources.objects import Obj
from edgekube.resources.validation import DNS1123_SUBDOMAIN_MAX, forbidden, invalid_value

# The most a ConfigMap or Secret may hold (etcd's request limit, kept for compatibility).
MAX_DATA_BYTES = 1024 * 1024

_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set"


def config_key_problems(key: str) -> list[str]:
    """Problems with `key` as a ConfigMap or Secret key."""
    errs = []
    if len(key) > DNS1123_SUBDOMAIN_MAX:
        errs.append(f"must be no more than {DNS1123_SUBDOMAIN_MAX} characters")
    if not _CONFIG_KEY.match(key):
        errs.append(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
            "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation "
            "is '[-._a-zA-Z0-9]+')"
        )
    # Mounted keys become file names; ".." would step out of the volume directory.
    if key.startswith(".."):
        errs.append("must not start with '..'")
    elif key == ".":
        errs.append("must not be '.'")
    return errs


def validate_keys(data: Any, field: str) -> list[Cause]:
    """Each bad key of the map `data`, reported at `field[key]`."""
    return [
        invalid_value(f"{field}[{key}]", key, e)
        for key in mapping(data)
        for e in config_key_problems(key)
    ]


def decode_base64(value: Any) -> bytes | None:
    """The bytes a JSON `[]byte` field holds (standard base64), or None when malformed.

    Go's decoder skips line breaks, so `kubectl create secret` output wrapped at 76
    columns still decodes; everything else must be the padded standard alphabet.
    """
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return None


def validate_immutable_data(new: Obj, old: Obj, fields: tuple[str, ...]) -> list[Cause]:
    """Once `immutable: true` is stored, it stays, and so do the data `fields`."""
    if old.get("immutable") is not True:
        return []
    causes: list[Cause] = []
    if new.get("immutable") is not True:
        causes.append(forbidden("immutable", _IMMUTABLE_WHEN_SET))
    for name in fields:
        # Compared as maps, not pruned: an empty value is data, unlike an empty field.
        if (new.get(name) or {}) != (old.get(name) or {}):
            causes.append(forbidden(name, _IMMUTABLE_WHEN_SET))
    return causes


def decoded_size(data: Any, field: str, shown: str) -> tuple[int, list[Cause]]:
    """Total bytes of a map of base64 values, and a cause for each value that is not base64.

    `shown` stands in for the bad value in the message: Secret contents never appear in
    an error, and binary data would not be readable anyway.
    """
    size = 0
    causes: list[Cause] = []
    for key, value in mapping(data).items():
        raw = decode_base64(value)
        if raw is None:
            causes.append(invalid_value(f"{field}[{key}]", shown, "illegal base64 data"))
        else:
            size += len(raw)
    return size, causes
