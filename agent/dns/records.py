"""The cluster's DNS records, built from Services and EndpointSlices (Kubernetes' DNS spec).

Under the cluster domain D (cluster.local), with a Service `svc` in namespace `ns`:

    svc.ns.svc.D                A/AAAA   the ClusterIPs; for a headless Service (clusterIP None)
                                         the ready endpoint addresses instead
    _port._proto.svc.ns.svc.D   SRV      per named port: target svc.ns.svc.D; for a headless
                                         Service one target per ready endpoint (below)
    host.svc.ns.svc.D           A/AAAA   a headless endpoint with a hostname (StatefulSet pods)
    1-2-3-4.svc.ns.svc.D        A        a headless endpoint without one (its SRV target)
    svc.ns.svc.D                CNAME    an ExternalName Service's externalName
    4.3.2.1.in-addr.arpa        PTR      ClusterIPs and headless endpoint addresses

Endpoints count when `conditions.ready` is not false (the endpoints controller already folds
publishNotReadyAddresses into it). The build is a pure function of the objects it is given, so
it can be rebuilt from the watch caches at any time; `names` holds every owner name and all
its ancestors below D, so an empty non-terminal (`ns.svc.D`) answers NOERROR, not NXDOMAIN.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import dns.name
import dns.reversename

Obj = dict[str, Any]
IP = ipaddress.IPv4Address | ipaddress.IPv6Address

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
SRV_PRIORITY = 0
SRV_WEIGHT = 100  # one weight for all targets: clients spread evenly (RFC 2782)


@dataclass(frozen=True)
class Srv:
    port: int
    target: dns.name.Name
    priority: int = SRV_PRIORITY
    weight: int = SRV_WEIGHT


@dataclass
class ClusterRecords:
    """Every record the cluster domain holds, by owner name (dnspython names compare case-blind)."""

    domain: dns.name.Name
    addresses: dict[dns.name.Name, list[IP]] = field(default_factory=dict)
    srv: dict[dns.name.Name, list[Srv]] = field(default_factory=dict)
    cname: dict[dns.name.Name, dns.name.Name] = field(default_factory=dict)
    ptr: dict[dns.name.Name, dns.name.Name] = field(default_factory=dict)
    names: set[dns.name.Name] = field(default_factory=set)
    """Owner names and their ancestors up to (not including) the domain."""

    def add_address(self, name: dns.name.Name, ip: IP) -> None:
        found = self.addresses.setdefault(name, [])
        if ip not in found:
            found.append(ip)
        self.add_name(name)

    def add_srv(self, name: dns.name.Name, srv: Srv) -> None:
        found = self.srv.setdefault(name, [])
        if srv not in found:
            found.append(srv)
        self.add_name(name)

    def add_cname(self, name: dns.name.Name, target: dns.name.Name) -> None:
        self.cname[name] = target
        self.add_name(name)

    def add_ptr(self, ip: IP, target: dns.name.Name) -> None:
        # The first writer wins: a ClusterIP's name is not replaced by an endpoint's.
        self.ptr.setdefault(dns.reversename.from_address(str(ip)), target)

    def add_name(self, name: dns.name.Name) -> None:
        """Record that `name` exists (with its ancestors below the domain), with or without data."""
        # Label arithmetic instead of parent()/is_subdomain() per step: this runs for every record
        # of every rebuild, and dnspython's name methods dominate the build time otherwise.
        depth = len(name) - len(self.domain)
        if depth <= 0 or not name.is_subdomain(self.domain):
            return
        labels = name.labels
        for start in range(depth):
            ancestor = dns.name.Name(labels[start:])
            if ancestor in self.names:
                return
            self.names.add(ancestor)


def cluster_domain_name(domain: str) -> dns.name.Name:
    return dns.name.from_text(domain.rstrip(".") + ".")


def build_records(services: Iterable[Obj], slices: Iterable[Obj], *, domain: str) -> ClusterRecords:
    """The records of `services` and their `slices` under `domain` (e.g. "cluster.local")."""
    records = ClusterRecords(domain=cluster_domain_name(domain))
    slices_of: dict[tuple[str, str], list[Obj]] = {}
    for slice_ in slices:
        meta = slice_.get("metadata") or {}
        owner = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
        if owner:
            slices_of.setdefault((str(meta.get("namespace") or ""), str(owner)), []).append(slice_)
    for svc in services:
        meta = svc.get("metadata") or {}
        ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        if not ns or not name:
            continue
        try:
            base = dns.name.Name((name.encode(), ns.encode(), b"svc")).concatenate(records.domain)
        except dns.name.NameTooLong:
            continue
        _add_service(records, base, svc.get("spec") or {}, slices_of.get((ns, name), []))
    return records


def _add_service(records: ClusterRecords, base: dns.name.Name, spec: Obj, slices: list[Obj]) -> None:
    if spec.get("type") == "ExternalName":
        target = str(spec.get("externalName") or "").rstrip(".")
        if target:
            records.add_cname(base, dns.name.from_text(target + "."))
        return
    if spec.get("clusterIP") == "None":
        _add_headless(records, base, slices)
        return
    ips = [ip for ip in (_ip(text) for text in spec.get("clusterIPs") or [spec.get("clusterIP")]) if ip]
    if not ips:
        return  # not allocated yet: nothing to answer with
    for ip in ips:
        records.add_address(base, ip)
        records.add_ptr(ip, base)
    for port in spec.get("ports") or []:
        label = _srv_label(port)
        if label is not None:
            records.add_srv(label.concatenate(base), Srv(port=int(port.get("port") or 0), target=base))


def _add_headless(records: ClusterRecords, base: dns.name.Name, slices: list[Obj]) -> None:
    records.add_name(base)  # a headless Service exists even while it has no ready endpoint
    for slice_ in slices:
        if slice_.get("addressType") not in ("IPv4", "IPv6"):
            continue  # FQDN slices carry no addresses to answer with
        targets: list[dns.name.Name] = []
        for endpoint in slice_.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            hostname = str(endpoint.get("hostname") or "")
            for ip in (_ip(text) for text in endpoint.get("addresses") or []):
                if ip is None:
                    continue
                # Without a hostname the endpoint is named after its address (1-2-3-4), so an
                # SRV target always resolves.
                label = hostname or str(ip).replace(".", "-").replace(":", "-")
                target = dns.name.Name((label.encode(),)).concatenate(base)
                records.add_address(base, ip)
                records.add_address(target, ip)
                records.add_ptr(ip, target)
                targets.append(target)
        for port in slice_.get("ports") or []:
            srv_label = _srv_label(port)
            if srv_label is None:
                continue
            for target in targets:
                records.add_srv(srv_label.concatenate(base), Srv(port=int(port.get("port") or 0), target=target))


def _srv_label(port: Obj) -> dns.name.Name | None:
    """`_http._tcp` for a port named http (TCP is the default protocol); None when unnamed."""
    name = str(port.get("name") or "")
    if not name or not port.get("port"):
        return None
    protocol = str(port.get("protocol") or "TCP").lower()
    return dns.name.Name((f"_{name}".encode(), f"_{protocol}".encode()))


def _ip(text: object) -> IP | None:
    try:
        return ipaddress.ip_address(str(text))
    except ValueError:
        return None
