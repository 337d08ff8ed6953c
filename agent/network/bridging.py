"""Node setup: the bridge that every pod of the node hangs off, and the kernel switches pods need.

    ek0  10.42.3.1/24 (the pods' gateway)  +  10.43.0.10/32 (cluster DNS, answered on this node)
    net.ipv4.ip_forward = 1                   pods reach other nodes and Services through the node
    net.bridge.bridge-nf-call-iptables = 1    bridged pod-to-pod frames pass netfilter, so a Service
                                              reply from a pod on the same bridge is un-NATed

Idempotent: each call brings the bridge to that shape and changes only what differs; it
never removes an address it did not add. Blocking (netlink, /proc/sys): call it through
`asyncio.to_thread`. Runs in the agent's own network namespace, the node's.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import structlog

from agent.network.local import LocalNode
from agent.network.netlink import IPRoute

log = structlog.get_logger(__name__)
IFF_UP = 0x1
SYSCTLS = {
    "net/ipv4/ip_forward": "1",
    "net/bridge/bridge-nf-call-iptables": "1",
}
PROC_SYS = Path("/proc/sys")


def bridge_addresses(node: LocalNode, cluster_dns: str) -> list[ipaddress.IPv4Interface]:
    """What the bridge holds: the gateway with the pod CIDR's prefix, and the cluster DNS address."""
    return [node.gateway_interface, ipaddress.IPv4Interface(f"{cluster_dns}/32")]


def ensure_bridge(node: LocalNode, *, bridge: str, cluster_dns: str) -> list[str]:
    """Make the bridge as it should be; what had to change (empty: it was right already)."""
    changed: list[str] = []
    with IPRoute() as ipr:
        found = ipr.link_lookup(ifname=bridge)
        if not found:
            ipr.link("add", ifname=bridge, kind="bridge")
            found = ipr.link_lookup(ifname=bridge)
            changed.append("created")
        index = found[0]
        link = ipr.get_links(index)[0]
        if int(link.get("mtu") or 0) != node.mtu:
            ipr.link("set", index=index, mtu=node.mtu)
            changed.append(f"mtu {node.mtu}")
        held = {(str(a.get("IFA_ADDRESS")), int(a["prefixlen"])) for a in ipr.get_addr(family=2, index=index)}
        for address in bridge_addresses(node, cluster_dns):
            if (str(address.ip), address.network.prefixlen) not in held:
                ipr.addr("add", index=index, address=str(address.ip), prefixlen=address.network.prefixlen)
                changed.append(f"address {address}")
        if not int(link["flags"]) & IFF_UP:
            ipr.link("set", index=index, state="up")
            changed.append("up")
    changed += ensure_sysctls()
    return changed


def ensure_sysctls(root: Path = PROC_SYS) -> list[str]:
    """Set the switches above in this namespace; a missing one is logged (br_netfilter not loaded)."""
    changed: list[str] = []
    for name, value in SYSCTLS.items():
        path = root / name
        try:
            if path.read_text().strip() != value:
                path.write_text(value)
                changed.append(f"{name.replace('/', '.')}={value}")
        except FileNotFoundError:
            log.warning(
                "kernel switch missing; same-node Service replies may not be un-NATed (modprobe br_netfilter)",
                sysctl=name.replace("/", "."),
            )
        except OSError as err:
            log.warning("cannot set a kernel switch", sysctl=name.replace("/", "."), error=str(err))
    return changed
