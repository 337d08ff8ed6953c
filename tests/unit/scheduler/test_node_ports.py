"""NodePorts: one pod per (protocol, port, address) on a node; 0.0.0.0 takes every address."""

from __future__ import annotations

import pytest

from edgekube.scheduler.plugins.node_ports import REASON, NodePorts
from edgekube.scheduler.statuses import SKIP, Code
from tests.unit.scheduler.builders import cache_of, node, pod, run_filter

Port = int | tuple[int, str, str]


@pytest.mark.parametrize(
    ("used", "wanted", "code"),
    [
        pytest.param([], [8080], Code.SUCCESS, id="free"),
        pytest.param([8080], [8080], Code.UNSCHEDULABLE, id="same-port"),
        pytest.param([8080], [8081], Code.SUCCESS, id="other-port"),
        pytest.param([(53, "UDP", "")], [53], Code.SUCCESS, id="other-protocol"),
        pytest.param([(53, "UDP", "")], [(53, "UDP", "")], Code.UNSCHEDULABLE, id="same-udp"),
        pytest.param([(80, "TCP", "10.0.0.1")], [(80, "TCP", "10.0.0.2")], Code.SUCCESS, id="different-addresses"),
        pytest.param([(80, "TCP", "10.0.0.1")], [(80, "TCP", "10.0.0.1")], Code.UNSCHEDULABLE, id="same-address"),
        pytest.param([(80, "TCP", "10.0.0.1")], [80], Code.UNSCHEDULABLE, id="all-addresses-vs-one"),
        pytest.param([80], [(80, "TCP", "10.0.0.1")], Code.UNSCHEDULABLE, id="one-vs-all-addresses"),
        pytest.param([(80, "TCP", "0.0.0.0")], [80], Code.UNSCHEDULABLE, id="explicit-all-addresses"),
        pytest.param([8080], [], SKIP.code, id="pod-without-host-ports"),
    ],
)
def test_filter(used: list[Port], wanted: list[Port], code: Code) -> None:
    """A host port clashes with the same protocol and port on the same (or every) address."""
    existing = pod("holder", node_name="n1", host_ports=used)
    cache = cache_of([node("n1")], [existing])
    status = run_filter(NodePorts(), pod("new", host_ports=wanted), cache, "n1")
    assert status.code is code
    if code is Code.UNSCHEDULABLE:
        assert status.reasons == (REASON,) == ("node(s) didn't have free ports for the requested pod ports",)


def test_removed_pod_frees_its_port() -> None:
    """Once the holder leaves the node, the port is free again."""
    cache = cache_of([node("n1")], [pod("holder", node_name="n1", host_ports=[8080])])
    cache.remove_pod("default/holder")
    assert run_filter(NodePorts(), pod("new", host_ports=[8080]), cache, "n1").ok
