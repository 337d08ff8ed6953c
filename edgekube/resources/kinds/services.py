"""The Service kind (v1): a stable virtual address and DNS name in front of pods.

Names are DNS-1035 labels because each Service becomes `<name>.<namespace>.svc`. On
every write the spec is completed (defaults, allocated values carried over, cluster IP
fields kept in step) and then validated; the cluster IP and nodePorts themselves are
allocated elsewhere, after validation. The `status` subresource holds the load
balancer's ingress points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_service_ips import (
    validate_cluster_ip_update,
    validate_load_balancer_status,
)
from edgekube.resources.kinds.common_service_table import selector_cell, service_cells
from edgekube.resources.kinds.common_service_validation import validate_service_spec
from edgekube.resources.kinds.common_service_writes import (
    complete_update,
    default_service,
    sync_cluster_ips_on_create,
)
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age
from edgekube.resources.validation import is_dns1035_label

KIND = Kind(
    group='',
    version='v1',
    kind='Service',
    plural='services',
    singular='service',
    namespaced=True,
    short_names=('svc',),
    categories=('all',),
    has_status=True,
    has_scale=False,
)

COLUMNS = (
    NAME_COLUMN,
    Column("Type", description="How the service is exposed: ClusterIP, NodePort, LoadBalancer ..."),
    Column("Cluster-IP", description="The IP address of the service inside the cluster"),
    Column("External-IP", description="Addresses outside the cluster that reach the service"),
    Column("Port(s)", description="The ports the service exposes"),
    AGE_COLUMN,
    Column("Selector", priority=1, description="Pods with these labels back the service"),
)


@dataclass
class ServiceStrategy(Strategy):
    """Services: DNS-1035 names, Kubernetes defaults, a cluster IP that never changes."""

    columns: tuple[Column, ...] = COLUMNS

    def name_problems(self, name: str) -> list[str]:
        return is_dns1035_label(name)

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        sync_cluster_ips_on_create(obj)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        complete_update(new, old)

    def default(self, obj: Obj) -> None:
        default_service(obj)

    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + validate_service_spec(obj)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return super().validate_update(new, old) + validate_cluster_ip_update(new, old)

    def validate_status_update(self, new: Obj, old: Obj) -> list[Cause]:
        return super().validate_status_update(new, old) + validate_load_balancer_status(new)

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        name = get_path(obj, "metadata", "name")
        return [name, *service_cells(obj), age(obj, now), selector_cell(obj)]


STRATEGY = ServiceStrategy(KIND, tracks_generation=False)
