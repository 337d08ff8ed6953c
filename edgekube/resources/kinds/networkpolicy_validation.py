"""NetworkPolicy spec checks, with the Kubernetes field paths and messages.

Reads a defaulted NetworkPolicy dict and never mutates it. Fields may hold the wrong
JSON type (the schema check reports those); every reader here copes. The rules:
  - `podSelector` (defaulted to {} when missing) is a valid label selector;
  - `policyTypes` holds at most two values, each `Ingress` or `Egress`;
  - a port's protocol is TCP, UDP or SCTP; a numeric port is 1-65535, a named one an
    IANA service name; `endPort` needs a numeric `port`, and is >= it and a valid port;
  - a peer names at least one of podSelector, namespaceSelector, ipBlock, and an ipBlock
    stands alone; its `cidr` is a CIDR and each `except` entry a CIDR strictly inside it.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_causes import invalid_each, required_because
from edgekube.resources.kinds.common_fields import integer, items, mapping
from edgekube.resources.kinds.common_net import cidr_problems
from edgekube.resources.kinds.common_ports import port_name_problems, port_number_problems
from edgekube.resources.objects import Obj
from edgekube.resources.selectors import validate_label_selector_object
from edgekube.resources.validation import forbidden, invalid_value, required, unsupported_value

POLICY_TYPES = ("Ingress", "Egress")
# Kubernetes lists them in this order in its NotSupported message.
PROTOCOLS = ("TCP", "UDP", "SCTP")


def validate_network_policy_spec(policy: Obj) -> list[Cause]:
    spec = mapping(policy.get("spec"))
    causes: list[Cause] = []
    selector = spec.get("podSelector")
    if selector is None:
        causes.append(required("spec.podSelector"))
    else:
        causes += validate_label_selector_object(selector, "spec.podSelector")
    for i, rule in items(spec.get("ingress")):
        path = f"spec.ingress[{i}]"
        causes += _validate_ports(rule.get("ports"), f"{path}.ports")
        causes += _validate_peers(rule.get("from"), f"{path}.from")
    for i, rule in items(spec.get("egress")):
        path = f"spec.egress[{i}]"
        causes += _validate_ports(rule.get("ports"), f"{path}.ports")
        causes += _validate_peers(rule.get("to"), f"{path}.to")
    causes += _validate_policy_types(spec.get("policyTypes"))
    return causes


def _validate_policy_types(types: Any) -> list[Cause]:
    if not isinstance(types, list):
        return []
    if len(types) > len(POLICY_TYPES):
        return [invalid_value("spec.policyTypes", types, "may not specify more than two policyTypes")]
    return [
        unsupported_value(f"spec.policyTypes[{i}]", value, POLICY_TYPES)
        for i, value in enumerate(types)
        if value not in POLICY_TYPES
    ]


def _validate_ports(ports: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, port in items(ports):
        causes += validate_policy_port(port, f"{path}[{i}]")
    return causes


def validate_policy_port(port: dict[str, Any], path: str) -> list[Cause]:
    """One `NetworkPolicyPort`: protocol, port (number or name) and the optional `endPort`."""
    causes: list[Cause] = []
    protocol = port.get("protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        causes.append(unsupported_value(f"{path}.protocol", protocol, PROTOCOLS))
    number, end = port.get("port"), port.get("endPort")
    if number is None:
        if end is not None:
            causes.append(invalid_value(f"{path}.endPort", end, "may not be specified when `port` is not specified"))
        return causes
    if isinstance(number, str):
        if end is not None:
            causes.append(invalid_value(f"{path}.endPort", end, "may not be specified when `port` is non-numeric"))
        return causes + invalid_each(f"{path}.port", number, port_name_problems(number))
    causes += invalid_each(f"{path}.port", number, port_number_problems(number))
    if end is not None:
        start, stop = integer(number), integer(end)
        if start is not None and stop is not None and stop < start:
            # Kubernetes shows the value of `port` here, not that of `endPort`.
            causes.append(invalid_value(f"{path}.endPort", number, "must be greater than or equal to `port`"))
        causes += invalid_each(f"{path}.endPort", end, port_number_problems(end))
    return causes


def _validate_peers(peers: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, peer in items(peers):
        causes += validate_peer(peer, f"{path}[{i}]")
    return causes


def validate_peer(peer: dict[str, Any], path: str) -> list[Cause]:
    """One `NetworkPolicyPeer`: selectors, or an ipBlock on its own."""
    causes: list[Cause] = []
    named = 0
    for key in ("podSelector", "namespaceSelector"):
        if peer.get(key) is not None:
            named += 1
            causes += validate_label_selector_object(peer[key], f"{path}.{key}")
    block = peer.get("ipBlock")
    if block is not None:
        named += 1
        causes += validate_ip_block(mapping(block), f"{path}.ipBlock")
    if named == 0:
        causes.append(required_because(path, "must specify a peer"))
    elif named > 1 and block is not None:
        causes.append(forbidden(path, "may not specify both ipBlock and another peer"))
    return causes


def validate_ip_block(block: dict[str, Any], path: str) -> list[Cause]:
    """`cidr` is a CIDR; each `except` entry is one too, strictly inside `cidr`."""
    cidr = block.get("cidr")
    if not cidr:
        return [required(f"{path}.cidr")]
    problems = cidr_problems(cidr)
    if problems:
        return invalid_each(f"{path}.cidr", cidr, problems)
    outer = ipaddress.ip_interface(cidr).network
    causes: list[Cause] = []
    excepts = block.get("except")
    for i, entry in enumerate(excepts if isinstance(excepts, list) else []):
        entry_path = f"{path}.except[{i}]"
        problems = cidr_problems(entry)
        if problems:
            causes += invalid_each(entry_path, entry, problems)
            continue
        inner = ipaddress.ip_interface(entry).network
        # Strictly inside: same family, contained, and a longer prefix than `cidr`.
        inside = inner.version == outer.version and inner.network_address in outer
        if not inside or inner.prefixlen <= outer.prefixlen:
            causes.append(invalid_value(entry_path, entry, "must be a strict subset of `cidr`"))
    return causes
