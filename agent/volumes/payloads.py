"""What files a configMap, secret, downwardAPI or projected volume holds: pure functions.

A payload maps a relative path ("app.conf", "conf/app.yaml") to a `FileContent`
(bytes and permission bits). It is built from the API objects and the pod alone, with
the kubelet's rules: every key of the object, or only the listed `items` at their
`path`s; an item's `mode` over the volume's `defaultMode` (0644, 420 in JSON's decimal,
when unset); a missing object or key is an error unless the source is `optional`.
Paths are checked here so the writer never leaves the volume directory.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agent.volumes.errors import UnsupportedVolumeError, VolumeError
from edgekube.resources.kinds.pod_quantities import parse_quantity

Obj = dict[str, Any]

DEFAULT_MODE = 0o644
"""The kubelet's mode for projected files: 0644 (420 decimal, as YAML and JSON spell it)."""
MAX_MODE = 0o777


@dataclass(frozen=True)
class FileContent:
    data: bytes
    mode: int = DEFAULT_MODE


Payload = dict[str, FileContent]


def check_relative_path(path: str) -> str:
    """`path` if it may name a file inside a volume; VolumeError otherwise.

    No absolute paths, no `..` element, and no leading `..` (that prefix is the
    writer's own: `..data` and the timestamped directories).
    """
    if not path:
        raise VolumeError("a volume file path must not be empty")
    if os.path.isabs(path):
        raise VolumeError(f"volume file path {path!r} must be relative")
    parts = path.split("/")
    if ".." in parts:
        raise VolumeError(f"volume file path {path!r} must not contain '..'")
    if path.startswith(".."):
        raise VolumeError(f"volume file path {path!r} must not start with '..'")
    return os.path.normpath(path)


def file_mode(value: Any, default: int) -> int:
    """A permission mode from the API (an int; `None` means `default`)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MODE:
        raise VolumeError(f"file mode {value!r} must be a number between 0 and 0777 (octal)")
    return value


def configmap_data(configmap: Obj) -> dict[str, bytes]:
    """A ConfigMap's keys as bytes: `data` as UTF-8, `binaryData` base64-decoded."""
    out = {key: str(value).encode() for key, value in (configmap.get("data") or {}).items()}
    for key, value in (configmap.get("binaryData") or {}).items():
        out[key] = _b64(value, f"binaryData[{key}]")
    return out


def secret_data(secret: Obj) -> dict[str, bytes]:
    """A Secret's keys as bytes (`data` is base64; a leftover `stringData` wins, as on write)."""
    out = {key: _b64(value, f"data[{key}]") for key, value in (secret.get("data") or {}).items()}
    for key, value in (secret.get("stringData") or {}).items():
        out[key] = str(value).encode()
    return out


