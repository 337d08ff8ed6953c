"""Pod GC: pods of vanished nodes, and Terminating pods no agent will finish, are force-deleted."""

from __future__ import annotations

from edgekube.controllers.nodes.podgc import PodGCController
from edgekube.controllers.nodes.taints import OUT_OF_SERVICE, UNREACHABLE
from tests.unit.controllers.nodes.harness import Bench


async def test_pod_of_a_deleted_node_is_force_deleted(bench: Bench) -> None:
    """The node is gone (checked against the store) for the 40 s quarantine: the pod goes with grace 0."""
    await bench.node("gone")
    await bench.pod("web", "gone")
    await bench.delete("", "Node", None, "gone")
    controller = bench.build(PodGCController)
    await bench.prime()
    assert await bench.sync(controller, "default/web") == 40.0
    assert await bench.writes() == []
    bench.clock.advance(40)
    await bench.sync(controller, "default/web")
    assert await bench.writes() == [("DELETED", "core/pods", "default/web")]


async def test_node_missing_only_from_the_cache_is_not_gone(bench: Bench) -> None:
    """A node created after the cache was filled is read from the store: the pod stays."""
    controller = bench.build(PodGCController)
    await bench.pod("web", "new")
    await bench.prime()
    await bench.node("new")
    await bench.sync(controller, "default/web")
    assert await bench.writes() == [("ADDED", "core/nodes", "new")]


async def test_terminating_on_unreachable_node_waits_then_goes(bench: Bench) -> None:
    """Unreachable since T, 30 s grace, 40 s monitor grace: force-deleted at T + 70 s."""
    taint = {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": bench.clock.stamp()}
    await bench.node("b", ready="Unknown", taints=[taint])
    await bench.pod("web", "b", grace=30)
    await bench.delete("", "Pod", "default", "web")
    controller = bench.build(PodGCController)
    await bench.prime()
    bench.clock.advance(10)
    assert await bench.sync(controller, "default/web") == 60.0
    assert await bench.writes() == []
    bench.clock.advance(60)
    assert await bench.sync(controller, "default/web") is None
    assert await bench.writes() == [("DELETED", "core/pods", "default/web")]


async def test_terminating_on_healthy_node_is_left_to_its_agent(bench: Bench) -> None:
    """A Ready node's agent finishes its own pods."""
    await bench.node("a")
    await bench.pod("web", "a")
    await bench.delete("", "Pod", "default", "web")
    controller = bench.build(PodGCController)
    await bench.prime()
    bench.clock.advance(3600)
    assert await bench.sync(controller, "default/web") is None
    assert await bench.writes() == []


async def test_out_of_service_node_releases_its_pods(bench: Bench) -> None:
    """An operator's out-of-service taint on a node that is not Ready: force-deleted at once."""
    await bench.node("b", ready="False", taints=[{"key": OUT_OF_SERVICE, "effect": "NoExecute"}])
    await bench.pod("web", "b")
    await bench.delete("", "Pod", "default", "web")
    controller = bench.build(PodGCController)
    await bench.prime()
    await bench.sync(controller, "default/web")
    assert await bench.writes() == [("DELETED", "core/pods", "default/web")]
