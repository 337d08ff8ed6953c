"""What one pod charges to quota: its count, its requests and limits, and what it failed to say.

A pod charges while it can run: not Succeeded or Failed, and not being deleted. Its
requests (and limits) are what the pod as a whole can hold at once, as Kubernetes sums
them: app containers and sidecars run together, ordinary init containers run one at a
time before them (each next to the sidecars started so far), so the pod needs the larger
of the two phases. Worked example, cpu:

    init "migrate" 2, sidecar "proxy" 100m, init "warm" 1, app "web" 500m + "log" 200m
    init phase:  max(migrate 2 + no sidecar yet, warm 1 + proxy 100m) = 2
    run phase:   web 500m + log 200m + proxy 100m = 800m
    pod request: max(2, 800m) = 2

`spec.overhead` (the sandbox's own cost) adds to every request, and to a limit only
where the pod has one. Quota names follow: `requests.cpu` and the bare `cpu` alike,
`limits.cpu`; hugepages as both; device resources only as `requests.<name>`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from edgekube.resources.kinds.common_fields import items, mapping, text
from edgekube.resources.kinds.pod_quantities import parse_quantity
from edgekube.resources.objects import Obj, get_path
from edgekube.service.quota_amounts import Amounts, added

TERMINAL_PHASES = ("Succeeded", "Failed")
_STANDARD = ("cpu", "memory", "ephemeral-storage")
# Names a quota can only enforce when every container states them (Kubernetes' old rule).
_MUST_STATE = {
    "cpu": ("requests", "cpu"),
    "requests.cpu": ("requests", "cpu"),
    "memory": ("requests", "memory"),
    "requests.memory": ("requests", "memory"),
    "limits.cpu": ("limits", "cpu"),
    "limits.memory": ("limits", "memory"),
}


def pod_counts(pod: Obj) -> bool:
    """Whether the pod charges quota: it may still run and is not on its way out."""
    if get_path(pod, "status", "phase") in TERMINAL_PHASES:
        return False
    return not get_path(pod, "metadata", "deletionTimestamp")


def container_amounts(container: dict[str, Any], which: str) -> Amounts:
    """One container's `requests` or `limits`, parsed; unparseable entries are left out."""
    out: Amounts = {}
    for name, raw in mapping(get_path(container, "resources", which)).items():
        try:
            out[name] = parse_quantity(raw)
        except ValueError:
            continue
    return out


def _peak(a: Amounts, b: Amounts) -> Amounts:
    return {name: max(a.get(name, Decimal(0)), b.get(name, Decimal(0))) for name in a.keys() | b.keys()}


def pod_totals(spec: Any, which: str) -> Amounts:
    """The pod's effective `requests` or `limits`; see the module docstring."""
    spec = mapping(spec)
    running: Amounts = {}
    for _, container in items(spec.get("containers")):
        running = added(running, container_amounts(container, which))
    sidecars: Amounts = {}
    init_peak: Amounts = {}
    for _, container in items(spec.get("initContainers")):
        own = container_amounts(container, which)
        if text(container.get("restartPolicy")) == "Always":
            sidecars = added(sidecars, own)
            init_peak = _peak(init_peak, sidecars)
        else:
            init_peak = _peak(init_peak, added(sidecars, own))
    total = _peak(added(running, sidecars), init_peak)
    overhead = container_amounts({"resources": {which: spec.get("overhead")}}, which)
    if which == "limits":
        overhead = {name: amount for name, amount in overhead.items() if name in total}
    return added(total, overhead)


def pod_usage(pod: Obj) -> Amounts:
    """Every quota name the pod charges, with its amount (nothing once it stopped counting)."""
    if not pod_counts(pod):
        return {}
    spec = pod.get("spec")
    out: Amounts = {"pods": Decimal(1), "count/pods": Decimal(1)}
    for name, amount in pod_totals(spec, "requests").items():
        if name in _STANDARD or name.startswith("hugepages-"):
            out[name] = amount
            out[f"requests.{name}"] = amount
        elif "/" in name and "kubernetes.io/" not in name:
            out[f"requests.{name}"] = amount
    for name, amount in pod_totals(spec, "limits").items():
        if name in _STANDARD:
            out[f"limits.{name}"] = amount
    return out


def missing_statements(pod: Obj, limited: set[str]) -> str:
    """`limits.cpu for: web; requests.cpu for: init,web`: what containers must state; "" if nothing.

    A quota on cpu or memory needs every container (init containers too) to state it,
    so the pod's total is not silently zero.
    """
    needed = {name: _MUST_STATE[name] for name in limited if name in _MUST_STATE}
    if not needed:
        return ""
    missing: dict[str, set[str]] = {}
    spec = mapping(pod.get("spec"))
    for key in ("containers", "initContainers"):
        for _, container in items(spec.get(key)):
            for name, (which, resource) in needed.items():
                if resource not in mapping(get_path(container, "resources", which)):
                    missing.setdefault(name, set()).add(text(container.get("name")))
    return "; ".join(f"{name} for: {','.join(sorted(missing[name]))}" for name in sorted(missing))
