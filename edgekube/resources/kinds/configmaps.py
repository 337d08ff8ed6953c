"""The ConfigMap kind (v1): text (`data`) and bytes (`binaryData`) under file-like keys.

A key may live in one of the two maps only, since both become files of one volume.
The stored bytes are capped at 1 MiB, and `immutable: true` freezes the contents for
good (kubelets then stop watching it, which is why it cannot be undone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_data_keys import (
    MAX_DATA_BYTES,
    decoded_size,
    validate_immutable_data,
    validate_keys,
)
from edgekube.resources.kinds.common_fields import mapping
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import invalid_value, too_long

KIND = Kind(
    group='',
    version='v1',
    kind='ConfigMap',
    plural='configmaps',
    singular='configmap',
    namespaced=True,
    short_names=('cm',),
    categories=(),
    has_status=False,
    has_scale=False,
)

COLUMNS = (
    NAME_COLUMN,
    Column("Data", description="Number of keys in data and binaryData"),
    AGE_COLUMN,
)


@dataclass
class ConfigMapStrategy(Strategy):
    """ConfigMaps: valid keys, no key in both maps, 1 MiB, the `immutable` freeze."""

    columns: tuple[Column, ...] = COLUMNS

    def validate(self, obj: Obj) -> list[Cause]:
        data, binary = mapping(obj.get("data")), mapping(obj.get("binaryData"))
        causes = super().validate(obj)
        causes += validate_keys(data, "data")
        causes += [
            invalid_value(f"data[{key}]", key, "duplicate of key present in binaryData")
            for key in data
            if key in binary
        ]
        causes += validate_keys(binary, "binaryData")
        binary_size, bad_values = decoded_size(binary, "binaryData", "<binary data>")
        causes += bad_values
        size = binary_size + sum(len(v.encode()) for v in data.values() if isinstance(v, str))
        if size > MAX_DATA_BYTES:
            # No field: the limit is on the object as a whole.
            causes.append(too_long("", MAX_DATA_BYTES))
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        frozen = validate_immutable_data(new, old, ("data", "binaryData"))
        return super().validate_update(new, old) + frozen

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        count = len(mapping(obj.get("data"))) + len(mapping(obj.get("binaryData")))
        return [get_path(obj, "metadata", "name"), count, age(obj, now)]


STRATEGY = ConfigMapStrategy(KIND, tracks_generation=False)
