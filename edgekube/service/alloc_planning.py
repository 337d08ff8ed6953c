"""Deciding one Service write's cluster IP and node ports, without leasing anything yet.

A plan fills in what the client left empty (it writes the picked values into the object)
and checks what the client asked for. It only reads the pools; the caller leases the
plan's values once the whole plan holds, in the same synchronous step, so a write that is
refused reserves nothing and nothing can slip in between the pick and the lease.

Values the Service held before this write (`old`) stay its own: an update that keeps its
cluster IP or nodePorts needs no check, and one that drops a nodePort lets the informer
release it once the write is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgekube.errors import Cause
from edgekube.resources.kinds.common_fields import integer, items, mapping, text
from edgekube.resources.objects import Obj
from edgekube.resources.validation import invalid_value
from edgekube.service.alloc_holdings import (
    NOTHING,
    Holding,
    allocates_node_ports,
    has_cluster_ip,
    holding,
    ip_text,
    ip_value,
    needs_health_check_port,
)
from edgekube.service.alloc_pools import Pool

SERVICE_IP = "serviceIP"
NODE_PORT = "nodePort"
ALREADY_ALLOCATED_IP = "provided IP is already allocated"
ALREADY_ALLOCATED_PORT = "provided port is already allocated"


@dataclass(frozen=True)
class Ranges:
    """The two pools every Service draws from; `cidr` is the service CIDR as the user wrote it."""

    ips: Pool
    cidr: str
    ports: Pool


@dataclass
class Plan:
    owner: str  # `namespace/name`
    now: float
    mine: Holding = NOTHING  # what the Service held before this write
    ips: list[int] = field(default_factory=list)  # to lease from Ranges.ips
    ports: list[int] = field(default_factory=list)  # to lease from Ranges.ports
    causes: list[Cause] = field(default_factory=list)  # refused requests (422)
    full: list[str] = field(default_factory=list)  # ranges with nothing left (500)


def plan_allocations(ranges: Ranges, svc: Obj, old: Obj | None, owner: str, now: float) -> Plan:
    """What this write of `svc` (replacing `old`, if any) takes from the ranges."""
    plan = Plan(owner, now, holding(old) if old is not None else NOTHING)
    if not isinstance(svc.get("spec"), dict):
        return plan  # validation refused it already
    if old is not None and svc["spec"] == mapping(old.get("spec")):
        return plan  # status and metadata writes never allocate
    _plan_cluster_ip(ranges, svc["spec"], svc, plan)
    _plan_node_ports(ranges.ports, svc["spec"], svc, plan)
    return plan


def _plan_cluster_ip(ranges: Ranges, spec: dict[str, object], svc: Obj, plan: Plan) -> None:
    if not has_cluster_ip(svc):
        return
    requested = text(spec.get("clusterIP"))
    if not requested:
        picked = ranges.ips.pick(plan.now)
        if picked is None:
            plan.full.append(SERVICE_IP)
            return
        spec["clusterIP"] = ip_text(picked)
        spec["clusterIPs"] = [ip_text(picked)]
        plan.ips.append(picked)
        return
    value = ip_value(requested)
    if value is not None and value == plan.mine.ip:
        return
    if value is None or value not in ranges.ips:
        detail = f"provided IP is not in the valid range. The range of valid IPs is {ranges.cidr}"
        plan.causes.append(invalid_value("spec.clusterIP", requested, detail))
    elif not ranges.ips.free_for(value, plan.owner, plan.now):
        plan.causes.append(invalid_value("spec.clusterIP", requested, ALREADY_ALLOCATED_IP))
    else:
        plan.ips.append(value)


def _plan_node_ports(pool: Pool, spec: dict[str, object], svc: Obj, plan: Plan) -> None:
    ports = items(spec.get("ports"))
    claimed: set[int] = set()  # node ports this write names or gets
    # Ports with the same number (53/TCP and 53/UDP) share one node port, as in Kubernetes.
    by_number: dict[int, int] = {}
    for i, port in ports:
        wanted = integer(port.get("nodePort"))
        if not wanted:
            continue
        if wanted not in claimed:
            _claim(pool, wanted, f"spec.ports[{i}].nodePort", plan)
            claimed.add(wanted)
        number = integer(port.get("port"))
        if number is not None:
            by_number.setdefault(number, wanted)
    if allocates_node_ports(svc):
        for _, port in ports:
            if integer(port.get("nodePort")):
                continue
            number = integer(port.get("port"))
            value = by_number.get(number) if number is not None else None
            if value is None:
                value = _pick(pool, claimed, plan)
                if value is None:
                    return
                if number is not None:
                    by_number[number] = value
            port["nodePort"] = value
    if needs_health_check_port(svc):
        _plan_health_check_port(pool, spec, claimed, plan)


def _plan_health_check_port(pool: Pool, spec: dict[str, object], claimed: set[int], plan: Plan) -> None:
    wanted = integer(spec.get("healthCheckNodePort"))
    if not wanted:
        picked = _pick(pool, claimed, plan)
        if picked is not None:
            spec["healthCheckNodePort"] = picked
    elif wanted in claimed:
        plan.causes.append(invalid_value("spec.healthCheckNodePort", wanted, ALREADY_ALLOCATED_PORT))
    else:
        _claim(pool, wanted, "spec.healthCheckNodePort", plan)


def _pick(pool: Pool, claimed: set[int], plan: Plan) -> int | None:
    picked = pool.pick(plan.now, avoid=claimed)
    if picked is None:
        if NODE_PORT not in plan.full:
            plan.full.append(NODE_PORT)
        return None
    claimed.add(picked)
    plan.ports.append(picked)
    return picked


def _claim(pool: Pool, value: int, path: str, plan: Plan) -> None:
    """Grant a node port the client asked for, or say why not."""
    if value in plan.mine.node_ports:
        return
    if value not in pool:
        detail = f"provided port is not in the valid range. The range of valid ports is {pool.low}-{pool.high}"
        plan.causes.append(invalid_value(path, value, detail))
    elif not pool.free_for(value, plan.owner, plan.now):
        plan.causes.append(invalid_value(path, value, ALREADY_ALLOCATED_PORT))
    else:
        plan.ports.append(value)
