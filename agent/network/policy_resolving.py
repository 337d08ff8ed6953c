"""NetworkPolicy semantics: from Pods, Namespaces and NetworkPolicies to this node's `FilterPlan`.

Pure: objects in, plan out. Follows networking.k8s.io/v1:

- a pod is isolated for ingress (egress) when some policy of its namespace selects it and
  has Ingress (Egress) among its policy types; an isolated pod admits exactly the union of
  what the rules of all those policies allow; a pod no policy isolates admits everything;
- a rule with no peers allows any address, a rule with no ports any port of any protocol;
  a rule whose peers or ports resolve to nothing allows nothing;
- peers: podSelector (pods of the policy's namespace), namespaceSelector (every pod of the
  namespaces it selects), both (the selected pods of the selected namespaces), ipBlock
  (a CIDR less its `except` parts); pods of every node count, found by `status.podIP`;
- a named port is looked up among the container ports of the pod it names: the local pod
  for ingress, the destination pod for egress (so it only ever matches pods; for an
  ipBlock peer, the pods whose address lies in the block).

Only pods of this node (spec.nodeName is the node and podIP inside its pod CIDR) are
enforced here; other nodes enforce for theirs. A policy that cannot be read is left out
and named in `Resolution.problems`.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from agent.network.local import LocalNode
from agent.network.policy_inputs import (
    NAME_LABEL,
    IpBlock,
    NamespaceEntry,
    Obj,
    PodEntry,
    PodPeer,
    Policy,
    PolicyError,
    PolicyPort,
    PolicyRule,
    namespace_entry,
    pod_entry,
    policy_of,
)
from agent.network.policy_model import AddressSet, Allow, CidrBlock, FilterPlan, PodFilter, PortRange

ALLOW_ALL = Allow(None, ())


@dataclass(frozen=True)
class Resolution:
    plan: FilterPlan
    problems: tuple[str, ...]
    """Policies left out and pods not enforced, each with the reason (for the log)."""


class Cluster:
    """Pods and namespaces of the whole cluster, indexed for peer lookups."""

    def __init__(self, pods: Iterable[PodEntry], namespaces: Iterable[NamespaceEntry]) -> None:
        self.pods = sorted(pods, key=lambda p: (p.ip, p.key))
        self.namespaces = {ns.name: ns for ns in namespaces}
        self._by_namespace: dict[str, list[PodEntry]] = defaultdict(list)
        for pod in self.pods:
            self._by_namespace[pod.namespace].append(pod)
        # Every local pod a policy selects resolves the same rules against the same cluster:
        # remembered per (rule, namespace), a render costs one pass over the pods per rule,
        # not one per rule and local pod.
        self.peer_cache: dict[tuple[PolicyRule, str], list[AddressSet | CidrBlock | None]] = {}
        self.egress_cache: dict[tuple[PolicyRule, str], list[Allow]] = {}

    def namespace_labels(self, name: str) -> dict[str, str]:
        found = self.namespaces.get(name)
        return dict(found.labels) if found is not None else {NAME_LABEL: name}

    def peer_pods(self, peer: PodPeer, policy_namespace: str) -> Iterator[PodEntry]:
        if peer.namespaces is None:
            candidates: Iterable[PodEntry] = self._by_namespace.get(policy_namespace, ())
        else:
            selector = peer.namespaces
            chosen = sorted(n for n in self._by_namespace if selector.matches(self.namespace_labels(n)))
            candidates = (p for n in chosen for p in self._by_namespace[n])
        return (p for p in candidates if peer.pods.matches(p.labels))


def resolve_plan(
    *, table: str, node: LocalNode, policies: Iterable[Obj], pods: Iterable[Obj], namespaces: Iterable[Obj]
) -> Resolution:
    """This node's filter plan for the cluster state given by the three object lists."""
    problems: list[str] = []
    readable: list[Policy] = []
    for obj in policies:
        try:
            readable.append(policy_of(obj))
        except PolicyError as err:
            meta = obj.get("metadata") or {}
            problems.append(f"NetworkPolicy {meta.get('namespace')}/{meta.get('name')} left out: {err}")
    cluster = Cluster(
        (entry for entry in map(pod_entry, pods) if entry is not None), (namespace_entry(ns) for ns in namespaces)
    )
    filters: list[PodFilter] = []
    seen: dict[ipaddress.IPv4Address, str] = {}
    for pod in cluster.pods:
        if pod.node_name != node.name or pod.ip not in node.pod_cidr:
            continue
        if pod.ip in seen:
            problems.append(f"pod {pod.key} shares {pod.ip} with {seen[pod.ip]}; enforcing for {seen[pod.ip]} only")
            continue
        seen[pod.ip] = pod.key
        found = pod_filter(pod, [p for p in readable if p.namespace == pod.namespace], cluster)
        if found is not None:
            filters.append(found)
    return Resolution(FilterPlan(table=table, pod_cidr=node.pod_cidr, pods=tuple(filters)), tuple(problems))


