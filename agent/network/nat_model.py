"""What Service NAT needs of a Service and its EndpointSlices, reduced to plain frozen values.

In: a Service (core/v1) and the EndpointSlices (discovery.k8s.io/v1) labelled
`kubernetes.io/service-name: <its name>` in its namespace. Out: a `ServiceNat` with one
`PortNat` per (port, protocol), or None when the node translates nothing for it
(headless, ExternalName, no clusterIP, or the cluster DNS address that the agent answers
itself). Values are frozen and compare by content, so "did this change matter" is `==`.

Endpoints follow Kubernetes: the ready ones; when none is ready, the serving ones that
are terminating (so connections drain to pods that are shutting down). A condition that
is absent counts as ready/serving, as the API documents.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeGuard

Obj = dict[str, Any]

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
DEFAULT_AFFINITY_SECONDS = 10800  # sessionAffinityConfig.clientIP.timeoutSeconds default (3 h)
PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}


@dataclass(frozen=True, order=True)
class Endpoint:
    ip: str
    port: int
    """The endpoint's port for this service port (the resolved targetPort)."""
    local: bool
    """nodeName is this node: the only endpoints externalTrafficPolicy Local may use."""


@dataclass(frozen=True)
class PortNat:
    """One port of one Service, with everything its chains and map elements depend on."""

    name: str
    """The service port's name ('' when the Service has one unnamed port)."""
    protocol: str
    """tcp, udp or sctp (as nft spells them)."""
    port: int
    cluster_ip: str
    node_port: int
    """0: none (ClusterIP services)."""
    port_on_node: bool
    """LoadBalancer: `port` itself is answered on the node's addresses too (k3s servicelb)."""
    external_ips: tuple[str, ...]
    """status.loadBalancer.ingress IPs and spec.externalIPs: answered on `port` like a node port."""
    external_local: bool
    """externalTrafficPolicy Local: external traffic only to local endpoints, client address kept."""
    affinity_seconds: int
    """sessionAffinity ClientIP timeout; 0: none."""
    endpoints: tuple[Endpoint, ...]

    @property
    def has_external(self) -> bool:
        return bool(self.node_port or self.port_on_node or self.external_ips)


@dataclass(frozen=True)
class ServiceNat:
    key: str
    """namespace/name."""
    ports: tuple[PortNat, ...]


def service_key_of_slice(slice_: Obj) -> str | None:
    """`namespace/service` an EndpointSlice belongs to, or None for an unlabelled slice."""
    meta = slice_.get("metadata") or {}
    name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
    if not name:
        return None
    return f"{meta.get('namespace', '')}/{name}"


def service_nat(service: Obj, slices: Iterable[Obj], *, node_name: str, cluster_dns: str) -> ServiceNat | None:
    """The NAT view of `service` with its `slices`, or None when this node translates nothing for it."""
    spec = service.get("spec") or {}
    cluster_ip = spec.get("clusterIP") or ""
    if spec.get("type") == "ExternalName" or cluster_ip in ("", "None") or cluster_ip == cluster_dns:
        return None
    if not _is_ipv4(cluster_ip):  # IPv6 services (the table is `ip`) or garbage nft would refuse
        return None
    meta = service.get("metadata") or {}
    slices = [s for s in slices if s.get("addressType", "IPv4") == "IPv4"]
    is_lb = spec.get("type") == "LoadBalancer"
    external_ips = tuple(
        sorted(
            {
                *(ip for ip in spec.get("externalIPs") or () if _is_ipv4(ip)),
                *(
                    ing["ip"]
                    for ing in ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ()
                    if is_lb and _is_ipv4(ing.get("ip"))
                ),
            }
        )
    )
    affinity = 0
    if spec.get("sessionAffinity") == "ClientIP":
        config = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
        affinity = int(config.get("timeoutSeconds") or DEFAULT_AFFINITY_SECONDS)
    ports = []
    for sp in spec.get("ports") or ():
        protocol = PROTOCOLS.get(sp.get("protocol", "TCP"))
        if protocol is None or not _is_port(sp.get("port")):
            continue
        name = sp.get("name") or ""
        ports.append(
            PortNat(
                name=name,
                protocol=protocol,
                port=int(sp["port"]),
                cluster_ip=cluster_ip,
                node_port=int(sp["nodePort"])
                if spec.get("type") in ("NodePort", "LoadBalancer") and _is_port(sp.get("nodePort"))
                else 0,
                port_on_node=is_lb,
                external_ips=external_ips,
                external_local=spec.get("externalTrafficPolicy") == "Local"
                and spec.get("type") in ("NodePort", "LoadBalancer"),
                affinity_seconds=affinity,
                endpoints=_endpoints(slices, name, sp.get("protocol", "TCP"), node_name),
            )
        )
    return ServiceNat(key=f"{meta.get('namespace', '')}/{meta.get('name', '')}", ports=tuple(ports))


def _endpoints(slices: list[Obj], port_name: str, protocol: str, node_name: str) -> tuple[Endpoint, ...]:
    """Endpoints of one service port: ready ones, else serving+terminating ones; sorted, no duplicates."""
    ready: set[Endpoint] = set()
    draining: set[Endpoint] = set()
    for slice_ in slices:
        port = next(
            (
                p.get("port")
                for p in slice_.get("ports") or ()
                if (p.get("name") or "") == port_name and p.get("protocol", "TCP") == protocol
            ),
            None,
        )
        if not _is_port(port):
            continue
        for ep in slice_.get("endpoints") or ():
            addresses = ep.get("addresses") or ()
            if not addresses or not _is_ipv4(addresses[0]):
                continue
            cond = ep.get("conditions") or {}
            is_ready = cond.get("ready") is not False
            serving = cond.get("serving", is_ready) is not False
            terminating = cond.get("terminating") is True
            found = Endpoint(ip=addresses[0], port=port, local=ep.get("nodeName") == node_name)
            if is_ready:
                ready.add(found)
            elif serving and terminating:
                draining.add(found)
    return tuple(sorted(ready or draining))


def _is_ipv4(value: object) -> bool:
    """A dotted IPv4 address: anything else would make nft refuse the whole transaction."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _is_port(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536
