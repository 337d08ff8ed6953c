"""Hand-built nodes and pods for scheduler tests, and one-call runners for single plugins."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from edgekube.scheduler.caching import SchedulerCache
from edgekube.scheduler.framework import CycleState
from edgekube.scheduler.nodeinfos import NodeInfo
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.statuses import SKIP, Status

Obj = dict[str, Any]


def node(
    name: str = "n1",
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    labels: dict[str, str] | None = None,
    taints: Sequence[tuple[str, str, str]] = (),
    ready: str | None = "True",
    unschedulable: bool = False,
    extra: dict[str, str] | None = None,
) -> Obj:
    """A node with allocatable cpu/memory/pods, a hostname label and (by default) Ready=True."""
    allocatable = {"cpu": cpu, "memory": memory, "pods": pods, **(extra or {})}
    spec: Obj = {}
    if taints:
        spec["taints"] = [{"key": k, "value": v, "effect": e} if v else {"key": k, "effect": e} for k, v, e in taints]
    if unschedulable:
        spec["unschedulable"] = True
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": spec,
        "status": {
            "capacity": dict(allocatable),
            "allocatable": allocatable,
            "conditions": [] if ready is None else [{"type": "Ready", "status": ready}],
        },
    }


def pod(
    name: str = "p",
    *,
    namespace: str = "default",
    cpu: str | None = None,
    memory: str | None = None,
    labels: dict[str, str] | None = None,
    node_name: str = "",
    tolerations: Iterable[Obj] = (),
    host_ports: Iterable[int | tuple[int, str, str]] = (),
    node_selector: dict[str, str] | None = None,
    affinity: Obj | None = None,
    owner: str = "",
    extra_requests: dict[str, str] | None = None,
) -> Obj:
    """A one-container pod; `owner` makes it controlled by a ReplicaSet with that uid."""
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    requests.update(extra_requests or {})
    ports = []
    for hp in host_ports:
        number, protocol, ip = (hp, "TCP", "") if isinstance(hp, int) else hp
        port: Obj = {"containerPort": number, "hostPort": number, "protocol": protocol}
        if ip:
            port["hostIP"] = ip
        ports.append(port)
    container: Obj = {"name": "c", "image": "busybox", "resources": {"requests": requests} if requests else {}}
    if ports:
        container["ports"] = ports
    spec: Obj = {"containers": [container], "schedulerName": "default-scheduler"}
    if node_name:
        spec["nodeName"] = node_name
    if tolerations:
        spec["tolerations"] = list(tolerations)
    if node_selector:
        spec["nodeSelector"] = node_selector
    if affinity:
        spec["affinity"] = affinity
    meta: Obj = {"name": name, "namespace": namespace, "uid": f"uid-{name}", "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner, "uid": owner, "controller": True}
        ]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": {"phase": "Pending"}}


def info(node_obj: Obj, pods: Iterable[Obj] = ()) -> NodeInfo:
    return NodeInfo.of(node_obj, [PodInfo.of(p) for p in pods])


def cache_of(nodes: Iterable[Obj], placed: Iterable[Obj] = ()) -> SchedulerCache:
    """A cache holding `nodes` and the pods in `placed` (each with its spec.nodeName)."""
    cache = SchedulerCache()
    for n in nodes:
        cache.set_node(n)
    for p in placed:
        cache.add_pod(PodInfo.of(p))
    return cache


def run_filter(plugin: Any, pod_obj: Obj, cache: SchedulerCache, node_name: str) -> Status:
    """pre_filter (if any) then filter for one node, as the algorithm calls them."""
    state = CycleState()
    target = PodInfo.of(pod_obj)
    if hasattr(plugin, "pre_filter"):
        status: Status = plugin.pre_filter(state, target, cache)
        if status is SKIP or status.code == SKIP.code:
            return SKIP
        assert status.ok, status
    found = cache.get(node_name)
    assert found is not None
    result: Status = plugin.filter(state, target, found)
    return result


def run_score(plugin: Any, pod_obj: Obj, cache: SchedulerCache, normalize: bool = True) -> dict[str, int] | None:
    """pre_score, score and normalize over every node of `cache`; None when the plugin skips."""
    state = CycleState()
    target = PodInfo.of(pod_obj)
    nodes = list(cache.nodes())
    if hasattr(plugin, "pre_score"):
        status: Status = plugin.pre_score(state, target, nodes, cache)
        if status.code == SKIP.code:
            return None
        assert status.ok, status
    scores = []
    for n in nodes:
        value, status = plugin.score(state, target, n)
        assert status.ok, status
        scores.append(value)
    if normalize and hasattr(plugin, "normalize_scores"):
        assert plugin.normalize_scores(state, target, nodes, scores).ok
    return {n.name: s for n, s in zip(nodes, scores, strict=True)}
