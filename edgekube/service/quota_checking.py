"""The quota decision for one write: refuse it (with Kubernetes' words) or say what it charges.

Pure: given the object, its old version on an update, and the namespace's quotas with
their current usage, return an `Outcome`. Quotas are taken by name, and for each one
that tracks the object (`quota_scopes`) and limits something the object can charge:
  1. a new pod must state every cpu and memory amount the quota limits
     (`failed quota: compute: must specify requests.cpu for: web`);
  2. the quota's status must report usage for those names (`status unknown for quota`);
  3. what the write adds (a create: all it charges; an update: only what grew) plus the
     usage must stay within `status.hard`, the limits the controller has put in force.
A write that adds nothing (an update of a pod's status) passes without any of these.
Enforcement starts once the controller has written a quota's status, as in Kubernetes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from edgekube.resources.objects import Obj, get_path
from edgekube.service.quota_amounts import Amounts, growth, masked, shown
from edgekube.service.quota_pods import missing_statements
from edgekube.service.quota_scopes import tracks
from edgekube.service.quota_usage import PODS, covers, usage


@dataclass(frozen=True)
class QuotaState:
    """One quota as admission sees it: the object, its limits in force, its usage."""

    quota: Obj
    hard: Amounts  # status.hard
    used: Amounts  # status.used plus the charges not yet in it
    reported: frozenset[str]  # the names status.used has a value for

    @property
    def name(self) -> str:
        return str(get_path(self.quota, "metadata", "name") or "")


@dataclass(frozen=True)
class Charge:
    quota: QuotaState
    amounts: Amounts


@dataclass(frozen=True)
class Outcome:
    refusal: str = ""  # why the write is forbidden; "" to allow it
    charges: tuple[Charge, ...] = field(default=())


def check(resource: str, operation: str, obj: Obj, old: Obj | None, quotas: Sequence[QuotaState]) -> Outcome:
    """Decide a CREATE or UPDATE of `obj` (an object of `resource`, such as `pods`)."""
    delta = growth(usage(resource, obj), usage(resource, old) if old is not None else {})
    if not delta:
        return Outcome()  # most updates (a pod's status, a binding) charge nothing: no checks either
    relevant: list[tuple[QuotaState, set[str]]] = []
    for quota in sorted(quotas, key=lambda q: q.name):
        limited = {name for name in quota.hard if covers(resource, name)}
        if not limited or not tracks(quota.quota, resource, obj):
            continue
        if resource == PODS and operation == "CREATE":
            missing = missing_statements(obj, limited)
            if missing:
                return Outcome(f"failed quota: {quota.name}: must specify {missing}")
        unknown = sorted(limited - quota.reported)
        if unknown:
            return Outcome(f"status unknown for quota: {quota.name}, resources: {','.join(unknown)}")
        relevant.append((quota, limited))
    charges: list[Charge] = []
    for quota, limited in relevant:
        requested = masked(delta, limited)
        if not requested:
            continue
        exceeded = sorted(name for name, more in requested.items() if quota.used.get(name, 0) + more > quota.hard[name])
        if exceeded:
            return Outcome(
                f"exceeded quota: {quota.name}, requested: {shown(masked(requested, exceeded))}, "
                f"used: {shown(masked(quota.used, exceeded))}, limited: {shown(masked(quota.hard, exceeded))}"
            )
        charges.append(Charge(quota, requested))
    return Outcome(charges=tuple(charges))
