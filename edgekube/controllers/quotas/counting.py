"""A quota's status from the objects in its namespace: pure, so table tests cover it.

`needed` says which kinds a quota's names count (`pods` for `requests.cpu`,
`deployments.apps` for `count/deployments.apps`). `count` sums, per limited name, what
each object the quota tracks charges, and notes every object it looked at (tracked or
not) with its uid and resourceVersion: the charges admission holds for those versions
are then in the status. `desired_status` is what the quota's status should say: `hard`
as in the spec, `used` for each of those names (0 when nothing charges it), both in
canonical quantity text so an unchanged count compares equal and is not written again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from edgekube.resources.kinds.common_fields import mapping, text
from edgekube.resources.kinds.pod_quantities import parse_quantity
from edgekube.resources.objects import Obj, get_path
from edgekube.service.quota_amounts import Amounts, added, format_amount, format_quantity, masked
from edgekube.service.quota_scopes import tracks
from edgekube.service.quota_usage import counted_resource, covers, usage

Seen = dict[tuple[str, str], tuple[str, int]]  # (store resource, name) -> (uid, resourceVersion)
_BINARY_SUFFIXES = ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")


@dataclass
class Counted:
    used: Amounts = field(default_factory=dict)
    seen: Seen = field(default_factory=dict)


@dataclass(frozen=True)
class Objects:
    """The objects of one kind in the quota's namespace."""

    resource: str  # as quota names spell it: `pods`, `deployments.apps`
    store_key: str  # as charges name it: `core/pods`, `apps/deployments`
    items: Sequence[Obj]


def hard_of(quota: Obj) -> dict[str, object]:
    return mapping(get_path(quota, "spec", "hard"))


def needed(quota: Obj) -> set[str]:
    """The kinds whose objects this quota's names count."""
    return {r for r in (counted_resource(name) for name in hard_of(quota)) if r is not None}


def count(quota: Obj, kinds: Sequence[Objects]) -> Counted:
    out = Counted()
    names = list(hard_of(quota))
    for objects in kinds:
        limited = [name for name in names if covers(objects.resource, name)]
        for obj in objects.items:
            md = mapping(obj.get("metadata"))
            version = text(md.get("resourceVersion"))
            key = (objects.store_key, text(md.get("name")))
            out.seen[key] = (text(md.get("uid")), int(version) if version.isdigit() else 0)
            if tracks(quota, objects.resource, obj):
                out.used = added(out.used, masked(usage(objects.resource, obj), limited))
    return out


def canonical(name: str, raw: object) -> str:
    """A limit as Kubernetes would echo it: `1024Mi` -> `1Gi`, `2000m` -> `2`, `1Ki` stays binary."""
    try:
        amount = parse_quantity(raw)
    except ValueError:
        return str(raw)
    binary = isinstance(raw, str) and raw.endswith(_BINARY_SUFFIXES)
    return format_quantity(amount, binary=True) if binary else format_amount(name, amount)


def desired_status(quota: Obj, used: Mapping[str, Decimal]) -> Obj:
    hard = hard_of(quota)
    return {
        "hard": {name: canonical(name, raw) for name, raw in hard.items()},
        "used": {name: format_amount(name, used.get(name, Decimal(0))) for name in hard},
    }
