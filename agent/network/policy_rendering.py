"""A `FilterPlan` as nft text: one input that replaces our `ip <table>` whole, atomically.

Pure: plan in, text out; the same plan always gives the same text. The input starts with
`add table` + `delete table` (so it works whether or not the table exists) and then
defines the table afresh; `nft -f` applies all of it as one transaction, so no packet
ever meets a half-written table. With no isolated pod the table is simply removed.

Shape of the table (hooked in filter forward, priority 0, policy accept):

    forward:  traffic touching neither this node's pod CIDR -> accept (none of our business)
              ct state established,related -> accept (replies of allowed connections)
              ct state invalid -> drop
              ip saddr vmap @egress    -> jump eg_<ip>: allowed -> return, else drop
              ip daddr vmap @ingress   -> jump in_<ip>: allowed -> accept, else drop

Egress chains `return` rather than accept, so that traffic between two pods of this node
is still checked against the destination's ingress chain. Bridged traffic between pods of
one bridge reaches this hook through br_netfilter (bridge-nf-call-iptables=1) after
Service DNAT, so the rules see real endpoint addresses. A pod may always talk to itself
(hairpin through a Service), as Kubernetes promises.

Traffic between a pod and its own node is always allowed (Kubernetes: "traffic to and
from the node where a Pod is running is always allowed"): the node's own packets to a pod
and a pod's packets to any address of the node (its IP, the bridge gateway, the cluster
DNS address) use the output and input hooks, which this table leaves alone. That is also
what keeps DNS working for pods under a default-deny egress policy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from agent.network.policy_model import AddressSet, Allow, CidrBlock, FilterPlan, PodFilter, PortRange

INGRESS_MAP = "ingress"
EGRESS_MAP = "egress"
SHARED_SET_MIN = 4
"""Address groups this large go into a named set; smaller ones are written inline."""


def render_filter(plan: FilterPlan) -> str:
    """The nft input that makes `ip <plan.table>` exactly what `plan` says (removing it when empty)."""
    lines = [f"add table ip {plan.table}", f"delete table ip {plan.table}"]
    if not plan.pods:
        return "\n".join(lines) + "\n"
    lines.append(f"table ip {plan.table} {{")
    shared = shared_sets(plan)
    for addresses, name in shared.items():
        lines += [
            f"\tset {name} {{",
            "\t\ttype ipv4_addr",
            f"\t\telements = {{ {', '.join(str(a) for a in addresses.addresses)} }}",
            "\t}",
        ]
    ingress = [p for p in plan.pods if p.ingress is not None]
    egress = [p for p in plan.pods if p.egress is not None]
    lines += _verdict_map(EGRESS_MAP, egress, "eg")
    lines += _verdict_map(INGRESS_MAP, ingress, "in")
    lines += _forward_chain(plan.pod_cidr, bool(egress), bool(ingress))
    for pod in egress:
        lines += _pod_chain(pod, "eg", "egress", pod.egress or (), "daddr", "return", shared)
    for pod in ingress:
        lines += _pod_chain(pod, "in", "ingress", pod.ingress or (), "saddr", "accept", shared)
    lines.append("}")
    return "\n".join(lines) + "\n"


def shared_sets(plan: FilterPlan) -> dict[AddressSet, str]:
    """Named sets for the larger address groups, each written once however many chains use it.

    A namespaceSelector of a big namespace used by the policy of 50 local pods would
    otherwise repeat its addresses in 50 chains. Numbered in order of first use, so the
    same plan names them the same way.
    """
    shared: dict[AddressSet, str] = {}
    for pod in plan.pods:
        for allow in (*(pod.egress or ()), *(pod.ingress or ())):
            peers = allow.peers
            if isinstance(peers, AddressSet) and len(peers.addresses) >= SHARED_SET_MIN and peers not in shared:
                shared[peers] = f"peers_{len(shared)}"
    return shared


def chain_name(prefix: str, ip: ipaddress.IPv4Address) -> str:
    """in_10_42_3_7: per pod and direction, named after the address the verdict map keys on."""
    return f"{prefix}_{str(ip).replace('.', '_')}"


def _verdict_map(name: str, pods: list[PodFilter], prefix: str) -> list[str]:
    if not pods:
        return []
    elements = ", ".join(f"{p.ip} : jump {chain_name(prefix, p.ip)}" for p in pods)
    return [
        f"\tmap {name} {{",
        "\t\ttype ipv4_addr : verdict",
        f"\t\telements = {{ {elements} }}",
        "\t}",
    ]


def _forward_chain(pod_cidr: ipaddress.IPv4Network, egress: bool, ingress: bool) -> list[str]:
    lines = [
        "\tchain forward {",
        "\t\ttype filter hook forward priority 0; policy accept;",
        f"\t\tip saddr != {pod_cidr} ip daddr != {pod_cidr} accept",
        "\t\tct state established,related accept",
        "\t\tct state invalid drop",
    ]
    if egress:
        lines.append(f"\t\tip saddr vmap @{EGRESS_MAP}")
    if ingress:
        lines.append(f"\t\tip daddr vmap @{INGRESS_MAP}")
    lines.append("\t}")
    return lines


def _pod_chain(
    pod: PodFilter,
    prefix: str,
    direction: str,
    allows: tuple[Allow, ...],
    peer_field: str,
    verdict: str,
    shared: Mapping[AddressSet, str],
) -> list[str]:
    lines = [
        f"\tchain {chain_name(prefix, pod.ip)} {{",
        f'\t\tcomment "{direction} of {pod.key}"',
        f"\t\tip {peer_field} {pod.ip} {verdict}",
    ]
    for allow in allows:
        matches = allow_matches(allow, peer_field, shared)
        lines += ["\t\t" + " ".join(filter(None, (match, verdict))) for match in matches]
    lines += ["\t\tdrop", "\t}"]
    return lines


def allow_matches(allow: Allow, peer_field: str, shared: Mapping[AddressSet, str] | None = None) -> list[str]:
    """The match expressions (one per protocol) of one Allow; '' matches everything.

    Allow({10.42.1.4}, tcp 80, tcp 8000-8100, udp 53), saddr ->
        ip saddr 10.42.1.4 meta l4proto tcp th dport { 80, 8000-8100 }
        ip saddr 10.42.1.4 meta l4proto udp th dport 53
    """
    peers = _peer_match(allow.peers, peer_field, shared or {})
    if not allow.ports:
        return [peers]
    return [" ".join(filter(None, (peers, ports))) for ports in _port_matches(allow.ports)]


def _peer_match(peers: AddressSet | CidrBlock | None, field: str, shared: Mapping[AddressSet, str]) -> str:
    if peers is None:
        return ""
    if isinstance(peers, AddressSet) and peers in shared:
        return f"ip {field} @{shared[peers]}"
    if isinstance(peers, AddressSet):
        return f"ip {field} {_set(str(a) for a in peers.addresses)}"
    match = f"ip {field} {peers.cidr}"
    if peers.excepted:
        match += f" ip {field} != {_set(str(e) for e in peers.excepted)}"
    return match


def _port_matches(ports: tuple[PortRange, ...]) -> list[str]:
    by_protocol: dict[str, list[PortRange]] = {}
    for r in ports:
        by_protocol.setdefault(r.protocol, []).append(r)
    matches = []
    for protocol, ranges in by_protocol.items():
        if any(r.every_port for r in ranges):
            matches.append(f"meta l4proto {protocol}")
        else:
            spelled = (str(r.first) if r.first == r.last else f"{r.first}-{r.last}" for r in ranges)
            matches.append(f"meta l4proto {protocol} th dport {_set(spelled)}")
    return matches


def _set(items: Iterable[str]) -> str:
    values = list(items)
    return values[0] if len(values) == 1 else "{ " + ", ".join(values) + " }"
