"""Node lifecycle: a quiet agent makes its node Unknown and tainted; a reporting one lifts that."""

from __future__ import annotations

import pytest

from edgekube.controllers.nodes.lifecycle import NodeLifecycleController
from edgekube.controllers.nodes.taints import NOT_READY, UNREACHABLE
from edgekube.errors import Conflict
from edgekube.service.options import WriteOptions
from tests.unit.controllers.nodes.harness import Bench

GRACE = 40.0  # node_monitor_grace_period's default


def taint_set(node: dict[str, object] | None) -> set[tuple[str, str]]:
    assert node is not None
    spec = node.get("spec") or {}
    assert isinstance(spec, dict)
    return {(t["key"], t["effect"]) for t in spec.get("taints") or []}


async def fleet(bench: Bench, names: list[str]) -> NodeLifecycleController:
    """Ready nodes with fresh leases, all seen once by a new controller."""
    for name in names:
        await bench.node(name)
        await bench.lease(name)
    controller: NodeLifecycleController = bench.build(NodeLifecycleController)
    await bench.prime()
    for name in names:
        assert await bench.sync(controller, name) is None
    assert await bench.writes() == []
    return controller


async def test_quiet_node_goes_unknown_tainted_and_its_pods_unready(bench: Bench) -> None:
    """Lease not renewed for the grace period: conditions Unknown, pods NotReady, unreachable taints."""
    controller = await fleet(bench, ["a", "b"])
    await bench.pod("web", "b", ready=True)
    bench.clock.advance(GRACE + 1)
    await bench.lease("a")
    await bench.prime()
    assert await bench.sync(controller, "b") is None
    assert await bench.writes() == [
        ("MODIFIED", "core/nodes", "b"),
        ("MODIFIED", "core/pods", "default/web"),
        ("MODIFIED", "core/nodes", "b"),
    ]
    node = await bench.get("", "Node", None, "b")
    assert node is not None
    conditions = {c["type"]: c for c in node["status"]["conditions"]}
    assert conditions["Ready"]["status"] == "Unknown"
    assert conditions["Ready"]["reason"] == "NodeStatusUnknown"
    assert conditions["Ready"]["message"] == "Kubelet stopped posting node status."
    assert conditions["Ready"]["lastTransitionTime"] == bench.clock.stamp()
    for kind in ("MemoryPressure", "DiskPressure", "PIDPressure"):
        assert conditions[kind]["status"] == "Unknown"
        assert conditions[kind]["reason"] == "NodeStatusNeverUpdated"
    assert taint_set(node) == {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}
    assert all(t["timeAdded"] == bench.clock.stamp() for t in node["spec"]["taints"])
    pod = await bench.get("", "Pod", "default", "web")
    assert pod is not None
    assert [c["status"] for c in pod["status"]["conditions"] if c["type"] == "Ready"] == ["False"]
    assert bench.events.seen == [
        ("NodeNotReady", "b", "Node b status is now: NodeNotReady"),
        ("NodeNotReady", "default/web", "Node is not ready"),
    ]


async def test_renewed_lease_keeps_node_ready(bench: Bench) -> None:
    """Grace is counted from when a renewal was last seen, not from the first sight."""
    controller = await fleet(bench, ["a", "b"])
    bench.clock.advance(30)
    await bench.lease("b")
    await bench.prime()
    await bench.sync(controller, "b")
    bench.clock.advance(30)  # 60 s since the start, 30 s since the renewal
    await bench.prime()
    await bench.sync(controller, "b")
    assert await bench.writes() == []


async def test_heartbeat_without_lease_counts(bench: Bench) -> None:
    """With no Lease, the Ready condition's lastHeartbeatTime is the sign of life."""
    await bench.node("a")
    await bench.node("b")
    controller: NodeLifecycleController = bench.build(NodeLifecycleController)
    await bench.prime()
    await bench.sync(controller, "b")
    bench.clock.advance(30)
    await bench.report("b", "True")
    await bench.prime()
    await bench.sync(controller, "b")
    bench.clock.advance(30)
    await bench.prime()
    await bench.sync(controller, "b")
    assert await bench.writes() == []
    bench.clock.advance(11)
    await bench.sync(controller, "b")
    assert (await bench.writes())[0] == ("MODIFIED", "core/nodes", "b")


async def test_agent_reporting_not_ready_gets_not_ready_taints(bench: Bench) -> None:
    """Ready=False from a live agent: not-ready NoSchedule and NoExecute, no status write."""
    controller = await fleet(bench, ["a", "b"])
    await bench.report("b", "False")
    await bench.prime()
    await bench.sync(controller, "b")
    assert await bench.writes() == [("MODIFIED", "core/nodes", "b")]
    node = await bench.get("", "Node", None, "b")
    assert taint_set(node) == {(NOT_READY, "NoSchedule"), (NOT_READY, "NoExecute")}
    assert bench.events.seen == []


