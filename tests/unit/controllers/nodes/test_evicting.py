"""Taint-based eviction: at once, after tolerationSeconds counted from timeAdded, or never."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from edgekube.controllers.nodes.evicting import TaintEvictionController
from edgekube.controllers.nodes.taints import UNREACHABLE, eviction_time, tolerates
from tests.unit.controllers.nodes.harness import Bench

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def unreachable(stamp: str) -> dict[str, str]:
    return {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": stamp}


def tolerate(seconds: int | None = None, key: str = UNREACHABLE) -> dict[str, object]:
    found: dict[str, object] = {"key": key, "operator": "Exists", "effect": "NoExecute"}
    if seconds is not None:
        found["tolerationSeconds"] = seconds
    return found


async def test_untolerated_pod_is_deleted_at_once(bench: Bench) -> None:
    """No toleration for the NoExecute taint: a graceful delete now, with a TaintManagerEviction event."""
    await bench.node("b", ready="Unknown", taints=[unreachable(bench.clock.stamp())])
    await bench.pod("web", "b", tolerations=[])
    controller = bench.build(TaintEvictionController)
    await bench.prime()
    assert await bench.sync(controller, "default/web") is None
    assert await bench.writes() == [("MODIFIED", "core/pods", "default/web")]  # Terminating: its agent finishes
    pod = await bench.get("", "Pod", "default", "web")
    assert pod is not None and pod["metadata"]["deletionTimestamp"]
    assert bench.events.seen == [("TaintManagerEviction", "default/web", "Marking for deletion Pod default/web")]


async def test_toleration_seconds_counted_from_time_added(bench: Bench) -> None:
    """tolerationSeconds 1: requeued for the rest of the second, deleted when it is up."""
    await bench.node("b", ready="Unknown", taints=[unreachable(bench.clock.stamp())])
    await bench.pod("web", "b", tolerations=[tolerate(1)])
    controller = bench.build(TaintEvictionController)
    await bench.prime()
    bench.clock.advance(0.25)
    assert await bench.sync(controller, "default/web") == 0.75
    assert await bench.writes() == []
    bench.clock.advance(0.75)
    assert await bench.sync(controller, "default/web") is None
    assert await bench.writes() == [("MODIFIED", "core/pods", "default/web")]


async def test_tolerated_forever_stays(bench: Bench) -> None:
    """A toleration without tolerationSeconds keeps the pod (DaemonSet pods have these)."""
    await bench.node("b", ready="Unknown", taints=[unreachable(bench.clock.stamp())])
    await bench.pod("agent", "b", tolerations=[tolerate()])
    controller = bench.build(TaintEvictionController)
    await bench.prime()
    bench.clock.advance(3600)
    assert await bench.sync(controller, "default/agent") is None
    assert await bench.writes() == []


async def test_default_tolerations_wait_five_minutes(bench: Bench) -> None:
    """The admission defaults (300 s) mean a requeue for the full five minutes."""
    await bench.node("b", ready="Unknown", taints=[unreachable(bench.clock.stamp())])
    await bench.pod("web", "b", tolerations=[tolerate(300), tolerate(300, "node.kubernetes.io/not-ready")])
    controller = bench.build(TaintEvictionController)
    await bench.prime()
    assert await bench.sync(controller, "default/web") == 300.0


async def test_lifted_taint_cancels_the_eviction(bench: Bench) -> None:
    """The requeued sync finds the taint gone and leaves the pod alone."""
    await bench.node("b", ready="Unknown", taints=[unreachable(bench.clock.stamp())])
    await bench.pod("web", "b", tolerations=[tolerate(5)])
    controller = bench.build(TaintEvictionController)
    await bench.prime()
    assert await bench.sync(controller, "default/web") == 5.0
    await bench.set_node("b", lambda n: n["spec"].pop("taints"))
    await bench.prime()
    bench.clock.advance(5)
    assert await bench.sync(controller, "default/web") is None
    assert await bench.writes() == []


async def test_taint_change_requeues_pods_on_the_node(bench: Bench) -> None:
    """A new NoExecute taint on a node queues its bound pods."""
    await bench.node("b")
    await bench.pod("web", "b")
    await bench.pod("elsewhere", None)
    controller = bench.build(TaintEvictionController)
    await bench.prime()
    while len(controller.queue):
        controller.queue.done(await controller.queue.get())
    await bench.set_node("b", lambda n: n["spec"].update(taints=[unreachable(bench.clock.stamp())]))
    await bench.prime()
    assert [await controller.queue.get() for _ in range(len(controller.queue))] == ["default/web"]


@pytest.mark.parametrize(
    ("toleration", "taint", "expected"),
    [
        ({"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute"}, {"key": "k", "value": "v"}, True),
        ({"key": "k", "value": "v"}, {"key": "k", "value": "w", "effect": "NoExecute"}, False),
        ({"key": "k", "operator": "Exists"}, {"key": "k", "value": "w", "effect": "NoSchedule"}, True),
        ({"operator": "Exists"}, {"key": "anything", "effect": "NoExecute"}, True),
        ({"operator": "Exists", "effect": "NoSchedule"}, {"key": "k", "effect": "NoExecute"}, False),
        ({"key": "other", "operator": "Exists"}, {"key": "k", "effect": "NoExecute"}, False),
    ],
)
def test_tolerates(toleration: dict[str, object], taint: dict[str, object], expected: bool) -> None:
    """Kubernetes' matching: empty effect or key match all; Equal compares values."""
    if "effect" not in taint:
        taint = {**taint, "effect": "NoExecute"}
    assert tolerates(toleration, taint) is expected


@pytest.mark.parametrize(
    ("taints", "tolerations", "expected"),
    [
        ([], [], None),
        ([unreachable("2024-05-01T12:00:00Z")], [], T0 + timedelta(seconds=30)),
        ([unreachable("2024-05-01T12:00:00Z")], [tolerate(300)], T0 + timedelta(seconds=300)),
        ([unreachable("2024-05-01T12:00:00Z")], [tolerate()], None),
        ([unreachable("2024-05-01T12:00:00Z")], [tolerate(0)], T0 + timedelta(seconds=30)),
        ([unreachable("2024-05-01T12:00:00Z")], [tolerate(), tolerate(10)], None),  # the first match counts
        (
            [
                unreachable("2024-05-01T12:00:00Z"),
                {"key": "db", "effect": "NoExecute", "timeAdded": "2024-05-01T12:00:20Z"},
            ],
            [tolerate(300), tolerate(5, "db")],
            T0 + timedelta(seconds=25),
        ),
        ([{"key": "soft", "effect": "NoSchedule"}], [], None),
    ],
)
def test_eviction_time(taints: list[dict[str, object]], tolerations: list[dict[str, object]], expected: object) -> None:
    """The earliest of each NoExecute taint's timeAdded + its first matching toleration's seconds."""
    now = T0 + timedelta(seconds=30)
    assert eviction_time(taints, tolerations, now) == expected
