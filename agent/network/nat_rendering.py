"""Service NAT as nft text: pure functions, `ServiceNat` values in, ruleset text out.

Layout of table `ip <name>` (kube-proxy's nftables mode, in our own words):

    nat-prerouting / nat-output (nat, -100) -> services:
        ip daddr . l4proto . dport  vmap @service-ips        (clusterIPs, LB/external IPs)
        local daddr: l4proto . dport vmap @service-nodeports (nodePorts, LB ports)
    svc-<ns>/<svc>/<proto>/<port>   masquerade mark for sources outside the cluster CIDR,
                                    affinity lookups, then `numgen random mod N` over endpoints
    ext-...                         external entry: Cluster -> mark + svc-; Local -> pods and the
                                    node itself to svc-, others to loc- (local endpoints) or drop
    ep-.../<ip>/<port>              hairpin mark, affinity update, dnat
    nat-postrouting (nat, 100)      masquerade marked packets, and pods leaving the pod network
    filter-input/forward/output     new connections to a service without endpoints: reject
                                    (@no-endpoint-services, @no-endpoint-nodeports)

Invariants: a service's chains, sets and map elements are named after it and nothing else
refers to them, so one service can be replaced alone (`update_commands`) while the rest of
the table stays; callees come before callers in every listing so one pass of `add chain`
then `add rule` never references a chain that does not exist yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from agent.network.nat_model import Endpoint, PortNat, ServiceNat

MASQUERADE_MARK = 0x4000  # kube-proxy's bit, so people reading `nft list` recognise it
SERVICE_IPS = "service-ips"
SERVICE_NODEPORTS = "service-nodeports"
NO_ENDPOINT_SERVICES = "no-endpoint-services"
NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports"
IP_MAPS = (SERVICE_IPS, NO_ENDPOINT_SERVICES)
PORT_MAPS = (SERVICE_NODEPORTS, NO_ENDPOINT_NODEPORTS)
MAPS = (*IP_MAPS, *PORT_MAPS)
REJECT_CHAIN = "reject-service"
# nft names: a letter first, then letters, digits and / - _ . (Kubernetes names already are).
_UNSAFE = re.compile(r"[^A-Za-z0-9/_.-]")
# Node ports are not answered on loopback: DNAT from 127.0.0.1 to a pod is a martian packet.
LOCAL_DADDR = "fib daddr type local ip daddr != 127.0.0.0/8"


@dataclass(frozen=True)
class NatContext:
    table: str
    cluster_cidr: str
    service_cidr: str


@dataclass(frozen=True)
class Element:
    map: str
    key: str
    verdict: str


@dataclass(frozen=True)
class ServiceRules:
    """Everything one service owns in the table."""

    key: str
    chains: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(name, rules), callees first."""
    sets: tuple[tuple[str, int], ...] = ()
    """Affinity sets: (name, timeout seconds)."""
    elements: tuple[Element, ...] = field(default=())


def render_service(svc: ServiceNat, ctx: NatContext) -> ServiceRules:
    """The chains, affinity sets and map elements of one service."""
    chains: list[tuple[str, tuple[str, ...]]] = []
    sets: list[tuple[str, int]] = []
    elements: list[Element] = []
    for port in svc.ports:
        base = _UNSAFE.sub("_", f"{svc.key}/{port.protocol}/{port.name or port.port}")
        _render_port(port, base, ctx, chains, sets, elements)
    return ServiceRules(key=svc.key, chains=tuple(chains), sets=tuple(sets), elements=tuple(elements))


