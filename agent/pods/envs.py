"""A container's environment: `envFrom`, then `env` with `value` or `valueFrom`, as the kubelet builds it.

Order and precedence follow Kubernetes: every `envFrom` source in order (a later source
wins on a clash), then each `env` entry in order (it wins over `envFrom`); a `value` may
refer to variables defined before it as `$(NAME)`. ConfigMaps and Secrets come through
`References` (the API, with a copy kept for when the server is unreachable). A reference
that cannot be resolved raises `EnvError`, which the worker shows as the waiting reason
CreateContainerConfigError and retries.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from typing import Any, Protocol

from agent.pods.expansion import expand
from edgekube.resources.kinds.pod_quantities import parse_quantity

Obj = dict[str, Any]


class EnvError(Exception):
    """A variable's source is missing or unreadable; the container cannot be created yet."""

    reason = "CreateContainerConfigError"


class References(Protocol):
    async def configmap(self, namespace: str, name: str) -> Obj | None:
        """The ConfigMap, None if it does not exist; raises EnvError when it cannot be known."""
        ...

    async def secret(self, namespace: str, name: str) -> Obj | None:
        """The Secret, None if it does not exist; raises EnvError when it cannot be known."""
        ...


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Obj]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def secret_values(secret: Obj) -> dict[str, str]:
    """A Secret's `data` (base64) decoded, with `stringData` on top should a server leave it in."""
    out: dict[str, str] = {}
    for key, encoded in _dict(secret.get("data")).items():
        try:
            out[key] = base64.b64decode(str(encoded), validate=True).decode(errors="replace")
        except (binascii.Error, ValueError):
            out[key] = ""
    out.update({k: str(v) for k, v in _dict(secret.get("stringData")).items()})
    return out


def configmap_values(configmap: Obj) -> dict[str, str]:
    return {k: str(v) for k, v in _dict(configmap.get("data")).items()}


def field_value(pod: Obj, path: str, *, host_ip: str) -> str:
    """The value of a `fieldRef.fieldPath` for this pod (pod and host IPs as the agent knows them)."""
    meta, spec, status = _dict(pod.get("metadata")), _dict(pod.get("spec")), _dict(pod.get("status"))
    pod_ip = str(status.get("podIP") or "")
    simple = {
        "metadata.name": str(meta.get("name", "")),
        "metadata.namespace": str(meta.get("namespace", "")),
        "metadata.uid": str(meta.get("uid", "")),
        "spec.nodeName": str(spec.get("nodeName", "")),
        "spec.serviceAccountName": str(spec.get("serviceAccountName", "")),
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
        "status.podIP": pod_ip,
        "status.podIPs": ",".join(str(p.get("ip", "")) for p in _list(status.get("podIPs"))) or pod_ip,
    }
    if path in simple:
        return simple[path]
    for prefix, source in (("metadata.labels", "labels"), ("metadata.annotations", "annotations")):
        if path.startswith(prefix + "[") and path.endswith("]"):
            key = path[len(prefix) + 1 : -1].strip("'\"")
            return str(_dict(meta.get(source)).get(key, ""))
    raise EnvError(f"unsupported fieldPath {path!r}")


def resource_value(pod: Obj, container: Obj, ref: Obj, allocatable: Mapping[str, str]) -> str:
    """A `resourceFieldRef` value: the limit or request divided by `divisor`, rounded up (as Kubernetes).

    An unset limit is the node's allocatable amount. Example: limits.memory 128Mi with
    divisor 1Mi gives "128"; limits.cpu 250m with divisor 1 gives "1".
    """
    target = container
    wanted = ref.get("containerName")
    if wanted:
        every = _list(_dict(pod.get("spec")).get("containers")) + _list(_dict(pod.get("spec")).get("initContainers"))
        target = next((c for c in every if c.get("name") == wanted), container)
    resource = str(ref.get("resource", ""))
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or not name:
        raise EnvError(f"unsupported resourceFieldRef resource {resource!r}")
    amounts = _dict(_dict(target.get("resources")).get(kind))
    raw = amounts.get(name)
    if raw is None and kind == "limits":
        raw = allocatable.get(name)
    if raw is None:
        return "0"
    try:
        amount = parse_quantity(raw)
        divisor = parse_quantity(ref.get("divisor") or "1")
    except ValueError as err:
        raise EnvError(f"resourceFieldRef {resource}: {err}") from err
    if divisor == 0:
        raise EnvError(f"resourceFieldRef {resource}: divisor is zero")
    return str(math.ceil(amount / divisor))


async def _from_source(
    pod: Obj, container: Obj, source: Obj, refs: References, host_ip: str, allocatable: Mapping[str, str]
) -> str | None:
    """The value of one `valueFrom`; None when an optional source is missing (the variable is left out)."""
    namespace = str(_dict(pod.get("metadata")).get("namespace", ""))
    for key, kind in (("configMapKeyRef", "configmap"), ("secretKeyRef", "secret")):
        ref = source.get(key)
        if not isinstance(ref, dict):
            continue
        name, item, optional = str(ref.get("name", "")), str(ref.get("key", "")), bool(ref.get("optional"))
        obj = await (refs.configmap(namespace, name) if kind == "configmap" else refs.secret(namespace, name))
        if obj is None:
            if optional:
                return None
            raise EnvError(f'{kind} "{name}" not found')
        values = configmap_values(obj) if kind == "configmap" else secret_values(obj)
        if kind == "configmap":
            values.update({k: "" for k in _dict(obj.get("binaryData")) if k not in values})
        if item not in values:
            if optional:
                return None
            raise EnvError(
                f"couldn't find key {item} in {'ConfigMap' if kind == 'configmap' else 'Secret'} {namespace}/{name}"
            )
        return values[item]
    if isinstance(source.get("fieldRef"), dict):
        return field_value(pod, str(source["fieldRef"].get("fieldPath", "")), host_ip=host_ip)
    if isinstance(source.get("resourceFieldRef"), dict):
        return resource_value(pod, container, source["resourceFieldRef"], allocatable)
    raise EnvError("valueFrom names no source this agent supports")


async def _from_envfrom(pod: Obj, source: Obj, refs: References) -> dict[str, str]:
    namespace = str(_dict(pod.get("metadata")).get("namespace", ""))
    prefix = str(source.get("prefix") or "")
    for key, kind in (("configMapRef", "configmap"), ("secretRef", "secret")):
        ref = source.get(key)
        if not isinstance(ref, dict):
            continue
        name = str(ref.get("name", ""))
        obj = await (refs.configmap(namespace, name) if kind == "configmap" else refs.secret(namespace, name))
        if obj is None:
            if ref.get("optional"):
                return {}
            raise EnvError(f'{kind} "{name}" not found')
        values = configmap_values(obj) if kind == "configmap" else secret_values(obj)
        # Keys that cannot be variable names are skipped, as the kubelet does (it records an event).
        return {prefix + k: v for k, v in values.items() if k and "=" not in prefix + k}
    return {}


async def resolve_env(
    pod: Obj, container: Obj, refs: References, *, host_ip: str, allocatable: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The container's variables, in Kubernetes' order of precedence."""
    values: dict[str, str] = {}
    for from_source in _list(container.get("envFrom")):
        values.update(await _from_envfrom(pod, from_source, refs))
    for item in _list(container.get("env")):
        name = str(item.get("name", ""))
        if not name:
            continue
        source = item.get("valueFrom")
        if isinstance(source, dict):
            value = await _from_source(pod, container, source, refs, host_ip, allocatable or {})
            if value is None:
                continue
            values[name] = value
        else:
            values[name] = expand(str(item.get("value") or ""), values)
    return values
