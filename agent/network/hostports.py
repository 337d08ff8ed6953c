"""hostPort: DNAT of (node address, hostPort, protocol) to (podIP, containerPort), in `ip edgekube_hostports`.

    ports: [{containerPort: 80, hostPort: 8080}]            on pod 10.42.3.7
    -> fib daddr type local  tcp dport 8080  dnat to 10.42.3.7:80
    ports: [{containerPort: 53, hostPort: 5353, protocol: UDP, hostIP: 10.0.0.7}]
    -> ip daddr 10.0.0.7  udp dport 5353  dnat to 10.42.3.7:53

What flows through: each wired pod's hostPorts (`set_pod` / `drop_pod`); the whole table
is written again, in one `nft -f` transaction, when the set of rules changes. Hooked in
nat prerouting (traffic from elsewhere) and nat output (from the node itself) at -110,
before Service NAT (-100), as a hostPort wins over everything else on its port.

Invariants: only our own table is touched; a table with no rules is deleted rather than
left empty; nothing is written until `start()` (the agent knows all its pods by then, so
a restart never writes a partial table over a complete one).
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from typing import Any

import structlog

from agent.network.nft import NftError, apply_ruleset

log = structlog.get_logger(__name__)
PRIORITY = -110
PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}


@dataclass(frozen=True, order=True)
class HostPort:
    host_port: int
    protocol: str
    """tcp, udp or sctp (nft's spelling)."""
    host_ip: str
    """'' : every local address."""
    pod_ip: str
    container_port: int


def hostports_of(pod: dict[str, Any], pod_ip: str) -> list[HostPort]:
    """The pod's hostPort rules (none for hostNetwork pods: they listen on the node already)."""
    spec = pod.get("spec") or {}
    if spec.get("hostNetwork") is True or not pod_ip:
        return []
    out: list[HostPort] = []
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for port in (container or {}).get("ports") or []:
            host_port, container_port = port.get("hostPort"), port.get("containerPort")
            if not isinstance(host_port, int) or not isinstance(container_port, int) or host_port <= 0:
                continue
            protocol = PROTOCOLS.get(str(port.get("protocol") or "TCP"))
            if protocol is None:
                continue
            host_ip = str(port.get("hostIP") or "")
            if host_ip in ("0.0.0.0", "::"):
                host_ip = ""
            if host_ip:
                try:
                    if ipaddress.ip_address(host_ip).version != 4:
                        continue
                except ValueError:
                    continue
            out.append(HostPort(host_port, protocol, host_ip, pod_ip, container_port))
    return out


def render(table: str, rules: list[HostPort]) -> str:
    """The `nft -f` input that replaces our table with `rules` (or deletes it when there are none)."""
    head = f"table ip {table} {{}}\n"
    if not rules:
        return head + f"delete table ip {table}\n"
    lines = []
    for r in sorted(set(rules)):
        match = f"ip daddr {r.host_ip} " if r.host_ip else ""
        lines.append(f"\t\t{match}{r.protocol} dport {r.host_port} dnat to {r.pod_ip}:{r.container_port}")
    body = "\n".join(lines)
    return (
        head
        + f"flush table ip {table}\n"
        + f"table ip {table} {{\n"
        + "\tchain prerouting {\n"
        + f"\t\ttype nat hook prerouting priority {PRIORITY}; policy accept;\n"
        + "\t\tfib daddr type local jump hostports\n"
        + "\t}\n"
        + "\tchain output {\n"
        + f"\t\ttype nat hook output priority {PRIORITY}; policy accept;\n"
        + "\t\tfib daddr type local jump hostports\n"
        + "\t}\n"
        + "\tchain hostports {\n"
        + body
        + "\n\t}\n"
        + "}\n"
    )


class HostPorts:
    """The hostPort rules of this node's pods; rewrites the table when they change."""

    def __init__(self, table: str) -> None:
        self.table = table
        self._by_uid: dict[str, list[HostPort]] = {}
        self._written: list[HostPort] | None = None
        self._started = False
        self._lock = asyncio.Lock()

    def rules(self) -> list[HostPort]:
        return sorted({r for rules in self._by_uid.values() for r in rules})

    async def set_pod(self, uid: str, rules: list[HostPort]) -> None:
        if rules:
            self._by_uid[uid] = rules
        else:
            self._by_uid.pop(uid, None)
        await self.sync()

    async def drop_pod(self, uid: str) -> None:
        if self._by_uid.pop(uid, None) is not None:
            await self.sync()

    async def start(self) -> None:
        """From now on changes are written; writes the table once (drops a stale one too)."""
        self._started = True
        await self.sync(force=True)

    async def sync(self, *, force: bool = False) -> None:
        """Write the table if the rules differ from what was last written; errors are logged."""
        if not self._started:
            return
        async with self._lock:
            rules = self.rules()
            if rules == self._written and not force:
                return
            try:
                await apply_ruleset(render(self.table, rules))
            except NftError as err:
                self._written = None  # unknown: write again next time
                log.error("cannot write the hostPort rules", table=self.table, error=str(err))
                return
            self._written = rules
            log.info("hostPort rules written", table=self.table, rules=len(rules))
