"""Services and EndpointSlices as the API serves them, for the DNS tests."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def service(ns: str, name: str, cluster_ip: str | None, *, ports: list[Obj] | None = None, **spec: Any) -> Obj:
    body: Obj = {"ports": ports or [], **spec}
    if cluster_ip is not None:
        body["clusterIP"] = cluster_ip
        if cluster_ip != "None":
            body.setdefault("clusterIPs", [cluster_ip])
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": ns, "name": name}, "spec": body}


def endpoint(ip: str, *, hostname: str = "", ready: bool | None = True) -> Obj:
    found: Obj = {"addresses": [ip], "conditions": {} if ready is None else {"ready": ready}}
    if hostname:
        found["hostname"] = hostname
    return found


def endpoint_slice(ns: str, svc: str, endpoints: list[Obj], ports: list[Obj], *, suffix: str = "x") -> Obj:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"namespace": ns, "name": f"{svc}-{suffix}", "labels": {"kubernetes.io/service-name": svc}},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": ports,
    }


SERVICES = [
    service("default", "kubernetes", "10.43.0.1", ports=[{"name": "https", "port": 443, "protocol": "TCP"}]),
    service(
        "default",
        "web",
        "10.43.0.20",
        ports=[{"name": "http", "port": 80, "protocol": "TCP"}, {"port": 9000, "protocol": "TCP"}],
    ),
    service("default", "dnsudp", "10.43.0.21", ports=[{"name": "dns", "port": 53, "protocol": "UDP"}]),
    service("prod", "db", "None", ports=[{"name": "pg", "port": 5432}]),
    service("prod", "empty", "None"),
    service("default", "ext", None, type="ExternalName", externalName="example.com"),
    service("default", "alias", None, type="ExternalName", externalName="web.default.svc.cluster.local."),
    service("default", "loop-a", None, type="ExternalName", externalName="loop-b.default.svc.cluster.local"),
    service("default", "loop-b", None, type="ExternalName", externalName="loop-a.default.svc.cluster.local"),
    service("default", "pending", ""),
]
SLICES = [
    endpoint_slice(
        "prod",
        "db",
        [
            endpoint("10.42.0.5", hostname="db-0"),
            endpoint("10.42.0.6", hostname="db-1", ready=False),
            endpoint("10.42.0.7", ready=None),
        ],
        [{"name": "pg", "port": 5432, "protocol": "TCP"}],
    ),
    # A ClusterIP Service's endpoints do not show in DNS: its name answers the ClusterIP.
    endpoint_slice("default", "web", [endpoint("10.42.0.9")], [{"name": "http", "port": 8080, "protocol": "TCP"}]),
]
