"""A container's `env` and `envFrom`: variable names and where their values come from.

Names follow Kubernetes' relaxed rule (on by default since 1.32): any printable ASCII
character except '='. A variable has either a literal `value` or exactly one
`valueFrom` source; `fieldRef` may only name the pod fields the kubelet can expose.
"""

from __future__ import annotations

import re
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.workload_causes import dicts
from edgekube.resources.validation import (
    invalid_value,
    is_dns1123_subdomain,
    required,
    unsupported_value,
)

ENV_NAME_ERROR = "a valid environment variable name must consist only of printable ASCII characters other than '='"
CONFIG_KEY_ERROR = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"

# Pod fields a `fieldRef` may expose as an environment variable, besides one label or
# annotation by key (`metadata.labels['app']`).
ENV_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
RESOURCE_FIELD_REFS = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)

_SUBSCRIPTED = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_VALUE_FROM_SOURCES = ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")


def env_name_problems(value: str) -> list[str]:
    """Problems with `value` as an environment variable name."""
    if not value:
        return ["environment variable name must be non-empty"]
    if any(not 32 <= ord(ch) <= 126 or ch == "=" for ch in value):
        return [ENV_NAME_ERROR]
    return []


def validate_env(env: Any, path: str) -> list[Cause]:
    """Problems with a container's `env` list."""
    causes: list[Cause] = []
    for i, var in dicts(env):
        at = f"{path}[{i}]"
        name = var.get("name")
        if not name:
            causes.append(required(f"{at}.name"))
        if not isinstance(name, str):
            name = ""
        causes += [invalid_value(f"{at}.name", name, msg) for msg in env_name_problems(name)]
        causes += _value_from(var, f"{at}.valueFrom")
    return causes


def _value_from(var: dict[str, Any], path: str) -> list[Cause]:
    source = var.get("valueFrom")
    if not isinstance(source, dict):
        return []
    present = [key for key in _VALUE_FROM_SOURCES if source.get(key) is not None]
    causes: list[Cause] = []
    for key in present:
        causes += _SOURCE_CHECKS[key](source[key], f"{path}.{key}")
    if not present:
        causes.append(
            invalid_value(
                path,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            )
        )
    elif var.get("value"):
        causes.append(invalid_value(path, "", "may not be specified when `value` is not empty"))
    elif len(present) > 1:
        causes.append(invalid_value(path, "", "may not have more than one field specified at a time"))
    return causes


def _field_ref(ref: Any, path: str) -> list[Cause]:
    if not isinstance(ref, dict):
        return []
    field_path = ref.get("fieldPath")
    if not field_path:
        return [required(f"{path}.fieldPath")]
    if not isinstance(field_path, str):
        return [invalid_value(f"{path}.fieldPath", field_path, "must be a string")]
    if _SUBSCRIPTED.match(field_path) or field_path in ENV_FIELD_PATHS:
        return []
    return [unsupported_value(f"{path}.fieldPath", field_path, ENV_FIELD_PATHS)]


def _resource_field_ref(ref: Any, path: str) -> list[Cause]:
    if not isinstance(ref, dict):
        return []
    resource = ref.get("resource")
    if not resource:
        return [required(f"{path}.resource")]
    if resource in RESOURCE_FIELD_REFS or str(resource).startswith(("limits.hugepages-", "requests.hugepages-")):
        return []
    return [unsupported_value(f"{path}.resource", resource, RESOURCE_FIELD_REFS)]


def _key_ref(ref: Any, path: str) -> list[Cause]:
    """A `configMapKeyRef` or `secretKeyRef`: which object, which key in it."""
    if not isinstance(ref, dict):
        return []
    causes: list[Cause] = []
    if not ref.get("name"):
        causes.append(required(f"{path}.name"))
    key = ref.get("key")
    if not key:
        causes.append(required(f"{path}.key"))
    elif not isinstance(key, str) or not _CONFIG_KEY.match(key):
        causes.append(invalid_value(f"{path}.key", key, CONFIG_KEY_ERROR))
    return causes


_SOURCE_CHECKS = {
    "fieldRef": _field_ref,
    "resourceFieldRef": _resource_field_ref,
    "configMapKeyRef": _key_ref,
    "secretKeyRef": _key_ref,
}


def validate_env_from(env_from: Any, path: str) -> list[Cause]:
    """Problems with a container's `envFrom` list: one source each, a valid prefix."""
    causes: list[Cause] = []
    for i, source in dicts(env_from):
        at = f"{path}[{i}]"
        prefix = source.get("prefix")
        if isinstance(prefix, str) and prefix:
            causes += [invalid_value(f"{at}.prefix", prefix, m) for m in env_name_problems(prefix)]
        present = [k for k in ("configMapRef", "secretRef") if source.get(k) is not None]
        for key in present:
            causes += _object_ref(source[key], f"{at}.{key}")
        if not present:
            causes.append(invalid_value(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif len(present) > 1:
            causes.append(invalid_value(path, "", "may not have more than one field specified at a time"))
    return causes


def _object_ref(ref: Any, path: str) -> list[Cause]:
    if not isinstance(ref, dict):
        return []
    name = ref.get("name")
    if not name:
        return [required(f"{path}.name")]
    if not isinstance(name, str):
        return [invalid_value(f"{path}.name", name, "must be a string")]
    return [invalid_value(f"{path}.name", name, msg) for msg in is_dns1123_subdomain(name)]
