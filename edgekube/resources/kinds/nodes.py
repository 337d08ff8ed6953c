"""The Node kind (v1): a machine that runs pods, as its agent registers and reports it.

Nodes are cluster-scoped. Unlike most kinds with a status subresource, a node may be
created with its status: the agent registers with capacity and addresses in one
write. The pod CIDRs are assigned once (by the node IPAM controller) and never move,
since pods already hold addresses from them. Taints are validated here; who may set
them is the authorizer's concern.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_causes import duplicate_because, invalid_each
from edgekube.resources.kinds.common_fields import items, mapping, strings, text
from edgekube.resources.kinds.common_net import cidr_problems, parse_cidr
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import (
    duplicate,
    forbidden,
    invalid_value,
    is_label_value,
    is_qualified_name,
    required,
    unsupported_value,
)

KIND = Kind(
    group='',
    version='v1',
    kind='Node',
    plural='nodes',
    singular='node',
    namespaced=False,
    short_names=('no',),
    categories=(),
    has_status=True,
    has_scale=False,
)

COLUMNS = (
    NAME_COLUMN,
    Column("Status", description="The status of the node"),
    Column("Roles", description="The roles of the node"),
    AGE_COLUMN,
    Column("Version", description="Kubelet Version reported by the node."),
    Column("Internal-IP", priority=1, description="The node's internal IP address"),
    Column("External-IP", priority=1, description="The node's external IP address"),
    Column("OS-Image", priority=1, description="OS Image reported by the node."),
    Column("Kernel-Version", priority=1, description="Kernel Version reported by the node."),
    Column("Container-Runtime", priority=1, description="Container Runtime reported by the node."),
)

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"
ROLE_LABEL = "kubernetes.io/role"
_CIDR_CHANGE = 'node updates may not change podCIDR except from "" to valid'
_PROVIDER_CHANGE = 'node updates may not change providerID except from "" to valid'


@dataclass
class NodeStrategy(Strategy):
    """Nodes: status allowed on create, valid taints, pod CIDRs fixed once assigned."""

    columns: tuple[Column, ...] = COLUMNS

    def prepare_for_create(self, obj: Obj) -> None:
        """Keep the status the agent registers with (capacity, addresses, conditions)."""

    def default(self, obj: Obj) -> None:
        spec = obj.get("spec")
        if isinstance(spec, dict):
            # `podCIDR` is the old single-value form of `podCIDRs`; keep the two in step.
            cidrs = strings(spec.get("podCIDRs"))
            if spec.get("podCIDR") and not cidrs:
                spec["podCIDRs"] = [spec["podCIDR"]]
            elif cidrs and not spec.get("podCIDR"):
                spec["podCIDR"] = cidrs[0]
        status = mapping(obj.get("status"))
        if status.get("capacity") and status.get("allocatable") is None:
            # Until the agent reports reservations, all of the node is up for scheduling.
            status["allocatable"] = dict(status["capacity"])

    def validate(self, obj: Obj) -> list[Cause]:
        spec = mapping(obj.get("spec"))
        return super().validate(obj) + _validate_taints(spec.get("taints")) + _validate_cidrs(spec)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super().validate_update(new, old)
        old_cidrs = strings(get_path(old, "spec", "podCIDRs"))
        new_cidrs = strings(get_path(new, "spec", "podCIDRs"))
        if old_cidrs and new_cidrs[: len(old_cidrs)] != old_cidrs:
            causes.append(forbidden("spec.podCIDRs", _CIDR_CHANGE))
        else:
            # The old single-value field, for a client that changed only that one.
            old_cidr = text(get_path(old, "spec", "podCIDR"))
            if old_cidr and text(get_path(new, "spec", "podCIDR")) != old_cidr:
                causes.append(forbidden("spec.podCIDR", _CIDR_CHANGE))
        old_provider = text(get_path(old, "spec", "providerID"))
        if old_provider and text(get_path(new, "spec", "providerID")) != old_provider:
            causes.append(forbidden("spec.providerID", _PROVIDER_CHANGE))
        return causes

    def validate_status_update(self, new: Obj, old: Obj) -> list[Cause]:
        return self.validate_update(new, old)

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        info = mapping(get_path(obj, "status", "nodeInfo"))
        return [
            get_path(obj, "metadata", "name"),
            status_cell(obj),
            roles_cell(obj),
            age(obj, now),
            text(info.get("kubeletVersion")),
            _address(obj, "InternalIP"),
            _address(obj, "ExternalIP"),
            text(info.get("osImage")) or "<unknown>",
            text(info.get("kernelVersion")) or "<unknown>",
            text(info.get("containerRuntimeVersion")) or "<unknown>",
        ]

    def field_values(self, obj: Obj) -> dict[str, str]:
        unschedulable = get_path(obj, "spec", "unschedulable") is True
        return {**super().field_values(obj), "spec.unschedulable": str(unschedulable).lower()}


def _validate_taints(taints: Any) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[tuple[str, str]] = set()
    for i, taint in items(taints):
        path = f"spec.taints[{i}]"
        key, value, effect = taint.get("key"), taint.get("value"), taint.get("effect")
        causes += invalid_each(f"{path}.key", key, is_qualified_name(text(key)))
        if isinstance(value, str):
            problems = is_label_value(value)
            if problems:
                causes.append(invalid_value(f"{path}.value", value, ";".join(problems)))
        if not effect:
            causes.append(required(f"{path}.effect"))
        elif effect not in TAINT_EFFECTS:
            causes.append(unsupported_value(f"{path}.effect", effect, TAINT_EFFECTS))
        # One taint per key and effect: a second would be ambiguous to tolerations.
        pair = (text(key), text(effect))
        if pair in seen:
            detail = "taints must be unique by key and effect pair"
            causes.append(duplicate_because(path, taint, detail))
        seen.add(pair)
    return causes


def _validate_cidrs(spec: dict[str, Any]) -> list[Cause]:
    cidrs = spec.get("podCIDRs")
    if not isinstance(cidrs, list) or not cidrs:
        return []
    causes: list[Cause] = []
    for i, cidr in enumerate(cidrs):
        causes += invalid_each(f"spec.podCIDRs[{i}]", cidr, cidr_problems(cidr))
    if causes or len(cidrs) == 1:
        return causes
    versions = [network.version for network in map(parse_cidr, cidrs) if network is not None]
    if len(cidrs) > 2 or len(set(versions)) != 2:
        causes.append(invalid_value(
            "spec.podCIDRs", cidrs, "may specify no more than one CIDR for each IP family"
        ))
    for i, cidr in enumerate(cidrs):
        if cidr in cidrs[:i]:
            causes.append(duplicate(f"spec.podCIDRs[{i}]", cidr))
    return causes


def status_cell(obj: Obj) -> str:
    """`Ready`, `NotReady` or `Unknown` (no Ready condition), plus `,SchedulingDisabled`."""
    conditions = items(get_path(obj, "status", "conditions"))
    ready = next((c for _, c in conditions if c.get("type") == "Ready"), None)
    if ready is None:
        state = "Unknown"
    else:
        state = "Ready" if ready.get("status") == "True" else "NotReady"
    if get_path(obj, "spec", "unschedulable") is True:
        state += ",SchedulingDisabled"
    return state


def roles_cell(obj: Obj) -> str:
    """Sorted roles from `node-role.kubernetes.io/<role>` and `kubernetes.io/role` labels."""
    roles: set[str] = set()
    for key, value in mapping(get_path(obj, "metadata", "labels")).items():
        if key.startswith(ROLE_LABEL_PREFIX) and key != ROLE_LABEL_PREFIX:
            roles.add(key.removeprefix(ROLE_LABEL_PREFIX))
        elif key == ROLE_LABEL and isinstance(value, str) and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _address(obj: Obj, kind: str) -> str:
    """The first address of `kind` the node reports, or "<none>"."""
    for _, address in items(get_path(obj, "status", "addresses")):
        if address.get("type") == kind:
            return text(address.get("address"))
    return "<none>"


STRATEGY = NodeStrategy(KIND, tracks_generation=False)
