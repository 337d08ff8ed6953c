"""What NetworkPolicy enforcement reads from the API, reduced to plain frozen values.

In: Pods, Namespaces and NetworkPolicies (networking.k8s.io/v1) as the watches hold them.
Out: `PodEntry`, `NamespaceEntry` and `Policy` values that `policy_resolving` combines.
Values are frozen and compare by content.

Invariants kept here, so the resolver never meets them:
- a pod without an IPv4 `status.podIP`, a hostNetwork pod (its IP is its node's) and a pod
  that has finished (Succeeded/Failed: its IP may already belong to another pod) is not an
  entry at all: it can be neither enforced for nor matched as a peer;
- every namespace carries `kubernetes.io/metadata.name: <name>` (the API sets it; a
  namespace that somehow lacks it gets it here, so namespaceSelectors by name work);
- a policy without `policyTypes` gets the API's default (Ingress, plus Egress when it has
  egress rules); a port without a protocol is TCP;
- a policy the agent cannot read (a selector that fails validation) raises `PolicyError`,
  so the caller can name it and leave it out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edgekube.resources.selectors import LabelSelector, label_selector_from_object

Obj = dict[str, Any]

NAME_LABEL = "kubernetes.io/metadata.name"
PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}
"""NetworkPolicy protocols, as nft spells them."""
FINISHED_PHASES = ("Succeeded", "Failed")


class PolicyError(ValueError):
    """A NetworkPolicy the agent cannot read; it is left out (the server should have refused it)."""


@dataclass(frozen=True)
class ContainerPort:
    name: str
    protocol: str
    """tcp, udp or sctp."""
    number: int


@dataclass(frozen=True)
class PodEntry:
    namespace: str
    name: str
    ip: ipaddress.IPv4Address
    node_name: str
    labels: Mapping[str, str]
    ports: tuple[ContainerPort, ...]
    """Named container ports only: numbers need no lookup."""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def named_port(self, name: str, protocol: str) -> int | None:
        """The number of this pod's container port `name` with `protocol`, if it has one."""
        for port in self.ports:
            if port.name == name and port.protocol == protocol:
                return port.number
        return None


@dataclass(frozen=True)
class NamespaceEntry:
    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class IpBlock:
    cidr: ipaddress.IPv4Network
    excepted: tuple[ipaddress.IPv4Network, ...]


@dataclass(frozen=True)
class PodPeer:
    """Pods chosen by labels: in the policy's namespace (`namespaces` None) or in the namespaces
    `namespaces` selects (an empty selector: every namespace)."""

    pods: LabelSelector
    namespaces: LabelSelector | None


Peer = PodPeer | IpBlock


@dataclass(frozen=True)
class PolicyPort:
    protocol: str
    """tcp, udp or sctp."""
    port: int | str | None
    """A number, a container port's name, or None: every port of `protocol`."""
    end_port: int | None
    """Last port of the range `port`..`end_port` (numbers only)."""


@dataclass(frozen=True)
class PolicyRule:
    peers: tuple[Peer, ...] | None
    """None: any address (the rule has no `from`/`to`, or an empty one)."""
    ports: tuple[PolicyPort, ...] | None
    """None: any port of any protocol."""


@dataclass(frozen=True)
class Policy:
    namespace: str
    name: str
    pods: LabelSelector
    ingress: tuple[PolicyRule, ...] | None
    """None: the policy does not isolate for ingress; () : it does, allowing nothing."""
    egress: tuple[PolicyRule, ...] | None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


def pod_entry(obj: Obj) -> PodEntry | None:
    """The pod as enforcement sees it, or None when it has no address of its own (see module doc)."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if spec.get("hostNetwork") or status.get("phase") in FINISHED_PHASES:
        return None
    try:
        ip = ipaddress.IPv4Address(str(status.get("podIP") or ""))
    except ValueError:
        return None
    return PodEntry(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        ip=ip,
        node_name=str(spec.get("nodeName") or ""),
        labels=dict(meta.get("labels") or {}),
        ports=_named_ports(spec),
    )


def _named_ports(spec: Obj) -> tuple[ContainerPort, ...]:
    found: list[ContainerPort] = []
    for container in spec.get("containers") or []:
        for port in container.get("ports") or []:
            name = port.get("name")
            number = port.get("containerPort")
            protocol = PROTOCOLS.get(str(port.get("protocol") or "TCP"))
            if name and isinstance(number, int) and protocol is not None:
                found.append(ContainerPort(str(name), protocol, number))
    return tuple(found)


def namespace_entry(obj: Obj) -> NamespaceEntry:
    meta = obj.get("metadata") or {}
    name = str(meta.get("name") or "")
    return NamespaceEntry(name, {**(meta.get("labels") or {}), NAME_LABEL: name})


def policy_of(obj: Obj) -> Policy:
    """The NetworkPolicy `obj` as plain values; PolicyError when it cannot be read."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    ingress_rules = spec.get("ingress") or []
    egress_rules = spec.get("egress") or []
    types = spec.get("policyTypes") or (["Ingress", "Egress"] if egress_rules else ["Ingress"])
    try:
        return Policy(
            namespace=str(meta.get("namespace") or ""),
            name=str(meta.get("name") or ""),
            pods=label_selector_from_object(spec.get("podSelector") or {}),
            ingress=tuple(_rule(r, "from") for r in ingress_rules) if "Ingress" in types else None,
            egress=tuple(_rule(r, "to") for r in egress_rules) if "Egress" in types else None,
        )
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise PolicyError(str(err)) from err


def _rule(raw: Obj, peers_field: str) -> PolicyRule:
    peers = raw.get(peers_field) or []
    ports = raw.get("ports") or []
    # An IPv6 ipBlock can match nothing in an IPv4 table: it is dropped from the peers, and a
    # rule left with no peers allows nothing (not everything).
    return PolicyRule(
        peers=tuple(p for p in map(_peer, peers) if p is not None) if peers else None,
        ports=tuple(_port(p) for p in ports) if ports else None,
    )


def _peer(raw: Obj) -> Peer | None:
    block = raw.get("ipBlock")
    if block is not None:
        if ":" in str(block.get("cidr", "")):
            return None
        return IpBlock(
            cidr=ipaddress.IPv4Network(block["cidr"], strict=False),
            excepted=tuple(ipaddress.IPv4Network(e, strict=False) for e in block.get("except") or [] if ":" not in e),
        )
    namespaces = raw.get("namespaceSelector")
    return PodPeer(
        pods=label_selector_from_object(raw.get("podSelector") or {}),
        namespaces=None if namespaces is None else label_selector_from_object(namespaces),
    )


def _port(raw: Obj) -> PolicyPort:
    port = raw.get("port")
    end_port = raw.get("endPort")
    if port is not None and not isinstance(port, int | str):
        raise PolicyError(f"port {port!r} is neither a number nor a name")
    return PolicyPort(
        protocol=_protocol(raw.get("protocol")),
        port=port,
        end_port=int(end_port) if isinstance(port, int) and end_port is not None else None,
    )


def _protocol(spelled: Any) -> str:
    found = PROTOCOLS.get(str(spelled or "TCP"))
    if found is None:
        raise PolicyError(f"unsupported protocol {spelled!r}")
    return found