def _b64(value: Any, where: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as err:
        raise VolumeError(f"{where} is not valid base64") from err


def key_payload(
    what: str,
    data: Mapping[str, bytes] | None,
    items: Any,
    default_mode: int,
    *,
    optional: bool,
) -> Payload:
    """The files of a configMap or secret source; `data` None means the object is missing.

    Worked example: data {a: "1", b: "2"}, items [{key: b, path: x/b.txt, mode: 0400}],
    defaultMode 0644 -> {"x/b.txt": ("2", 0400)}; without items -> {"a": ..., "b": ...} at 0644.
    """
    if data is None:
        if optional:
            return {}
        raise VolumeError(f"{what} not found")
    payload: Payload = {}
    if not items:
        for key, value in data.items():
            payload[check_relative_path(key)] = FileContent(value, default_mode)
        return payload
    for item in items:
        key = str(item.get("key", ""))
        if key not in data:
            if optional:
                continue
            raise VolumeError(f"{what} references non-existent key {key!r}")
        path = check_relative_path(str(item.get("path") or key))
        payload[path] = FileContent(data[key], file_mode(item.get("mode"), default_mode))
    return payload


# --- downward API -----------------------------------------------------------------------------

_MAP_FIELDS = {"metadata.labels": "labels", "metadata.annotations": "annotations"}
_SCALAR_FIELDS = {"metadata.name": "name", "metadata.namespace": "namespace", "metadata.uid": "uid"}


def field_value(pod: Obj, field_path: str) -> str:
    """The text of a downwardAPI `fieldRef` (the fields a volume may use, as in Kubernetes)."""
    meta = pod.get("metadata") or {}
    if field_path in _SCALAR_FIELDS:
        return str(meta.get(_SCALAR_FIELDS[field_path], ""))
    if field_path in _MAP_FIELDS:
        return format_map(meta.get(_MAP_FIELDS[field_path]) or {})
    for prefix, attr in _MAP_FIELDS.items():
        # metadata.labels['app'] -> the value of one key
        if field_path.startswith(prefix + "[") and field_path.endswith("]"):
            key = field_path[len(prefix) + 1 : -1].strip("'\"")
            return str((meta.get(attr) or {}).get(key, ""))
    raise VolumeError(f"fieldPath {field_path!r} is not supported in a downwardAPI volume")


def format_map(values: Mapping[str, Any]) -> str:
    """Labels or annotations as the kubelet writes them: `key="value"` lines, sorted by key."""
    return "\n".join(f"{key}={_go_quote(str(values[key]))}" for key in sorted(values))


def _go_quote(value: str) -> str:
    # Go's %q and JSON agree on printable text, quotes and the common escapes.
    return json.dumps(value, ensure_ascii=False)


NodeAllocatable = Callable[[str], Decimal]
"""The node's amount of a resource ("cpu", "memory", "ephemeral-storage"), for unset limits."""


def resource_value(pod: Obj, ref: Obj, node_allocatable: NodeAllocatable) -> str:
    """The text of a downwardAPI `resourceFieldRef`, rounded up in units of `divisor`.

    Worked example: limits.cpu "500m" with divisor "1m" -> "500"; with divisor "1" -> "1";
    limits.memory "64Mi" with divisor "1Mi" -> "64". An unset limit is the node's allocatable
    amount, an unset request 0, as the kubelet does.
    """
    container_name = ref.get("containerName")
    resource = str(ref.get("resource", ""))
    containers = (pod.get("spec") or {}).get("containers") or []
    container = next((c for c in containers if c.get("name") == container_name), None)
    if container is None:
        raise VolumeError(f"resourceFieldRef names no container of the pod: {container_name!r}")
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or name not in ("cpu", "memory", "ephemeral-storage"):
        raise VolumeError(f"resourceFieldRef resource {resource!r} is not supported")
    raw = ((container.get("resources") or {}).get(kind) or {}).get(name)
    try:
        if raw is not None:
            amount = parse_quantity(raw)
        elif kind == "limits":
            amount = node_allocatable(name)
        else:
            amount = Decimal(0)
        divisor = parse_quantity(ref.get("divisor") or "1")
    except ValueError as err:
        raise VolumeError(f"resourceFieldRef {resource}: {err}") from err
    if divisor <= 0:
        raise VolumeError(f"resourceFieldRef {resource}: the divisor must be positive")
    return str(math.ceil(amount / divisor))


def downward_payload(pod: Obj, items: Any, default_mode: int, node_allocatable: NodeAllocatable) -> Payload:
    """The files of a downwardAPI source."""
    payload: Payload = {}
    for item in items or []:
        path = check_relative_path(str(item.get("path", "")))
        mode = file_mode(item.get("mode"), default_mode)
        if item.get("fieldRef"):
            text = field_value(pod, str(item["fieldRef"].get("fieldPath", "")))
        elif item.get("resourceFieldRef"):
            text = resource_value(pod, item["resourceFieldRef"], node_allocatable)
        else:
            raise VolumeError(f"downwardAPI item {path!r} needs a fieldRef or a resourceFieldRef")
        payload[path] = FileContent(text.encode(), mode)
    return payload


def unsupported_projection(source: Obj) -> UnsupportedVolumeError:
    kinds = ", ".join(sorted(source)) or "nothing"
    return UnsupportedVolumeError(f"projected volume source {kinds} is not supported by this agent")
