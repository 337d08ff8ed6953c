"""The Secret kind (v1): base64 `data` under file-like keys, with a type that sets rules.

`stringData` is a write-only convenience: on every write its values are encoded into
`data` (winning over the same key there) and the field is dropped, as Kubernetes does
when it converts a request. Well-known types require their keys (a TLS secret needs
`tls.crt` and `tls.key`). Values never appear in error messages.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_data_keys import (
    MAX_DATA_BYTES,
    decode_base64,
    decoded_size,
    validate_immutable_data,
    validate_keys,
)
from edgekube.resources.kinds.common_fields import mapping, text, writable
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import immutable, invalid_value, required, too_long

KIND = Kind(
    group='',
    version='v1',
    kind='Secret',
    plural='secrets',
    singular='secret',
    namespaced=True,
    short_names=(),
    categories=(),
    has_status=False,
    has_scale=False,
)

COLUMNS = (
    NAME_COLUMN,
    Column("Type", description="The type of the secret"),
    Column("Data", description="Number of keys in data"),
    AGE_COLUMN,
)

REDACTED = "<secret contents redacted>"
SERVICE_ACCOUNT_NAME = "kubernetes.io/service-account.name"
# Keys each well-known type must hold in `data`.
_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}
_JSON_KEYS = (".dockercfg", ".dockerconfigjson")


@dataclass
class SecretStrategy(Strategy):
    """Secrets: stringData folded into data, valid base64 and keys, type rules, immutability."""

    columns: tuple[Column, ...] = COLUMNS

    def default(self, obj: Obj) -> None:
        if not obj.get("type"):
            obj["type"] = "Opaque"
        string_data = obj.get("stringData")
        if not isinstance(string_data, dict):
            return
        data = writable(obj, "data")
        if data is None:
            return
        for key, value in string_data.items():
            if isinstance(value, str):
                data[key] = base64.b64encode(value.encode()).decode()
        del obj["stringData"]

    def validate(self, obj: Obj) -> list[Cause]:
        data = obj.get("data")
        causes = super().validate(obj) + validate_keys(data, "data")
        size, bad_values = decoded_size(data, "data", REDACTED)
        causes += bad_values
        if size > MAX_DATA_BYTES:
            causes.append(too_long("data", MAX_DATA_BYTES))
        return causes + _validate_type_rules(obj)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_update(new, old)
        if text(new.get("type")) != text(old.get("type")):
            causes.append(immutable("type"))
        return causes + validate_immutable_data(new, old, ("data",))

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        return [
            get_path(obj, "metadata", "name"),
            text(obj.get("type")),
            len(mapping(obj.get("data"))),
            age(obj, now),
        ]

    def field_values(self, obj: Obj) -> dict[str, str]:
        return {**super().field_values(obj), "type": text(obj.get("type"))}


def _validate_type_rules(obj: Obj) -> list[Cause]:
    kind = text(obj.get("type"))
    data = mapping(obj.get("data"))
    if kind == "kubernetes.io/service-account-token":
        annotations = mapping(get_path(obj, "metadata", "annotations"))
        if not annotations.get(SERVICE_ACCOUNT_NAME):
            return [required(f"metadata.annotations[{SERVICE_ACCOUNT_NAME}]")]
        return []
    if kind == "kubernetes.io/basic-auth":
        # Either may be empty, but one of them must be there.
        if "username" not in data and "password" not in data:
            return [required("data[username]"), required("data[password]")]
        return []
    if kind == "kubernetes.io/ssh-auth":
        # The key must be there and hold something: an empty private key is no key.
        present = decode_base64(data.get("ssh-privatekey"))
        return [] if present else [required("data[ssh-privatekey]")]
    causes: list[Cause] = []
    for key in _REQUIRED_KEYS.get(kind, ()):
        if key not in data:
            causes.append(required(f"data[{key}]"))
        elif key in _JSON_KEYS:
            causes += _validate_json_object(data[key], f"data[{key}]")
    return causes


def _validate_json_object(value: Any, field: str) -> list[Cause]:
    """Docker config secrets hold a JSON object; kubelets parse it to pull images."""
    raw = decode_base64(value)
    if raw is None:
        return []  # already reported as bad base64
    try:
        parsed = json.loads(raw)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both derive from it
        return [invalid_value(field, REDACTED, "must be valid JSON")]
    if not isinstance(parsed, dict):
        return [invalid_value(field, REDACTED, "must be a JSON object")]
    return []


STRATEGY = SecretStrategy(KIND, tracks_generation=False)
