"""Service rules: defaults, validation, carried-over allocations, immutability, table cells."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.errors import Cause
from edgekube.resources.kinds.services import STRATEGY
from edgekube.resources.objects import Obj, get_path

NOW = datetime(2024, 1, 1, 0, 5, tzinfo=UTC)


def _svc(**spec: Any) -> Obj:
    spec.setdefault("ports", [{"port": 80}])
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "creationTimestamp": "2024-01-01T00:00:00Z",
        },
        "spec": spec,
    }


def _create(obj: Obj) -> tuple[Obj, list[Cause]]:
    obj = copy.deepcopy(obj)
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    return obj, STRATEGY.validate(obj)


def _update(new: Obj, old: Obj) -> tuple[Obj, list[Cause]]:
    new = copy.deepcopy(new)
    STRATEGY.prepare_for_update(new, old)
    STRATEGY.default(new)
    return new, STRATEGY.validate_update(new, old)


def _stored(obj: Obj) -> Obj:
    created, causes = _create(obj)
    assert causes == []
    return created


@pytest.mark.parametrize(
    ("spec", "path", "expected"),
    [
        ({}, ("type",), "ClusterIP"),
        ({}, ("sessionAffinity",), "None"),
        ({}, ("ports", 0, "protocol"), "TCP"),
        ({}, ("ports", 0, "targetPort"), 80),
        ({}, ("internalTrafficPolicy",), "Cluster"),
        ({}, ("ipFamilyPolicy",), "SingleStack"),
        ({}, ("ipFamilies",), ["IPv4"]),
        ({}, ("externalTrafficPolicy",), None),
        ({"type": "NodePort"}, ("externalTrafficPolicy",), "Cluster"),
        ({"type": "LoadBalancer"}, ("allocateLoadBalancerNodePorts",), True),
        ({"sessionAffinity": "ClientIP"},
         ("sessionAffinityConfig", "clientIP", "timeoutSeconds"), 10800),
        ({"ports": [{"port": 53, "protocol": "UDP"}]}, ("ports", 0, "protocol"), "UDP"),
        ({"ports": [{"port": 80, "targetPort": "http"}]}, ("ports", 0, "targetPort"), "http"),
        ({"ports": [{"port": 80, "targetPort": 0}]}, ("ports", 0, "targetPort"), 80),
        ({"type": "NodePort", "externalTrafficPolicy": "Local"},
         ("externalTrafficPolicy",), "Local"),
        ({"sessionAffinity": "ClientIP",
          "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}},
         ("sessionAffinityConfig", "clientIP", "timeoutSeconds"), 60),
        ({"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}},
         ("sessionAffinityConfig",), None),
        ({"type": "ExternalName", "externalName": "db.example.com"}, ("ipFamilies",), None),
        ({"type": "ExternalName", "externalName": "db.example.com"},
         ("internalTrafficPolicy",), None),
        ({"clusterIP": "None"}, ("clusterIPs",), ["None"]),
    ],
)
def test_defaults(spec: dict[str, Any], path: tuple[Any, ...], expected: Any) -> None:
    """Kubernetes defaults fill unset fields and leave the client's values alone."""
    created, _ = _create(_svc(**spec))
    assert get_path(created, "spec", *path) == expected


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"type": "Foo"}, "spec.type", 'Unsupported value: "Foo"'),
        ({"ports": []}, "spec.ports", "Required value"),
        ({"ports": [{"port": 0}]}, "spec.ports[0].port", "must be between 1 and 65535"),
        ({"ports": [{"port": 70000}]}, "spec.ports[0].port", "must be between 1 and 65535"),
        ({"ports": [{"port": 80, "protocol": "HTTP"}]}, "spec.ports[0].protocol",
         'Unsupported value: "HTTP"'),
        ({"ports": [{"port": 80}, {"port": 81}]}, "spec.ports[0].name", "Required value"),
        ({"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]},
         "spec.ports[1].name", 'Duplicate value: "a"'),
        ({"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]},
         "spec.ports[1]", "Duplicate value"),
        ({"ports": [{"name": "Web", "port": 80}]}, "spec.ports[0].name", "RFC 1123 label"),
        ({"ports": [{"port": 80, "targetPort": 70000}]}, "spec.ports[0].targetPort",
         "must be between 1 and 65535"),
        ({"ports": [{"port": 80, "targetPort": "web--http"}]}, "spec.ports[0].targetPort",
         "consecutive hyphens"),
        ({"ports": [{"port": 80, "targetPort": "a-very-long-port-name"}]},
         "spec.ports[0].targetPort", "no more than 15 characters"),
        ({"ports": [{"port": 80, "nodePort": 30080}]}, "spec.ports[0].nodePort",
         "may not be used when `type` is 'ClusterIP'"),
        ({"type": "NodePort", "ports": [{"port": 80, "nodePort": 80}]}, "spec.ports[0].nodePort",
         "provided port is not in the valid range. The range of valid ports is 30000-32767"),
        ({"type": "NodePort", "ports": [{"name": "a", "port": 80, "nodePort": 30080},
                                        {"name": "b", "port": 81, "nodePort": 30080}]},
         "spec.ports[1].nodePort", "Duplicate value: 30080"),
        ({"type": "ExternalName", "ports": []}, "spec.externalName", "Required value"),
        ({"type": "ExternalName", "externalName": "Bad_Name"}, "spec.externalName",
         "RFC 1123 subdomain"),
        ({"type": "ExternalName", "externalName": "db.example.com", "clusterIP": "10.43.0.5"},
         "spec.clusterIPs", "may not be set for ExternalName services"),
        ({"clusterIP": "10.43.0.300"}, "spec.clusterIPs[0]", "must be a valid IP address"),
        ({"clusterIP": "fd00::1"}, "spec.clusterIPs[0]",
         "expected an IPv4 value as indicated by `ipFamilies[0]`"),
        ({"clusterIP": "10.43.0.5", "clusterIPs": ["10.43.0.6"]}, "spec.clusterIPs",
         "first value must match `clusterIP`"),
        ({"ipFamilies": ["IPv6"]}, "spec.ipFamilies[0]", "not configured on this cluster"),
        ({"ipFamilyPolicy": "RequireDualStack"}, "spec.ipFamilyPolicy",
         "this cluster is not configured for dual-stack services"),
        ({"type": "NodePort", "clusterIP": "None"}, "spec.clusterIPs[0]",
         "may not be set to 'None' for NodePort services"),
        ({"sessionAffinity": "Sticky"}, "spec.sessionAffinity", 'Unsupported value: "Sticky"'),
        ({"sessionAffinity": "ClientIP",
          "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 0}}},
         "spec.sessionAffinityConfig.clientIP.timeoutSeconds", "must be greater than 0"),
        ({"externalTrafficPolicy": "Local"}, "spec.externalTrafficPolicy",
         "may only be set for externally-accessible services"),
        ({"type": "NodePort", "externalTrafficPolicy": "Nearest"}, "spec.externalTrafficPolicy",
         'Unsupported value: "Nearest"'),
        ({"externalIPs": ["127.0.0.1"]}, "spec.externalIPs[0]", "loopback"),
        ({"selector": {"app": "web app"}}, "spec.selector", "a valid label"),
        ({"allocateLoadBalancerNodePorts": False}, "spec.allocateLoadBalancerNodePorts",
         "may only be used when `type` is 'LoadBalancer'"),
        ({"type": "LoadBalancer", "ports": [{"port": 10250}]}, "spec.ports[0]",
         "used by kubelet"),
    ],
)
def test_invalid_spec(spec: dict[str, Any], field: str, message: str) -> None:
    """Each bad spec is reported at its Kubernetes field path with Kubernetes' wording."""
    _, causes = _create(_svc(**spec))
    assert any(c.field == field and message in c.message for c in causes), causes


@pytest.mark.parametrize(
    "spec",
    [
        {"clusterIP": "None", "ports": []},
        {"type": "ExternalName", "externalName": "db.example.com.", "ports": []},
        {"ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                   {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]},
        {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]},
        {"type": "LoadBalancer", "clusterIP": "10.43.0.20"},
        {"sessionAffinity": "ClientIP", "selector": {"app": "web"}},
    ],
)
def test_valid_spec(spec: dict[str, Any]) -> None:
    """Headless and ExternalName need no ports; one port number may serve two protocols."""
    _, causes = _create(_svc(**spec))
    assert causes == []


def test_name_must_be_dns1035_label() -> None:
    """A Service name becomes a DNS label, so it may not start with a digit."""
    svc = _svc()
    svc["metadata"]["name"] = "1web"
    _, causes = _create(svc)
    assert [c.field for c in causes] == ["metadata.name"]
    assert "DNS-1035 label" in causes[0].message


def test_changing_cluster_ip_is_refused() -> None:
    """Once set, spec.clusterIP is immutable."""
    old = _stored(_svc(clusterIP="10.43.0.10"))
    new = copy.deepcopy(old)
    new["spec"]["clusterIP"] = "10.43.0.11"
    new["spec"]["clusterIPs"] = ["10.43.0.11"]
    _, causes = _update(new, old)
    assert [(c.field, c.message) for c in causes] == [("spec.clusterIP", "field is immutable")]


def test_omitted_allocations_are_carried_over() -> None:
    """Re-applying the original manifest keeps the allocated clusterIP and nodePorts."""
    manifest = _svc(type="NodePort", ports=[{"name": "http", "port": 80}])
    old = _stored(manifest)
    old["spec"]["clusterIP"] = "10.43.0.10"
    old["spec"]["clusterIPs"] = ["10.43.0.10"]
    old["spec"]["ports"][0]["nodePort"] = 30080
    new, causes = _update(manifest, old)
    assert causes == []
    assert new["spec"]["clusterIP"] == "10.43.0.10"
    assert new["spec"]["clusterIPs"] == ["10.43.0.10"]
    assert new["spec"]["ports"][0]["nodePort"] == 30080


def test_clearing_only_clusterip_clears_both_fields() -> None:
    """A client that empties clusterIP but sends clusterIPs back unchanged clears both."""
    old = _stored(_svc(clusterIP="10.43.0.10"))
    new = copy.deepcopy(old)
    new["spec"].update(type="ExternalName", externalName="db.example.com", clusterIP="")
    result, causes = _update(new, old)
    assert causes == []
    assert "clusterIPs" not in result["spec"]


@pytest.mark.parametrize(
    ("old_spec", "change", "absent"),
    [
        ({"clusterIP": "10.43.0.10"},
         {"type": "ExternalName", "externalName": "db.example.com"},
         ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy")),
        ({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]},
         {"type": "ClusterIP"},
         ("externalTrafficPolicy",)),
    ],
)
def test_type_change_drops_fields_the_new_type_does_not_use(
    old_spec: dict[str, Any], change: dict[str, Any], absent: tuple[str, ...]
) -> None:
    """Switching type clears the fields that only the old type used, and validates."""
    old = _stored(_svc(**old_spec))
    new = copy.deepcopy(old)
    new["spec"].update(change)
    result, causes = _update(new, old)
    assert causes == []
    assert [k for k in absent if k in result["spec"]] == []
    assert all("nodePort" not in p for p in result["spec"]["ports"])


def test_cluster_ip_may_change_from_external_name() -> None:
    """Leaving ExternalName may bring a new cluster IP."""
    old = _stored(_svc(type="ExternalName", externalName="db.example.com", ports=[]))
    new = copy.deepcopy(old)
    new["spec"] = {"type": "ClusterIP", "clusterIP": "10.43.0.12", "ports": [{"port": 80}]}
    _, causes = _update(new, old)
    assert causes == []


@pytest.mark.parametrize(
    ("spec", "status", "cells"),
    [
        ({"clusterIP": "10.43.0.10", "selector": {"app": "web", "tier": "fe"}}, None,
         ["ClusterIP", "10.43.0.10", "<none>", "80/TCP", "app=web,tier=fe"]),
        ({"type": "NodePort", "clusterIP": "10.43.0.11",
          "ports": [{"name": "http", "port": 80, "nodePort": 30080},
                    {"name": "https", "port": 443, "nodePort": 30443}]}, None,
         ["NodePort", "10.43.0.11", "<none>", "80:30080/TCP,443:30443/TCP", "<none>"]),
        ({"type": "LoadBalancer", "clusterIP": "10.43.0.12"}, None,
         ["LoadBalancer", "10.43.0.12", "<pending>", "80/TCP", "<none>"]),
        ({"type": "LoadBalancer", "clusterIP": "10.43.0.12"},
         {"loadBalancer": {"ingress": [{"ip": "192.168.1.240"}, {"hostname": "lb.local"}]}},
         ["LoadBalancer", "10.43.0.12", "192.168.1.240,lb.local", "80/TCP", "<none>"]),
        ({"type": "ExternalName", "externalName": "db.example.com", "ports": []}, None,
         ["ExternalName", "<none>", "db.example.com", "<none>", "<none>"]),
        ({"clusterIP": "None", "ports": [{"port": 5432}]}, None,
         ["ClusterIP", "None", "<none>", "5432/TCP", "<none>"]),
        ({"externalIPs": ["192.168.1.50"]}, None,
         ["ClusterIP", "<none>", "192.168.1.50", "80/TCP", "<none>"]),
    ],
)
def test_row(spec: dict[str, Any], status: Obj | None, cells: list[str]) -> None:
    """NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR, as kubectl prints them."""
    svc = _stored(_svc(**spec))
    if status is not None:
        svc["status"] = status
    row = STRATEGY.row(svc, NOW)
    assert row == ["web", *cells[:4], "5m", cells[4]]
    assert [c.name for c in STRATEGY.columns] == [
        "Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector",
    ]


@pytest.mark.parametrize(
    ("ingress", "field"),
    [
        ({"ip": "192.168.1.300"}, "status.loadBalancer.ingress[0].ip"),
        ({"hostname": "10.0.0.1"}, "status.loadBalancer.ingress[0].hostname"),
    ],
)
def test_load_balancer_status_is_checked(ingress: dict[str, str], field: str) -> None:
    """A status write with a malformed ingress address is refused at its path."""
    old = _stored(_svc(type="LoadBalancer"))
    new = copy.deepcopy(old)
    new["status"] = {"loadBalancer": {"ingress": [ingress]}}
    STRATEGY.prepare_for_status_update(new, old)
    causes = STRATEGY.validate_status_update(new, old)
    assert [c.field for c in causes] == [field]


def test_wrong_types_do_not_crash() -> None:
    """Garbage in any field yields causes, never an exception."""
    specs: list[dict[str, Any]] = [
        {"ports": "80"},
        {"ports": [80, None]},
        {"selector": []},
        {"ports": [{"port": "80", "targetPort": [1], "nodePort": "x"}]},
        {"clusterIPs": {"a": 1}, "ipFamilies": "IPv4"},
    ]
    for spec in specs:
        created, _ = _create(_svc(**spec))
        STRATEGY.row(created, NOW)
    svc = _svc()
    svc["spec"] = "nope"
    _, causes = _create(svc)
    assert [c.field for c in causes] == ["spec"]