def _render_port(
    port: PortNat,
    base: str,
    ctx: NatContext,
    chains: list[tuple[str, tuple[str, ...]]],
    sets: list[tuple[str, int]],
    elements: list[Element],
) -> None:
    proto = port.protocol
    ip_keys = [f"{port.cluster_ip} . {proto} . {port.port}"]
    external_ip_keys = [f"{ip} . {proto} . {port.port}" for ip in port.external_ips]
    port_keys = [f"{proto} . {p}" for p in (port.node_port, port.port if port.port_on_node else 0) if p]
    if not port.endpoints:
        reject = f"goto {REJECT_CHAIN}"
        elements += [Element(NO_ENDPOINT_SERVICES, k, reject) for k in ip_keys + external_ip_keys]
        elements += [Element(NO_ENDPOINT_NODEPORTS, k, reject) for k in port_keys]
        return
    affinity: dict[Endpoint, str] = {}
    for ep in port.endpoints:
        name = f"ep-{base}/{ep.ip}/{ep.port}"
        rules = [f"ip saddr {ep.ip} jump mark-for-masquerade"]  # hairpin: the pod reaching itself
        if port.affinity_seconds:
            affinity[ep] = f"aff-{base}/{ep.ip}/{ep.port}/{port.affinity_seconds}"
            sets.append((affinity[ep], port.affinity_seconds))
            rules.append(f"update @{affinity[ep]} {{ ip saddr }}")
        rules.append(f"meta l4proto {proto} dnat to {ep.ip}:{ep.port}")
        chains.append((name, tuple(rules)))
    svc_chain = f"svc-{base}"
    chains.append(
        (
            svc_chain,
            (
                f"ip saddr != {ctx.cluster_cidr} jump mark-for-masquerade",
                *_pick(base, port.endpoints, affinity),
            ),
        )
    )
    elements += [Element(SERVICE_IPS, k, f"goto {svc_chain}") for k in ip_keys]
    if not port.has_external:
        return
    ext_chain = f"ext-{base}"
    if not port.external_local:
        ext_rules: tuple[str, ...] = ("jump mark-for-masquerade", f"goto {svc_chain}")
    else:
        local = tuple(ep for ep in port.endpoints if ep.local)
        if local:
            chains.append((f"loc-{base}", _pick(base, local, affinity)))
        ext_rules = (
            # Pods and the node itself are not "external": they may use any endpoint (kube-proxy does the same).
            f"ip saddr {ctx.cluster_cidr} goto {svc_chain}",
            "fib saddr type local jump mark-for-masquerade",
            f"fib saddr type local goto {svc_chain}",
            f"goto loc-{base}" if local else "drop",
        )
    chains.append((ext_chain, ext_rules))
    elements += [Element(SERVICE_IPS, k, f"goto {ext_chain}") for k in external_ip_keys]
    elements += [Element(SERVICE_NODEPORTS, k, f"goto {ext_chain}") for k in port_keys]


def _pick(base: str, endpoints: tuple[Endpoint, ...], affinity: dict[Endpoint, str]) -> tuple[str, ...]:
    """Affinity lookups first (a client seen recently keeps its endpoint), then a random pick."""
    rules = [f"ip saddr @{affinity[ep]} goto ep-{base}/{ep.ip}/{ep.port}" for ep in endpoints if ep in affinity]
    targets = ", ".join(f"{i} : goto ep-{base}/{ep.ip}/{ep.port}" for i, ep in enumerate(endpoints))
    rules.append(f"numgen random mod {len(endpoints)} vmap {{ {targets} }}")
    return tuple(rules)


def base_chains(ctx: NatContext) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """The fixed chains: (name, hook line or '', rules)."""
    mark = f"0x{MASQUERADE_MARK:08x}"
    check = "ct state new jump endpoints-check"
    return (
        ("mark-for-masquerade", "", (f"meta mark set meta mark | {mark}",)),
        (REJECT_CHAIN, "", ("meta l4proto tcp reject with tcp reset", "reject")),
        (
            "services",
            "",
            (
                f"ip daddr . meta l4proto . th dport vmap @{SERVICE_IPS}",
                f"{LOCAL_DADDR} meta l4proto . th dport vmap @{SERVICE_NODEPORTS}",
            ),
        ),
        (
            "endpoints-check",
            "",
            (
                f"ip daddr . meta l4proto . th dport vmap @{NO_ENDPOINT_SERVICES}",
                f"{LOCAL_DADDR} meta l4proto . th dport vmap @{NO_ENDPOINT_NODEPORTS}",
            ),
        ),
        (
            "masquerading",
            "",
            (
                f"meta mark & {mark} == {mark} meta mark set meta mark ^ {mark} masquerade fully-random",
                f"ip saddr {ctx.cluster_cidr} ip daddr != {ctx.cluster_cidr} ip daddr != {ctx.service_cidr} masquerade",
            ),
        ),
        ("nat-prerouting", "type nat hook prerouting priority -100; policy accept;", ("jump services",)),
        ("nat-output", "type nat hook output priority -100; policy accept;", ("jump services",)),
        ("nat-postrouting", "type nat hook postrouting priority 100; policy accept;", ("jump masquerading",)),
        ("filter-input", "type filter hook input priority -10; policy accept;", (check,)),
        ("filter-forward", "type filter hook forward priority -10; policy accept;", (check,)),
        ("filter-output", "type filter hook output priority -10; policy accept;", (check,)),
    )


