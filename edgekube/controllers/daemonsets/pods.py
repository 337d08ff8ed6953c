"""A DaemonSet's pods: how one is made for a node, and what the controller reads off them.

A daemon pod is the template plus:
  - the label `controller-revision-hash` (`template_hash`): a pod whose label equals the
    DaemonSet's current hash runs the current template. Kubernetes keeps the template in
    a ControllerRevision; that kind is not served here, so the hash is also kept on the
    DaemonSet as the annotation `HASH_ANNOTATION` for people and tools to read;
  - the daemon tolerations (`AddOrUpdateDaemonPodTolerations`): a daemon stays on a node
    that is not ready, unreachable, under pressure or cordoned, and with hostNetwork
    runs where the pod network is not up yet. A template toleration of the same key,
    operator, value and effect is replaced, so not-ready/unreachable are tolerated for
    ever even if the template said otherwise;
  - required node affinity on `metadata.name` of its node, replacing the template's
    required terms (already checked against that node), so that the scheduler binds it
    there; as in Kubernetes since 1.12, the controller never sets `nodeName` itself;
  - an owner reference to the DaemonSet (controller, blockOwnerDeletion).
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson

from edgekube.controllers.nodes.taints import (
    DISK_PRESSURE,
    MEMORY_PRESSURE,
    NETWORK_UNAVAILABLE,
    NO_EXECUTE,
    NO_SCHEDULE,
    NOT_READY,
    PID_PRESSURE,
    UNREACHABLE,
    UNSCHEDULABLE,
    Toleration,
)
from edgekube.controllers.nodes.timing import after
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.times import parse_time

HASH_LABEL = "controller-revision-hash"
HASH_ANNOTATION = "edgekube.io/controller-revision-hash"
NAME_FIELD = "metadata.name"
# Kubernetes' alphabet for generated strings: no vowels (no words), no look-alikes.
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DAEMON_TOLERATIONS: tuple[tuple[str, str], ...] = (
    (NOT_READY, NO_EXECUTE),
    (UNREACHABLE, NO_EXECUTE),
    (DISK_PRESSURE, NO_SCHEDULE),
    (MEMORY_PRESSURE, NO_SCHEDULE),
    (PID_PRESSURE, NO_SCHEDULE),
    (UNSCHEDULABLE, NO_SCHEDULE),
)
HOST_NETWORK_TOLERATIONS: tuple[tuple[str, str], ...] = ((NETWORK_UNAVAILABLE, NO_SCHEDULE),)


def template_hash(template: Any) -> str:
    """A short, stable name for a pod template: same template, same hash, on any server."""
    digest = hashlib.sha256(orjson.dumps(template, option=orjson.OPT_SORT_KEYS)).digest()
    number = int.from_bytes(digest[:6], "big")
    chars: list[str] = []
    while number:
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return "".join(chars) or _ALPHABET[0]


def _identity(t: Toleration) -> tuple[str, str, str, str]:
    return (
        str(t.get("key") or ""),
        str(t.get("operator") or ""),
        str(t.get("value") or ""),
        str(t.get("effect") or ""),
    )


def add_or_update_toleration(spec: dict[str, Any], toleration: Toleration) -> None:
    existing = spec.get("tolerations")
    current = [t for t in existing if isinstance(t, dict)] if isinstance(existing, list) else []
    same = [i for i, t in enumerate(current) if _identity(t) == _identity(toleration)]
    if not same:
        current.append(dict(toleration))
    else:
        for i in same:
            current[i] = dict(toleration)
    spec["tolerations"] = current


def daemon_pod_spec(template_spec: Any) -> dict[str, Any]:
    """A copy of the template's spec with the daemon tolerations added."""
    spec: dict[str, Any] = copy.deepcopy(template_spec) if isinstance(template_spec, dict) else {}
    wanted = DAEMON_TOLERATIONS + (HOST_NETWORK_TOLERATIONS if spec.get("hostNetwork") is True else ())
    for key, effect in wanted:
        add_or_update_toleration(spec, {"key": key, "operator": "Exists", "effect": effect})
    return spec


