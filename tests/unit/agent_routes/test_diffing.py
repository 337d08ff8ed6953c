"""Desired vs actual route state: the plan replaces, adds and deletes exactly the difference."""

from __future__ import annotations

import ipaddress

import pytest

from agent.network.routes_diffing import diff
from agent.network.routes_states import FdbEntry, Neighbour, Route, RouteState

IP = ipaddress.IPv4Address
NET = ipaddress.IPv4Network
B_NET, C_NET = NET("10.42.1.0/24"), NET("10.42.2.0/24")
B_GW = Route(B_NET, IP("198.18.0.3"))
B_GW_ACTUAL = Route(B_NET, IP("198.18.0.3"), "eth0")
B_MOVED = Route(B_NET, IP("198.18.0.13"))
C_GW_ACTUAL = Route(C_NET, IP("198.18.0.4"), "eth0")
B_VX = Route(B_NET, IP("10.42.1.0"), "ek-vxlan", onlink=True)
B_VX_NOT_ONLINK = Route(B_NET, IP("10.42.1.0"), "ek-vxlan")
FDB_B = FdbEntry("0e:6b:c6:12:00:03", IP("198.18.0.3"))
FDB_OLD = FdbEntry("0e:6b:c6:12:00:09", IP("198.18.0.9"))
NB_B = Neighbour(IP("10.42.1.0"), "0e:6b:c6:12:00:03")
NB_B_STALE = Neighbour(IP("10.42.1.0"), "0e:6b:c6:12:00:09")
NB_OLD = Neighbour(IP("10.42.9.0"), "0e:6b:c6:12:00:09")


def routes(*items: Route) -> dict[NET, Route]:
    return {r.dst: r for r in items}


@pytest.mark.parametrize(
    ("desired", "actual", "expected"),
    [
        (RouteState(routes(B_GW)), RouteState(routes(B_GW_ACTUAL)), {}),
        (RouteState(routes(B_GW)), RouteState(), {"replace_routes": [str(B_GW)]}),
        (RouteState(routes(B_MOVED)), RouteState(routes(B_GW_ACTUAL)), {"replace_routes": [str(B_MOVED)]}),
        (RouteState(routes(B_GW)), RouteState(routes(B_GW_ACTUAL, C_GW_ACTUAL)), {"delete_routes": [str(C_GW_ACTUAL)]}),
        (RouteState(routes(B_GW)), RouteState(routes(B_VX)), {"replace_routes": [str(B_GW)]}),
        (RouteState(routes(B_VX)), RouteState(routes(B_GW_ACTUAL)), {"replace_routes": [str(B_VX)]}),
        (RouteState(routes(B_VX)), RouteState(routes(B_VX_NOT_ONLINK)), {"replace_routes": [str(B_VX)]}),
        (RouteState(), RouteState(routes(B_GW_ACTUAL)), {"delete_routes": [str(B_GW_ACTUAL)]}),
        (
            RouteState(routes(B_VX), {FDB_B}, {NB_B.ip: NB_B}),
            RouteState(routes(B_VX), {FDB_B, FDB_OLD}, {NB_B.ip: NB_B_STALE, NB_OLD.ip: NB_OLD}),
            {"delete_fdb": [str(FDB_OLD)], "replace_neighbours": [str(NB_B)], "delete_neighbours": [str(NB_OLD)]},
        ),
        (
            RouteState(routes(B_VX), {FDB_B}, {NB_B.ip: NB_B}),
            RouteState(),
            {"replace_routes": [str(B_VX)], "add_fdb": [str(FDB_B)], "replace_neighbours": [str(NB_B)]},
        ),
    ],
    ids=[
        "in-sync",
        "missing",
        "address-changed",
        "node-left",
        "vxlan-to-host-gw",
        "host-gw-to-vxlan",
        "onlink-lost",
        "nothing-wanted",
        "vxlan-stale-entries",
        "vxlan-fresh",
    ],
)
def test_diff(desired: RouteState, actual: RouteState, expected: dict[str, list[str]]) -> None:
    """Only the differences end up in the plan; an equal state gives an empty plan."""
    plan = diff(desired, actual)
    assert plan.summary() == expected
    assert bool(plan) == bool(expected)
