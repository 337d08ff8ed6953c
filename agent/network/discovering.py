"""Node discovery: the `LocalNode` this agent wires pods for, from the server once and from disk after.

    server: Node <name> spec.podCIDR 10.42.3.0/24      (allocated when the node registers)
    kernel: the device holding the node IP, its MTU   (pyroute2, in the agent's namespace)
    disk:   <agent_dir>/network/node.json             (so an agent restarted offline needs neither)

What flows through: the pod CIDR comes from the server the first time and is kept in
node.json; interface and MTU are looked up locally at every start (cheap, and a changed
MTU must be followed). Invariants: a pod CIDR, once on disk for this node name, is used
without asking the server again (pods already hold addresses from it); the MTU is the
interface's, less the VXLAN header for the vxlan backend, unless settings.mtu says otherwise.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from pathlib import Path
from typing import Any

import structlog

from agent.cache import write_atomic
from agent.network.local import LocalNode
from agent.network.netlink import IPRoute
from agent.settings import NetworkSettings
from edgekube.client import NODES, ApiClient, ApiError, NotFound, ServerUnreachable

log = structlog.get_logger(__name__)
NODE_FILE = "node.json"
VXLAN_OVERHEAD = 50
"""Bytes a VXLAN packet adds: outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14)."""
LOOPBACK_MTU = 1500
"""MTU for a node on 127.0.0.1 (the embedded agent's default): lo's 65536 is no pod link's MTU."""
POLL_INTERVAL = 2.0


class DiscoveryError(Exception):
    """The node's facts cannot be found locally (no device holds the node IP)."""


def interface_of(node_ip: ipaddress.IPv4Address, wanted: str = "") -> tuple[str, int]:
    """(name, MTU) of the device holding `node_ip`, or of `wanted` when given. Blocking (netlink)."""
    if not wanted and node_ip.is_loopback:
        return "lo", LOOPBACK_MTU
    with IPRoute() as ipr:
        if wanted:
            found = ipr.link_lookup(ifname=wanted)
            if not found:
                raise DiscoveryError(f"interface {wanted!r} (flannel-iface) does not exist")
            index = found[0]
        else:
            addrs = ipr.get_addr(family=2, address=str(node_ip))
            if not addrs:
                raise DiscoveryError(f"no interface holds the node IP {node_ip} (set --node-ip or --flannel-iface)")
            index = addrs[0]["index"]
        link = ipr.get_links(index)[0]
        name = str(link.get("ifname"))
        mtu = int(link.get("mtu") or 1500)
    if name == "lo":
        mtu = LOOPBACK_MTU
    return name, mtu


def pod_mtu(settings: NetworkSettings, interface_mtu: int) -> int:
    if settings.mtu > 0:
        return settings.mtu
    return interface_mtu - VXLAN_OVERHEAD if settings.backend == "vxlan" else interface_mtu


def node_to_json(node: LocalNode) -> str:
    body = {
        "name": node.name,
        "ip": str(node.ip),
        "podCIDR": str(node.pod_cidr),
        "interface": node.interface,
        "mtu": node.mtu,
    }
    return json.dumps(body, indent=1) + "\n"


def node_from_json(text: str) -> LocalNode:
    body: dict[str, Any] = json.loads(text)
    return LocalNode(
        name=str(body["name"]),
        ip=ipaddress.IPv4Address(str(body["ip"])),
        pod_cidr=ipaddress.IPv4Network(str(body["podCIDR"])),
        interface=str(body["interface"]),
        mtu=int(body["mtu"]),
    )


def load_node(state_dir: Path) -> LocalNode | None:
    """node.json, or None when missing or unreadable. Blocking."""
    try:
        return node_from_json((state_dir / NODE_FILE).read_text())
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as err:
        log.warning("node.json unreadable; asking the server again", error=str(err))
        return None


def store_node(state_dir: Path, node: LocalNode) -> None:
    """node.json written atomically. Blocking."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(state_dir / NODE_FILE, node_to_json(node).encode())


def pod_cidr_of(node: dict[str, Any]) -> ipaddress.IPv4Network | None:
    spec = node.get("spec") or {}
    candidates = [spec.get("podCIDR"), *(spec.get("podCIDRs") or [])]
    for text in candidates:
        try:
            net = ipaddress.ip_network(str(text or ""))
        except ValueError:
            continue
        if isinstance(net, ipaddress.IPv4Network):
            return net
    return None


async def wait_pod_cidr(client: ApiClient, node_name: str, *, interval: float = POLL_INTERVAL) -> ipaddress.IPv4Network:
    """The Node's IPv4 pod CIDR, polling until the server has allocated one."""
    said = False
    while True:
        why = ""
        try:
            cidr = pod_cidr_of(await client.get(NODES, node_name))
            if cidr is not None:
                return cidr
            why = "the Node has no spec.podCIDR yet"
        except NotFound:
            why = "the Node is not registered yet"
        except ServerUnreachable as err:
            why = f"the server is unreachable ({err})"
        except ApiError as err:
            why = f"the server refused ({err.message})"
        if not said:
            log.info("waiting for this node's pod CIDR before wiring pods", node=node_name, why=why)
            said = True
        else:
            log.debug("still waiting for the pod CIDR", node=node_name, why=why)
        await asyncio.sleep(interval)


async def discover_local_node(
    *, client: ApiClient, settings: NetworkSettings, node_name: str, node_ip: str, state_dir: Path
) -> LocalNode:
    """The LocalNode: pod CIDR from node.json (else the server, then stored), interface and MTU from here."""
    ip = ipaddress.IPv4Address(node_ip)
    stored = await asyncio.to_thread(load_node, state_dir)
    if stored is not None and stored.name != node_name:
        log.warning("node.json is for another node name; asking the server", stored=stored.name, node=node_name)
        stored = None
    pod_cidr = stored.pod_cidr if stored is not None else await wait_pod_cidr(client, node_name)
    interface, mtu = await asyncio.to_thread(interface_of, ip, settings.interface)
    node = LocalNode(name=node_name, ip=ip, pod_cidr=pod_cidr, interface=interface, mtu=pod_mtu(settings, mtu))
    if node != stored:
        await asyncio.to_thread(store_node, state_dir, node)
    log.info(
        "pod network of this node",
        node=node_name,
        pod_cidr=str(pod_cidr),
        interface=interface,
        mtu=node.mtu,
        from_disk=stored is not None,
    )
    return node
