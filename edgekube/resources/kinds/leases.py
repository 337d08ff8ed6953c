"""The Lease kind (coordination.k8s.io/v1): a named lock with a holder and a duration.

Agents renew one Lease per node as their heartbeat, and leader election uses them too.
Only the numbers are checked here; who may take a lease is the writer's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_fields import integer, mapping, text
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import invalid_value

KIND = Kind(
    group='coordination.k8s.io',
    version='v1',
    kind='Lease',
    plural='leases',
    singular='lease',
    namespaced=True,
    short_names=(),
    categories=(),
    has_status=False,
    has_scale=False,
)

COLUMNS = (
    NAME_COLUMN,
    Column("Holder", description="The identity of the current holder of the lease"),
    AGE_COLUMN,
)


@dataclass
class LeaseStrategy(Strategy):
    """Leases: a positive duration and a non-negative transition count."""

    columns: tuple[Column, ...] = COLUMNS

    def validate(self, obj: Obj) -> list[Cause]:
        spec = mapping(obj.get("spec"))
        causes = super().validate(obj)
        duration = spec.get("leaseDurationSeconds")
        if duration is not None and (integer(duration) or 0) <= 0:
            causes.append(
                invalid_value("spec.leaseDurationSeconds", duration, "must be greater than 0")
            )
        transitions = spec.get("leaseTransitions")
        if transitions is not None and (integer(transitions) or 0) < 0:
            causes.append(invalid_value(
                "spec.leaseTransitions", transitions, "must be greater than or equal to 0"
            ))
        return causes

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        holder = text(get_path(obj, "spec", "holderIdentity"))
        return [get_path(obj, "metadata", "name"), holder, age(obj, now)]


STRATEGY = LeaseStrategy(KIND, tracks_generation=False)