async def test_recovery_lifts_taints_once_the_agent_reports(bench: Bench) -> None:
    """A resumed lease alone leaves Ready Unknown; the agent's Ready=True lifts the taints."""
    controller = await fleet(bench, ["a", "b"])
    bench.clock.advance(GRACE + 1)
    await bench.lease("a")
    await bench.prime()
    await bench.sync(controller, "b")
    bench.clock.advance(5)
    await bench.lease("b")
    await bench.prime()
    await bench.sync(controller, "b")
    assert await bench.writes() == []
    await bench.report("b", "True")
    await bench.prime()
    await bench.sync(controller, "b")
    assert await bench.writes() == [("MODIFIED", "core/nodes", "b")]
    node = await bench.get("", "Node", None, "b")
    assert node is not None and "taints" not in node["spec"]


async def test_unreachable_replaces_not_ready_at_once(bench: Bench) -> None:
    """A not-ready node that then goes quiet swaps its NoExecute taint, with a new timeAdded."""
    controller = await fleet(bench, ["a", "b", "c", "d"])
    await bench.report("b", "False")
    await bench.prime()
    await bench.sync(controller, "b")
    bench.clock.advance(GRACE + 1)
    for name in ("a", "c", "d"):
        await bench.lease(name)
    await bench.prime()
    await bench.sync(controller, "b")
    node = await bench.get("", "Node", None, "b")
    assert taint_set(node) == {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}
    assert {t["timeAdded"] for t in node["spec"]["taints"]} == {bench.clock.stamp()}  # type: ignore[index]


async def test_whole_fleet_down_gets_no_no_execute_taint(bench: Bench) -> None:
    """No node Ready anywhere: the server is the likely one cut off, so nothing is set to evict."""
    controller = await fleet(bench, ["only"])
    bench.clock.advance(GRACE + 1)
    await bench.prime()
    await bench.sync(controller, "only")
    node = await bench.get("", "Node", None, "only")
    assert taint_set(node) == {(UNREACHABLE, "NoSchedule")}


async def test_new_no_execute_taints_are_rate_limited_per_zone(bench: Bench) -> None:
    """One node per 10 s gains a NoExecute taint; the next one is requeued for exactly that long."""
    controller = await fleet(bench, ["a", "b", "c", "d", "e"])
    bench.clock.advance(GRACE + 1)
    for name in ("a", "d", "e"):
        await bench.lease(name)
    await bench.prime()
    assert await bench.sync(controller, "b") is None
    await bench.prime()
    assert await bench.sync(controller, "c") == 10.0
    assert taint_set(await bench.get("", "Node", None, "c")) == {(UNREACHABLE, "NoSchedule")}
    bench.clock.advance(10)
    await bench.prime()
    assert await bench.sync(controller, "c") is None
    assert (UNREACHABLE, "NoExecute") in taint_set(await bench.get("", "Node", None, "c"))


async def test_partial_disruption_of_a_small_zone_taints_no_more(bench: Bench) -> None:
    """Three of five nodes down (>55 %): no new NoExecute taint and no requeue."""
    controller = await fleet(bench, ["a", "b", "c", "d", "e"])
    bench.clock.advance(GRACE + 1)
    for name in ("a", "b"):
        await bench.lease(name)
    await bench.prime()
    for name in ("c", "d", "e"):
        await bench.sync(controller, name)
    await bench.prime()
    assert [await bench.sync(controller, name) for name in ("c", "d", "e")] == [None, None, None]
    tainted = [taint_set(await bench.get("", "Node", None, n)) for n in ("c", "d", "e")]
    # First pass: c is tainted (zone Normal), d and e wait for the rate limit. Second pass:
    # three of five are down, the zone is partially disrupted, and nothing more is tainted.
    assert [(UNREACHABLE, "NoExecute") in t for t in tainted] == [True, False, False]


async def test_conditions_and_cordon_become_no_schedule_taints(bench: Bench) -> None:
    """Pressure conditions and spec.unschedulable map to their NoSchedule taints; user taints stay."""
    user = {"key": "dedicated", "value": "db", "effect": "NoExecute"}
    await bench.node("a")
    await bench.node("b", unschedulable=True, taints=[user])
    await bench.lease("a")
    await bench.lease("b")

    def pressure(node: dict[str, object]) -> None:
        node["status"]["conditions"].append(bench.condition("DiskPressure", "True"))  # type: ignore[index]

    strategy = bench.kind("", "Node")
    node = await bench.get("", "Node", None, "b")
    assert node is not None
    pressure(node)
    await bench.service.update(strategy, None, "b", node, WriteOptions(), subresource="status")
    controller: NodeLifecycleController = bench.build(NodeLifecycleController)
    await bench.prime()
    await bench.sync(controller, "b")
    node = await bench.get("", "Node", None, "b")
    assert node is not None
    assert [(t["key"], t["effect"]) for t in node["spec"]["taints"]] == [
        ("dedicated", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ]


async def test_agent_report_racing_the_mark_wins(bench: Bench) -> None:
    """A status the agent writes after the cache was read stops the Unknown mark: 409, then judged again."""
    controller = await fleet(bench, ["a", "b"])
    bench.clock.advance(GRACE + 1)
    await bench.lease("a")
    await bench.prime()
    await bench.report("b", "True")
    with pytest.raises(Conflict):
        await controller.sync("b")
    await bench.prime()
    await bench.sync(controller, "b")
    assert await bench.writes() == []
    node = await bench.get("", "Node", None, "b")
    assert node is not None and node["status"]["conditions"][0]["status"] == "True"