def pin_to_node(affinity: Any, node_name: str) -> dict[str, Any]:
    """`affinity` with its required node terms replaced by one: `metadata.name In [node]`."""
    term = {"matchFields": [{"key": NAME_FIELD, "operator": "In", "values": [node_name]}]}
    out: dict[str, Any] = copy.deepcopy(affinity) if isinstance(affinity, dict) else {}
    node_affinity = out.get("nodeAffinity")
    if not isinstance(node_affinity, dict):
        node_affinity = out["nodeAffinity"] = {}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if isinstance(required, dict):
        required["nodeSelectorTerms"] = [term]
    else:
        node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [term]}
    return out


def owner_reference(daemonset: Obj) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "name": get_path(daemonset, "metadata", "name"),
        "uid": get_path(daemonset, "metadata", "uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def new_pod(daemonset: Obj, node_name: str, revision_hash: str) -> Obj:
    template = get_path(daemonset, "spec", "template")
    template_meta = get_path(template, "metadata")
    template_meta = template_meta if isinstance(template_meta, dict) else {}
    labels = dict(template_meta.get("labels") or {})
    labels[HASH_LABEL] = revision_hash
    metadata: dict[str, Any] = {
        "generateName": f"{get_path(daemonset, 'metadata', 'name')}-",
        "namespace": get_path(daemonset, "metadata", "namespace"),
        "labels": labels,
        "ownerReferences": [owner_reference(daemonset)],
    }
    if template_meta.get("annotations"):
        metadata["annotations"] = copy.deepcopy(template_meta["annotations"])
    spec = daemon_pod_spec(get_path(template, "spec"))
    spec["affinity"] = pin_to_node(spec.get("affinity"), node_name)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


# -- reading pods --------------------------------------------------------------------------


def controller_uid(pod: Obj) -> str | None:
    for ref in get_path(pod, "metadata", "ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") is True:
            return str(ref.get("uid") or "") or None
    return None


def target_node(pod: Obj) -> str | None:
    """The node a pod is bound to, or (not yet scheduled) the one its affinity pins it to."""
    bound = get_path(pod, "spec", "nodeName")
    if isinstance(bound, str) and bound:
        return bound
    terms = get_path(pod, "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
    for term in get_path(terms, "nodeSelectorTerms") or []:
        for field in get_path(term, "matchFields") or []:
            if isinstance(field, dict) and field.get("key") == NAME_FIELD and field.get("operator") == "In":
                values = field.get("values")
                if isinstance(values, list) and len(values) == 1 and isinstance(values[0], str):
                    return values[0]
    return None


def deleting(pod: Obj) -> bool:
    return bool(get_path(pod, "metadata", "deletionTimestamp"))


def terminal(pod: Obj) -> bool:
    return get_path(pod, "status", "phase") in ("Succeeded", "Failed")


def _ready_condition(pod: Obj) -> dict[str, Any] | None:
    for c in get_path(pod, "status", "conditions") or []:
        if isinstance(c, dict) and c.get("type") == "Ready":
            return c
    return None


def is_ready(pod: Obj) -> bool:
    found = _ready_condition(pod)
    return found is not None and found.get("status") == "True"


def available_at(pod: Obj, min_ready_seconds: int) -> datetime | None:
    """When a ready pod counts as available: ready for `minReadySeconds` (the epoch with none).

    None when the pod is not ready, or (with minReadySeconds) has no readable transition
    time, which Kubernetes also never counts as available.
    """
    found = _ready_condition(pod)
    if found is None or found.get("status") != "True":
        return None
    if min_ready_seconds <= 0:
        return EPOCH
    since = parse_time(found.get("lastTransitionTime"))
    return None if since is None else after(since, min_ready_seconds)


def is_available(pod: Obj, min_ready_seconds: int, now: datetime) -> bool:
    when = available_at(pod, min_ready_seconds)
    return when is not None and when <= now


def is_updated(pod: Obj, revision_hash: str) -> bool:
    return bool(get_path(pod, "metadata", "labels", HASH_LABEL) == revision_hash)


def creation_order(pod: Obj) -> tuple[int, str, str]:
    """Bound pods first, then oldest, then by name (Kubernetes' `podByCreationTimestampAndPhase`)."""
    bound = 0 if get_path(pod, "spec", "nodeName") else 1
    return bound, str(get_path(pod, "metadata", "creationTimestamp") or ""), str(get_path(pod, "metadata", "name"))
