"""`edgekube agent --cleanup`: remove every trace of the pod network from this node's namespace.

    nft tables   family ip, name starting with settings.nft_table (edgekube, edgekube_hostports, ...)
    links        the bridge (ek0), every ekv* veth, the VXLAN device ek-vxlan
    routes       every IPv4 route with proto 101 (ours), in any table
    files        <agent_dir>/network (node.json, addresses.json)

Pods' containers are left alone (they lose their network; a restarted agent wires them
again). Only what carries our names or our route protocol is touched. Each removal is
reported as a line; nothing to remove is not an error. Blocking parts run in threads.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import structlog

from agent.network.attaching import STATE_DIR
from agent.network.netlink import IPRoute, NetlinkError
from agent.network.nft import NftError, delete_table, nft_available, run_nft
from agent.network.wiring import VETH_PREFIX
from agent.settings import AgentSettings

log = structlog.get_logger(__name__)
ROUTE_PROTO = 101
VXLAN_DEVICE = "ek-vxlan"


async def our_tables(prefix: str) -> list[str]:
    """Names of `ip` tables whose name starts with `prefix`."""
    if not nft_available():
        return []
    listed = json.loads(await run_nft("-j", "list", "tables", "ip"))
    names = [
        str(item["table"]["name"])
        for item in listed.get("nftables", [])
        if "table" in item and item["table"].get("family") == "ip"
    ]
    return [n for n in names if n.startswith(prefix)]


def remove_links_and_routes(bridge: str) -> list[str]:
    """Routes with proto 101, then ekv* veths, ek-vxlan and the bridge. Blocking (netlink)."""
    removed: list[str] = []
    with IPRoute() as ipr:
        for route in ipr.get_routes(family=2, proto=ROUTE_PROTO):  # every table
            dst = f"{route.get('RTA_DST') or '0.0.0.0'}/{route['dst_len']}"
            table = route.get("RTA_TABLE") or route["table"]
            try:
                ipr.route("del", dst=dst, table=table, proto=ROUTE_PROTO)
                removed.append(f"route {dst} table {table} proto {ROUTE_PROTO}")
            except NetlinkError as err:
                log.warning("cannot delete a route", dst=dst, table=table, error=str(err))
        names = [str(link.get("ifname")) for link in ipr.get_links()]
        doomed = [n for n in names if n.startswith(VETH_PREFIX)]
        doomed += [n for n in (VXLAN_DEVICE, bridge) if n in names]
        for name in doomed:
            found = ipr.link_lookup(ifname=name)
            if not found:
                continue  # a veth whose peer went first
            try:
                ipr.link("del", index=found[0])
                removed.append(f"link {name}")
            except NetlinkError as err:
                log.warning("cannot delete a link", link=name, error=str(err))
    return removed


def remove_state(agent_dir: Path) -> list[str]:
    state = agent_dir / STATE_DIR
    if not state.exists():
        return []
    shutil.rmtree(state)
    return [f"directory {state}"]


async def clean_node(settings: AgentSettings) -> list[str]:
    """Remove all of the above; one line per thing removed."""
    network = settings.network
    removed: list[str] = []
    for table in await our_tables(network.nft_table):
        try:
            if await delete_table("ip", table):
                removed.append(f"nft table ip {table}")
        except NftError as err:
            log.warning("cannot delete an nft table", table=table, error=str(err))
    removed += await asyncio.to_thread(remove_links_and_routes, network.bridge)
    removed += await asyncio.to_thread(remove_state, settings.agent_dir)
    return removed