def pod_filter(pod: PodEntry, namespace_policies: Iterable[Policy], cluster: Cluster) -> PodFilter | None:
    """What `pod` may receive and send under the policies of its namespace; None: not isolated at all."""
    ingress: list[Allow] | None = None
    egress: list[Allow] | None = None
    for policy in namespace_policies:
        if not policy.pods.matches(pod.labels):
            continue
        if policy.ingress is not None:
            ingress = ingress or []
            for rule in policy.ingress:
                ingress += ingress_allows(rule, pod, policy.namespace, cluster)
        if policy.egress is not None:
            egress = egress or []
            for rule in policy.egress:
                egress += egress_allows(rule, policy.namespace, cluster)
    if ingress is None and egress is None:
        return None
    return PodFilter(key=pod.key, ip=pod.ip, ingress=_tidy(ingress), egress=_tidy(egress))


def ingress_allows(rule: PolicyRule, target: PodEntry, namespace: str, cluster: Cluster) -> list[Allow]:
    """What one ingress rule lets reach `target`: named ports are the target's own."""
    if rule.ports is None:
        ports: tuple[PortRange, ...] = ()
    else:
        ports = merge_ports(r for p in rule.ports if (r := _port_range(p, target)) is not None)
        if not ports:
            return []  # only named ports, none of which the target has
    return [Allow(peers, ports) for peers in _peer_groups(rule, namespace, cluster)]


def egress_allows(rule: PolicyRule, namespace: str, cluster: Cluster) -> list[Allow]:
    """What one egress rule lets a selected pod send: named ports are each destination pod's."""
    found = cluster.egress_cache.get((rule, namespace))
    if found is None:
        found = cluster.egress_cache[rule, namespace] = _egress_allows(rule, namespace, cluster)
    return found


def _egress_allows(rule: PolicyRule, namespace: str, cluster: Cluster) -> list[Allow]:
    groups = _peer_groups(rule, namespace, cluster)
    if rule.ports is None:
        return [Allow(peers, ()) for peers in groups]
    fixed = merge_ports(r for p in rule.ports if not isinstance(p.port, str) and (r := _port_range(p, None)))
    allows = [Allow(peers, fixed) for peers in groups] if fixed else []
    named = [p for p in rule.ports if isinstance(p.port, str)]
    if named:
        allows += _named_egress(named, _destination_pods(rule, namespace, cluster))
    return allows


def _named_egress(named: list[PolicyPort], destinations: Iterable[PodEntry]) -> list[Allow]:
    # 10.42.1.4 names "http" tcp/8080 and 10.42.2.9 names it tcp/80:
    # -> Allow({10.42.2.9}, tcp/80), Allow({10.42.1.4}, tcp/8080)
    by_ports: dict[tuple[PortRange, ...], set[ipaddress.IPv4Address]] = defaultdict(set)
    for pod in destinations:
        found = [r for p in named if (r := _port_range(p, pod)) is not None]
        ports = tuple(found) if len(found) == 1 else merge_ports(found)
        if ports:
            by_ports[ports].add(pod.ip)
    return [Allow(AddressSet(tuple(sorted(ips))), ports) for ports, ips in by_ports.items()]


