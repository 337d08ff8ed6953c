"""The Pod kind (v1): defaults, checks, update rules, field selectors and columns.

Writes flow through here in the service's order: create resets the status to
`Pending` with its QoS class, fills in defaults, then checks the whole pod; an update
re-defaults the new pod and refuses changes to the spec beyond the few Kubernetes
allows (images, a lower deadline, added tolerations, and the node once by binding).
The helpers live in the `pod_*` modules; this one only wires them to the strategy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.pod_columns import pod_cells, wide_pod_cells
from edgekube.resources.kinds.pod_defaults import default_pod_spec
from edgekube.resources.kinds.pod_spec import validate_pod_spec
from edgekube.resources.kinds.pod_status import initial_pod_status, validate_pod_status
from edgekube.resources.kinds.pod_updates import validate_pod_spec_update
from edgekube.resources.kinds.workload_causes import mapping, text
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import forbidden, validate_immutable_meta

KIND = Kind(
    group="",
    version="v1",
    kind="Pod",
    plural="pods",
    singular="pod",
    namespaced=True,
    short_names=("po",),
    categories=("all",),
    has_status=True,
    has_scale=False,
)

COLUMNS = (
    NAME_COLUMN,
    Column("Ready", description="Ready containers out of all containers of the pod."),
    Column("Status", description="A one-word summary of the pod's and its containers' state."),
    Column("Restarts", description="Container restarts, and how long ago the last one was."),
    AGE_COLUMN,
    Column("IP", priority=1, description="The pod's IP address."),
    Column("Node", priority=1, description="The node the pod is bound to."),
    Column("Nominated Node", priority=1, description="The node the scheduler set aside for it."),
    Column("Readiness Gates", priority=1, description="Readiness gates passed out of all."),
)


@dataclass
class PodStrategy(Strategy):
    """Pod defaults, checks, update rules and columns."""

    columns: tuple[Column, ...] = field(default=COLUMNS)

    def initial_status(self, obj: Obj) -> Obj | None:
        return initial_pod_status(obj)

    def default(self, obj: Obj) -> None:
        default_pod_spec(obj.get("spec"), template=False)

    def validate(self, obj: Obj) -> list[Cause]:
        causes = self._validate(obj)
        if get_path(obj, "spec", "ephemeralContainers"):
            # Ephemeral containers join a running pod through their own subresource.
            causes.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
        return causes

    def _validate(self, obj: Obj) -> list[Cause]:
        """The checks creates and updates share."""
        return super().validate(obj) + validate_pod_spec(obj.get("spec"), "spec", for_pod=True)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = self._validate(new) + validate_immutable_meta(new, old)
        return causes + validate_pod_spec_update(new.get("spec"), old.get("spec"))

    def validate_status_update(self, new: Obj, old: Obj) -> list[Cause]:
        return super().validate_status_update(new, old) + validate_pod_status(new.get("status"))

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        ready, status, restarts = pod_cells(obj, now)
        return [
            get_path(obj, "metadata", "name"),
            ready,
            status,
            restarts,
            age(obj, now),
            *wide_pod_cells(obj),
        ]

    def field_values(self, obj: Obj) -> dict[str, str]:
        values = super().field_values(obj)
        spec = mapping(obj.get("spec"))
        status = mapping(obj.get("status"))
        pod_ip = text(get_path(status, "podIPs", 0, "ip")) or text(status.get("podIP"))
        values.update(
            {
                "spec.nodeName": text(spec.get("nodeName")),
                "spec.restartPolicy": text(spec.get("restartPolicy")),
                "spec.schedulerName": text(spec.get("schedulerName")),
                "spec.serviceAccountName": text(spec.get("serviceAccountName")),
                "spec.hostNetwork": "true" if spec.get("hostNetwork") is True else "false",
                "status.phase": text(status.get("phase")),
                "status.podIP": pod_ip,
                "status.nominatedNodeName": text(status.get("nominatedNodeName")),
            }
        )
        return values


STRATEGY = PodStrategy(KIND)
