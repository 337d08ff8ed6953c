"""The containers and init containers of a pod spec.

Names are DNS-1123 labels, unique across both lists (the kubelet keys its state by
name). A pod needs an image for each container; a template may leave it empty for
tooling to fill in, as Kubernetes allows. Init containers run to completion before the
app starts, so they may not carry probes or hooks unless they are sidecars
(`restartPolicy: Always`).
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.pod_env import validate_env, validate_env_from
from edgekube.resources.kinds.pod_ports import validate_container_ports
from edgekube.resources.kinds.pod_probes import validate_lifecycle, validate_probe
from edgekube.resources.kinds.pod_resources import validate_resources
from edgekube.resources.kinds.pod_volumes import validate_volume_mounts
from edgekube.resources.kinds.workload_causes import dicts
from edgekube.resources.validation import (
    duplicate,
    forbidden,
    invalid_value,
    is_dns1123_label,
    required,
    unsupported_value,
)

PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
# Probes and hooks an init container may have only as a sidecar.
_SIDECAR_ONLY = ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe")


def validate_containers(spec: dict[str, Any], path: str, volumes: set[str], *, for_pod: bool) -> list[Cause]:
    """Problems with `spec.containers` and `spec.initContainers`; `for_pod` requires images."""
    causes: list[Cause] = []
    names: set[str] = set()
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        causes.append(required(f"{path}.containers"))
    for i, container in dicts(containers):
        at = f"{path}.containers[{i}]"
        causes += _common(container, at, names, volumes, for_pod=for_pod)
        causes += _probes(container, at)
        if container.get("restartPolicy") is not None:
            causes.append(forbidden(f"{at}.restartPolicy", "may not be set for non-init containers"))
    for i, container in dicts(spec.get("initContainers")):
        at = f"{path}.initContainers[{i}]"
        causes += _common(container, at, names, volumes, for_pod=for_pod)
        causes += _init_only(container, at)
    return causes


def _common(container: dict[str, Any], at: str, names: set[str], volumes: set[str], *, for_pod: bool) -> list[Cause]:
    """The checks every kind of container shares; records its name in `names`."""
    causes = _name(container.get("name"), f"{at}.name", names)
    causes += _image(container.get("image"), f"{at}.image", for_pod=for_pod)
    causes += _choice(container, "imagePullPolicy", at, PULL_POLICIES)
    causes += _choice(container, "terminationMessagePolicy", at, TERMINATION_MESSAGE_POLICIES)
    causes += validate_container_ports(container.get("ports"), f"{at}.ports")
    causes += validate_env(container.get("env"), f"{at}.env")
    causes += validate_env_from(container.get("envFrom"), f"{at}.envFrom")
    causes += validate_volume_mounts(container.get("volumeMounts"), volumes, f"{at}.volumeMounts")
    causes += validate_resources(container.get("resources"), f"{at}.resources")
    return causes


def _name(name: Any, field: str, names: set[str]) -> list[Cause]:
    if not name:
        return [required(field)]
    if not isinstance(name, str):
        return [invalid_value(field, name, "must be a string")]
    causes = [invalid_value(field, name, msg) for msg in is_dns1123_label(name)]
    if name in names:
        causes.append(duplicate(field, name))
    names.add(name)
    return causes


def _image(image: Any, field: str, *, for_pod: bool) -> list[Cause]:
    if not image:
        return [required(field)] if for_pod else []
    if not isinstance(image, str):
        return [invalid_value(field, image, "must be a string")]
    if image.strip() != image:
        return [invalid_value(field, image, "must not have leading or trailing whitespace")]
    return []


def _choice(container: dict[str, Any], key: str, at: str, allowed: tuple[str, ...]) -> list[Cause]:
    """A field defaulting fills in: required, and one of `allowed`."""
    value = container.get(key)
    if not value:
        return [required(f"{at}.{key}")]
    if value not in allowed:
        return [unsupported_value(f"{at}.{key}", value, allowed)]
    return []


def _probes(container: dict[str, Any], at: str) -> list[Cause]:
    causes = validate_lifecycle(container.get("lifecycle"), f"{at}.lifecycle")
    for key, single_success in (
        ("livenessProbe", True),
        ("readinessProbe", False),
        ("startupProbe", True),
    ):
        causes += validate_probe(container.get(key), f"{at}.{key}", single_success=single_success)
    return causes


def _init_only(container: dict[str, Any], at: str) -> list[Cause]:
    policy = container.get("restartPolicy")
    if policy == "Always":
        return _probes(container, at)
    causes: list[Cause] = []
    if policy is not None:
        causes.append(unsupported_value(f"{at}.restartPolicy", policy, ("Always",)))
    for key in _SIDECAR_ONLY:
        if container.get(key) is not None:
            causes.append(forbidden(f"{at}.{key}", "may not be set for init containers without restartPolicy=Always"))
    return causes
