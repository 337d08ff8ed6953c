"""Per-pod wiring: a veth pair from the node's bridge into the pod's network namespace.

    node namespace                         pod namespace (/proc/<infra pid>/ns/net)
    ek0 (bridge) <- ekv1a2b3c4d  ======  eth0 10.42.3.7/24, default via 10.42.3.1; lo up

The pod end is created directly inside the pod's namespace (never in the node's, so a
name can not collide there), already called eth0. Host ends are named `ekv` + the first
8 hex digits of the pod uid, so cleanup and teardown find them by name alone.

Invariants: `wire` is idempotent and may be called again after any partial failure (a
stale host end is deleted first, which takes its peer with it); `is_wired` is the check
that decides whether an adopted pod is left alone. Blocking (netlink): callers use
`asyncio.to_thread`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from agent.network.namespaces import run_in_netns
from agent.network.netlink import IPRoute, NetlinkError

VETH_PREFIX = "ekv"
POD_IFNAME = "eth0"
IFF_UP = 0x1
BRIDGE_MODE_HAIRPIN = 1  # IFLA_BRPORT_MODE: send frames back out of the port they came in by
ENODEV = 19


def host_veth_name(uid: str) -> str:
    """ekv + the first 8 hex digits of the uid: 11 characters, well within IFNAMSIZ (15)."""
    hexes = "".join(ch for ch in uid.lower() if ch in "0123456789abcdef")
    return f"{VETH_PREFIX}{hexes[:8]:0<8}"


@dataclass(frozen=True)
class PodLink:
    """Everything one pod's wiring is made of."""

    uid: str
    netns_path: str
    address: ipaddress.IPv4Interface
    """The pod's address with the pod CIDR's prefix, e.g. 10.42.3.7/24."""
    gateway: ipaddress.IPv4Address
    mtu: int
    bridge: str

    @property
    def host_name(self) -> str:
        return host_veth_name(self.uid)


class WiringError(Exception):
    """The kernel refused a step; the message says which."""


def wire(link: PodLink) -> None:
    """Create (or create again) the pair and configure both ends."""
    try:
        with IPRoute() as ipr:
            bridge = _index(ipr, link.bridge)
            if bridge is None:
                raise WiringError(f"bridge {link.bridge} does not exist")
            stale = _index(ipr, link.host_name)
            if stale is not None:
                ipr.link("del", index=stale)
            ipr.link(
                "add",
                ifname=link.host_name,
                kind="veth",
                peer={"ifname": POD_IFNAME, "net_ns_fd": link.netns_path},
            )
            host = _index(ipr, link.host_name)
            assert host is not None
            ipr.link("set", index=host, master=bridge, mtu=link.mtu, state="up")
            # Hairpin: a pod reaching itself through its Service comes back (DNATed by the node,
            # seen by the bridge through br_netfilter) out of the port it went in by.
            ipr.brport("set", index=host, mode=BRIDGE_MODE_HAIRPIN)
        run_in_netns(link.netns_path, lambda: _configure_pod_side(link))
    except NetlinkError as err:
        raise WiringError(f"wiring pod {link.uid}: {err}") from err
    except OSError as err:  # the namespace went away (its infra process died)
        raise WiringError(f"wiring pod {link.uid} in {link.netns_path}: {err}") from err


def _configure_pod_side(link: PodLink) -> None:
    """Inside the pod's namespace: lo up; eth0's MTU, address, up; the default route."""
    with IPRoute() as pod:
        lo = _index(pod, "lo")
        if lo is not None:
            pod.link("set", index=lo, state="up")
        eth0 = _index(pod, POD_IFNAME)
        if eth0 is None:
            raise WiringError(f"{POD_IFNAME} did not appear in {link.netns_path}")
        pod.link("set", index=eth0, mtu=link.mtu)
        pod.addr("add", index=eth0, address=str(link.address.ip), prefixlen=link.address.network.prefixlen)
        pod.link("set", index=eth0, state="up")
        pod.route("replace", dst="0.0.0.0/0", gateway=str(link.gateway), oif=eth0)


def _pod_side_wired(link: PodLink) -> bool:
    """Inside the pod's namespace: eth0 up with the address, and the default route via the gateway."""
    with IPRoute() as pod:
        eth0 = _index(pod, POD_IFNAME)
        if eth0 is None or not int(pod.get_links(eth0)[0]["flags"]) & IFF_UP:
            return False
        held = {(str(a.get("IFA_ADDRESS")), int(a["prefixlen"])) for a in pod.get_addr(family=2, index=eth0)}
        if (str(link.address.ip), link.address.network.prefixlen) not in held:
            return False
        routes = pod.get_routes(family=2, dst_len=0, table=254)
        return any(r.get("RTA_GATEWAY") == str(link.gateway) for r in routes)


def is_wired(link: PodLink) -> bool:
    """Both ends as `wire` leaves them: host end up on the bridge; eth0 up with the address and route."""
    try:
        with IPRoute() as ipr:
            bridge, host = _index(ipr, link.bridge), _index(ipr, link.host_name)
            if bridge is None or host is None:
                return False
            info = ipr.get_links(host)[0]
            if info.get("IFLA_MASTER") != bridge or not int(info["flags"]) & IFF_UP:
                return False
        return run_in_netns(link.netns_path, lambda: _pod_side_wired(link))
    except (NetlinkError, OSError):
        return False


def unwire(uid: str) -> bool:
    """Delete the pod's host end (its peer goes with it); whether there was one."""
    with IPRoute() as ipr:
        index = _index(ipr, host_veth_name(uid))
        if index is None:
            return False
        try:
            ipr.link("del", index=index)
        except NetlinkError as err:
            if err.code == ENODEV:  # went with its namespace meanwhile
                return False
            raise
        return True


def host_veths() -> list[str]:
    """Names of every `ekv*` link in this namespace."""
    with IPRoute() as ipr:
        names = [str(link.get("ifname")) for link in ipr.get_links()]
    return [n for n in names if n.startswith(VETH_PREFIX)]


def _index(ipr: IPRoute, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return int(found[0]) if found else None