MAP_TYPES = {
    SERVICE_IPS: "ipv4_addr . inet_proto . inet_service : verdict",
    NO_ENDPOINT_SERVICES: "ipv4_addr . inet_proto . inet_service : verdict",
    SERVICE_NODEPORTS: "inet_proto . inet_service : verdict",
    NO_ENDPOINT_NODEPORTS: "inet_proto . inet_service : verdict",
}


def full_ruleset(services: Iterable[ServiceRules], ctx: NatContext) -> str:
    """The whole table in one transaction: created if missing, deleted, built again.

    Deleting and re-adding (rather than flushing) also drops chains and sets of services
    that are gone; the kernel swaps old for new atomically, and established connections
    keep their conntrack translation.
    """
    t = ctx.table
    services = list(services)
    out = [f"add table ip {t}", f"delete table ip {t}", f"table ip {t} {{"]
    for svc in services:
        for name, timeout in svc.sets:
            out.append(f"\tset {name} {{ type ipv4_addr; flags dynamic,timeout; timeout {timeout}s; }}")
    for svc in services:
        for name, rules in svc.chains:
            out.append(f"\tchain {name} {{")
            out.extend(f"\t\t{rule}" for rule in rules)
            out.append("\t}")
    for name, _hook, rules in base_chains(ctx)[:2]:
        out.append(f"\tchain {name} {{")
        out.extend(f"\t\t{rule}" for rule in rules)
        out.append("\t}")
    by_map: dict[str, list[Element]] = {m: [] for m in MAPS}
    for svc in services:
        for el in svc.elements:
            by_map[el.map].append(el)
    for m in MAPS:
        out.append(f"\tmap {m} {{")
        out.append(f"\t\ttype {MAP_TYPES[m]};")
        if by_map[m]:
            out.append("\t\telements = {")
            out.extend(f"\t\t\t{el.key} : {el.verdict}," for el in by_map[m])
            out.append("\t\t}")
        out.append("\t}")
    for name, hook, rules in base_chains(ctx)[2:]:
        out.append(f"\tchain {name} {{")
        if hook:
            out.append(f"\t\t{hook}")
        out.extend(f"\t\t{rule}" for rule in rules)
        out.append("\t}")
    out.append("}")
    return "\n".join(out) + "\n"


def update_commands(old: ServiceRules | None, new: ServiceRules | None, table: str) -> list[str]:
    """Commands that replace what `old` put in the table by `new` (either may be None).

    Order matters within the transaction: map elements pointing at old chains go first,
    then old chains are flushed (dropping their jumps and set references) before the ones
    no longer wanted are deleted; new chains are all declared before any rule refers to them,
    and new map elements come last, when their chains hold rules.
    """
    t = f"ip {table}"
    cmds: list[str] = []
    old_elements = set(old.elements) if old else set()
    new_elements = set(new.elements) if new else set()
    # Elements whose key and verdict stay need no touch; changed ones are deleted and re-added.
    for m in MAPS:
        gone = sorted(el.key for el in old_elements - new_elements if el.map == m)
        if gone:
            cmds.append(f"delete element {t} {m} {{ {', '.join(gone)} }}")
    old_chains = dict(old.chains) if old else {}
    new_chains = dict(new.chains) if new else {}
    changed = [name for name, rules in old_chains.items() if new_chains.get(name) != rules]
    cmds += [f"flush chain {t} {name}" for name in changed]
    cmds += [f"delete chain {t} {name}" for name in reversed(list(old_chains)) if name not in new_chains]
    old_sets = dict(old.sets) if old else {}
    new_sets = dict(new.sets) if new else {}
    cmds += [f"delete set {t} {name}" for name in old_sets if name not in new_sets]
    cmds += [
        f"add set {t} {name} {{ type ipv4_addr; flags dynamic,timeout; timeout {timeout}s; }}"
        for name, timeout in new_sets.items()
        if name not in old_sets
    ]
    fresh = [name for name, rules in new_chains.items() if old_chains.get(name) != rules]
    cmds += [f"add chain {t} {name}" for name in fresh if name not in old_chains]
    for name in fresh:
        cmds += [f"add rule {t} {name} {rule}" for rule in new_chains[name]]
    for m in MAPS:
        added = sorted((el.key, el.verdict) for el in new_elements - old_elements if el.map == m)
        if added:
            cmds.append(f"add element {t} {m} {{ {', '.join(f'{k} : {v}' for k, v in added)} }}")
    return cmds
