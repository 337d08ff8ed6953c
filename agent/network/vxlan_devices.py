"""The VXLAN device `ek-vxlan` of the vxlan backend: wanted parameters, and making the kernel match.

Settings and the local node in -> a `VxlanSpec`; the kernel's link is compared with it and
either kept (address, MAC, MTU and state fixed in place) or, when a parameter that cannot be
changed on a live device differs (VNI, port, local address, underlying device, learning),
deleted and created afresh. Deleting the device also drops every route, fdb entry and
neighbour through it, which is how switching to host-gw cleans up.

    node 198.18.0.2, pod CIDR 10.42.0.0/24 ->
        ek-vxlan: vxlan id 1 dstport 8472 local 198.18.0.2 dev eth0 nolearning
                  address 0e:6b:c6:12:00:02, 10.42.0.0/32, mtu 1450, up

The blocking functions take an open pyroute2 `IPRoute` and run in a worker thread.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any

import structlog

from agent.network.local import LocalNode, vtep_mac
from agent.network.netlink import IPRoute
from agent.network.routes_states import VXLAN_DEVICE
from agent.settings import NetworkSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class VxlanSpec:
    name: str
    vni: int
    port: int
    local: ipaddress.IPv4Address
    link: str
    """The device VXLAN packets leave through ('' : whichever the route to the peer picks)."""
    mac: str
    address: ipaddress.IPv4Interface
    mtu: int


def vxlan_spec(settings: NetworkSettings, node: LocalNode) -> VxlanSpec:
    return VxlanSpec(
        name=VXLAN_DEVICE,
        vni=settings.vxlan_id,
        port=settings.vxlan_port,
        local=node.ip,
        link=node.interface,
        mac=vtep_mac(node.ip),
        # /32, as flannel does: the device needs an address as the source of its own packets,
        # but no connected route (the per-node routes say where each remote CIDR is).
        address=ipaddress.IPv4Interface(f"{node.pod_cidr.network_address}/32"),
        mtu=node.mtu,
    )


def fixed_mismatches(spec: VxlanSpec, kind: str | None, data: dict[str, Any], link_index: int | None) -> list[str]:
    """Parameters of an existing device that differ from `spec` and need it recreated (pure).

    `data` is its IFLA_INFO_DATA as a dict of attribute name -> value; `link_index` the
    index of `spec.link` (None when `spec.link` is '').
    """
    if kind != "vxlan":
        return [f"kind {kind} is not vxlan"]
    wanted: dict[str, Any] = {
        "IFLA_VXLAN_ID": spec.vni,
        "IFLA_VXLAN_PORT": spec.port,
        "IFLA_VXLAN_LOCAL": str(spec.local),
        "IFLA_VXLAN_LEARNING": 0,
    }
    if link_index is not None:
        wanted["IFLA_VXLAN_LINK"] = link_index
    return [f"{key} is {data.get(key)!r}, wants {value!r}" for key, value in wanted.items() if data.get(key) != value]


def ensure_vxlan(ipr: IPRoute, spec: VxlanSpec) -> int:
    """Make `spec.name` exist as specified and be up; its interface index."""
    link_index = _index(ipr, spec.link) if spec.link else None
    if spec.link and link_index is None:
        raise LookupError(f"device {spec.link} (the node's interface) does not exist")
    index = _index(ipr, spec.name)
    if index is not None:
        (link,) = ipr.get_links(index)
        info = link.get_attr("IFLA_LINKINFO")
        kind = info.get_attr("IFLA_INFO_KIND") if info else None
        data_nla = info.get_attr("IFLA_INFO_DATA") if info else None
        data = dict(data_nla["attrs"]) if data_nla else {}
        wrong = fixed_mismatches(spec, kind, data, link_index)
        if wrong:
            log.info("replacing VXLAN device", device=spec.name, differences=wrong)
            ipr.link("del", index=index)
            index = None
    if index is None:
        extra = {"vxlan_link": link_index} if link_index is not None else {}
        ipr.link(
            "add",
            ifname=spec.name,
            kind="vxlan",
            vxlan_id=spec.vni,
            vxlan_port=spec.port,
            vxlan_local=str(spec.local),
            vxlan_learning=0,
            address=spec.mac,
            mtu=spec.mtu,
            **extra,
        )
        index = _index(ipr, spec.name)
        if index is None:
            raise LookupError(f"device {spec.name} vanished right after it was created")
        log.info("created VXLAN device", device=spec.name, vni=spec.vni, local=str(spec.local), link=spec.link)
    _fix_in_place(ipr, index, spec)
    return index


def _fix_in_place(ipr: IPRoute, index: int, spec: VxlanSpec) -> None:
    (link,) = ipr.get_links(index)
    changes: dict[str, Any] = {}
    if link.get_attr("IFLA_ADDRESS") != spec.mac:
        changes["address"] = spec.mac
    if link.get_attr("IFLA_MTU") != spec.mtu:
        changes["mtu"] = spec.mtu
    if changes:
        ipr.link("set", index=index, **changes)
    addresses = {
        ipaddress.IPv4Interface(f"{a.get_attr('IFA_LOCAL') or a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}")
        for a in ipr.get_addr(index=index, family=socket.AF_INET)
    }
    for stale in addresses - {spec.address}:
        ipr.addr("del", index=index, address=str(stale.ip), prefixlen=stale.network.prefixlen)
    if spec.address not in addresses:
        ipr.addr("add", index=index, address=str(spec.address.ip), prefixlen=spec.address.network.prefixlen)
    if not link["flags"] & 1:  # IFF_UP
        ipr.link("set", index=index, state="up")


def delete_vxlan(ipr: IPRoute, name: str = VXLAN_DEVICE) -> bool:
    """Delete the device (and with it every route, fdb entry and neighbour through it); whether it existed."""
    index = _index(ipr, name)
    if index is None:
        return False
    ipr.link("del", index=index)
    return True


def _index(ipr: IPRoute, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return int(found[0]) if found else None
