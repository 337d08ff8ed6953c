"""The NetworkPolicy kind (networking.k8s.io/v1): which traffic may reach and leave selected pods.

Namespaced, with no status (Kubernetes dropped it). Defaults follow Kubernetes: a missing
`podSelector` is the empty one (all pods), every port without a protocol is TCP, and a
policy without `policyTypes` is an Ingress policy, plus
Egress when it has egress rules; the defaults are written into the stored object, so
the agents read one settled shape. Validation lives in `networkpolicy_validation`; the
agents enforce the policies (nftables, in agent/network/).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_fields import items, mapping
from edgekube.resources.kinds.networkpolicy_validation import validate_network_policy_spec
from edgekube.resources.kinds.workload_selectors import format_label_selector
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import AGE_COLUMN, NAME_COLUMN, Column, Kind, Strategy, age

KIND = Kind(
    group="networking.k8s.io",
    version="v1",
    kind="NetworkPolicy",
    plural="networkpolicies",
    singular="networkpolicy",
    namespaced=True,
    short_names=("netpol",),
    categories=(),
    has_status=False,
    has_scale=False,
)

COLUMNS = (
    NAME_COLUMN,
    Column("Pod-Selector", description="The pods the policy applies to"),
    AGE_COLUMN,
)


def default_network_policy(policy: Obj) -> None:
    """Kubernetes' NetworkPolicy defaults, in place."""
    spec = policy.get("spec")
    if not isinstance(spec, dict):
        return
    if spec.get("podSelector") is None:
        # A plain struct in Kubernetes' types: left out, it decodes as the empty selector
        # (every pod of the namespace), and that is what is stored.
        spec["podSelector"] = {}
    for direction in ("ingress", "egress"):
        for _, rule in items(spec.get(direction)):
            for _, port in items(rule.get("ports")):
                if not port.get("protocol"):
                    port["protocol"] = "TCP"
    if not spec.get("policyTypes"):
        types = ["Ingress"]
        egress = spec.get("egress")
        if isinstance(egress, list) and egress:
            types.append("Egress")
        spec["policyTypes"] = types


@dataclass
class NetworkPolicyStrategy(Strategy):
    """NetworkPolicies: Kubernetes defaults and validation, `kubectl get` with the pod selector."""

    columns: tuple[Column, ...] = COLUMNS

    def default(self, obj: Obj) -> None:
        default_network_policy(obj)

    def validate(self, obj: Obj) -> list[Cause]:
        return super().validate(obj) + validate_network_policy_spec(obj)

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        selector = mapping(get_path(obj, "spec", "podSelector"))
        return [get_path(obj, "metadata", "name"), format_label_selector(selector), age(obj, now)]


STRATEGY = NetworkPolicyStrategy(KIND, tracks_generation=True)