def _peer_groups(rule: PolicyRule, namespace: str, cluster: Cluster) -> list[AddressSet | CidrBlock | None]:
    """The rule's peers as address groups: all selected pods in one set, each ipBlock alone."""
    found = cluster.peer_cache.get((rule, namespace))
    if found is None:
        found = cluster.peer_cache[rule, namespace] = _resolve_peers(rule, namespace, cluster)
    return found


def _resolve_peers(rule: PolicyRule, namespace: str, cluster: Cluster) -> list[AddressSet | CidrBlock | None]:
    if rule.peers is None:
        return [None]
    addresses: set[ipaddress.IPv4Address] = set()
    groups: list[AddressSet | CidrBlock | None] = []
    for peer in rule.peers:
        if isinstance(peer, IpBlock):
            excepted = tuple(ipaddress.collapse_addresses(e for e in peer.excepted if e.overlaps(peer.cidr)))
            groups.append(CidrBlock(peer.cidr, excepted))
        else:
            addresses.update(p.ip for p in cluster.peer_pods(peer, namespace))
    if addresses:
        groups.insert(0, AddressSet(tuple(sorted(addresses))))
    return groups


def _destination_pods(rule: PolicyRule, namespace: str, cluster: Cluster) -> list[PodEntry]:
    """Pods an egress rule's peers cover (every pod when it has none): where named ports are looked up."""
    if rule.peers is None:
        return list(cluster.pods)
    found: dict[str, PodEntry] = {}
    for peer in rule.peers:
        if isinstance(peer, IpBlock):
            for pod in cluster.pods:
                if pod.ip in peer.cidr and not any(pod.ip in e for e in peer.excepted):
                    found[pod.key] = pod
        else:
            found.update((p.key, p) for p in cluster.peer_pods(peer, namespace))
    return list(found.values())


def _port_range(port: PolicyPort, owner: PodEntry | None) -> PortRange | None:
    """The ports `port` means; a named one looked up on `owner` (None when it has no such port)."""
    if port.port is None:
        return PortRange(port.protocol, 0, 65535)
    if isinstance(port.port, int):
        return PortRange(port.protocol, port.port, max(port.port, port.end_port or port.port))
    number = owner.named_port(port.port, port.protocol) if owner is not None else None
    return PortRange(port.protocol, number, number) if number is not None else None


def merge_ports(ranges: Iterable[PortRange]) -> tuple[PortRange, ...]:
    """Sorted, with overlapping or adjacent ranges of one protocol joined.

    tcp 80, tcp 81-90, tcp 85-100, udp 53 -> tcp 80-100, udp 53
    """
    merged: list[PortRange] = []
    for r in sorted(set(ranges)):
        last = merged[-1] if merged else None
        if last is not None and last.protocol == r.protocol and r.first <= last.last + 1:
            merged[-1] = PortRange(r.protocol, last.first, max(last.last, r.last))
        else:
            merged.append(r)
    return tuple(merged)


def _tidy(allows: list[Allow] | None) -> tuple[Allow, ...] | None:
    """Without duplicates, in a stable order; anything-goes swallows the rest."""
    if allows is None:
        return None
    if ALLOW_ALL in allows:
        return (ALLOW_ALL,)
    unique = dict.fromkeys(allows)
    return tuple(sorted(unique, key=_allow_order))


def _allow_order(allow: Allow) -> tuple[Any, ...]:
    # Compared field by field (no strings built): kinds first, so like is only compared with like.
    peers = allow.peers
    if peers is None:
        return (0, (), allow.ports)
    if isinstance(peers, AddressSet):
        return (1, peers.addresses, allow.ports)
    return (2, (peers.cidr, peers.excepted), allow.ports)
