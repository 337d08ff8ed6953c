"""The scheduler running against an in-process service: pods get nodes, or say why not."""

from __future__ import annotations

import asyncio
import functools
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from edgekube.config import ControllerSettings
from edgekube.controllers.managing import run_controllers
from edgekube.resources.objects import Obj
from edgekube.scheduler.scheduling import Scheduler
from edgekube.scheduler.settings import SchedulerSettings
from edgekube.service import deleting
from edgekube.service.options import DeleteOptions, ListOptions, WriteOptions
from edgekube.service.resources import ResourceService
from tests.unit.scheduler.builders import node, pod

FAST = SchedulerSettings(initial_backoff_seconds=0.05, max_backoff_seconds=0.2)
CONTROL_PLANE_TAINT = ("node-role.kubernetes.io/control-plane", "", "NoSchedule")


@asynccontextmanager
async def scheduler_running(service: ResourceService) -> AsyncIterator[None]:
    """The scheduler, started the way the server starts it (run_controllers), with short backoffs."""
    cls = functools.partial(Scheduler, scheduling=FAST, rng=random.Random(7))
    task = asyncio.create_task(run_controllers(service=service, settings=ControllerSettings(), classes=[cls]))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def wait_for(check: Callable[[], Any], within: float = 5.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await check()
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def create(service: ResourceService, obj: Obj) -> Obj:
    strategy = service.registry.by_kind("", "v1", obj["kind"])
    assert strategy is not None
    namespace = obj["metadata"].get("namespace")
    return await service.create(strategy, namespace, obj, WriteOptions())


async def read_pod(service: ResourceService, name: str, namespace: str = "default") -> Obj:
    strategy = service.registry.by_kind("", "v1", "Pod")
    assert strategy is not None
    obj, _ = await service.read(strategy, namespace, name)
    return obj


async def node_of(service: ResourceService, name: str) -> str:
    return str((await read_pod(service, name))["spec"].get("nodeName") or "")


async def events_for(service: ResourceService, name: str, reason: str) -> list[Obj]:
    strategy = service.registry.by_kind("", "v1", "Event")
    assert strategy is not None
    page = await service.list(strategy, "default", ListOptions())
    found = page.decoded or [i.decode() for i in page.items]
    return [e for e in found if e["involvedObject"]["name"] == name and e["reason"] == reason]


def scheduled_condition(obj: Obj) -> Obj | None:
    return next((c for c in obj.get("status", {}).get("conditions") or [] if c["type"] == "PodScheduled"), None)


async def test_pod_goes_to_the_node_with_enough_memory(service: ResourceService) -> None:
    """Of three nodes, the pod lands on the only one with room for its memory request, and says so."""
    for name, memory in (("small", "1Gi"), ("medium", "2Gi"), ("large", "8Gi")):
        await create(service, node(name, memory=memory))
    async with scheduler_running(service):
        await create(service, pod("big", memory="4Gi"))
        assert await wait_for(lambda: node_of(service, "big")) == "large"
        (event,) = await wait_for(lambda: events_for(service, "big", "Scheduled"))
    assert event["type"] == "Normal"
    assert event["message"] == "Successfully assigned default/big to large"
    assert event["source"] == {"component": "default-scheduler"}
    assert scheduled_condition(await read_pod(service, "big"))["status"] == "True"  # type: ignore[index]


async def test_pod_that_fits_nowhere_waits_then_lands_on_a_new_node(service: ResourceService) -> None:
    """No fit: Pending with Kubernetes' message on the condition and event; a suitable new node takes it."""
    await create(service, node("worker", memory="1Gi"))
    await create(service, node("cp-1", memory="16Gi", taints=[CONTROL_PLANE_TAINT]))
    await create(service, node("cp-2", memory="16Gi", taints=[CONTROL_PLANE_TAINT]))
    expected = (
        "0/3 nodes are available: 1 Insufficient memory, "
        "2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }."
    )
    async with scheduler_running(service):
        await create(service, pod("waiting", memory="2Gi"))
        (event,) = await wait_for(lambda: events_for(service, "waiting", "FailedScheduling"))
        assert event["type"] == "Warning"
        assert event["message"] == expected
        assert event["source"] == {"component": "default-scheduler"}
        current = await read_pod(service, "waiting")
        assert current["status"]["phase"] == "Pending" and not current["spec"].get("nodeName")
        condition = scheduled_condition(current)
        assert condition is not None
        assert (condition["status"], condition["reason"], condition["message"]) == ("False", "Unschedulable", expected)

        await create(service, node("worker-2", memory="4Gi"))
        assert await wait_for(lambda: node_of(service, "waiting")) == "worker-2"
    assert scheduled_condition(await read_pod(service, "waiting"))["status"] == "True"  # type: ignore[index]


async def test_pods_of_one_replicaset_spread_evenly(service: ResourceService) -> None:
    """Six pods with the same controller spread 2/2/2 over three equal nodes."""
    for name in ("a", "b", "c"):
        await create(service, node(name, cpu="64", memory="256Gi"))
    async with scheduler_running(service):
        for i in range(6):
            await create(service, pod(f"web-{i}", cpu="10m", memory="16Mi", owner="rs-web-uid"))

        async def placed() -> list[str] | None:
            nodes = [await node_of(service, f"web-{i}") for i in range(6)]
            return nodes if all(nodes) else None

        nodes = await wait_for(placed)
    assert Counter(nodes) == {"a": 2, "b": 2, "c": 2}


async def test_taints_and_tolerations(service: ResourceService) -> None:
    """A tolerating pod may use a tainted node; others may not, nor use a node that is not ready."""
    await create(service, node("gpu", taints=[("dedicated", "gpu", "NoSchedule")]))
    await create(service, node("down", ready="False"))
    toleration = {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}
    async with scheduler_running(service):
        await create(service, pod("tolerant", tolerations=[toleration]))
        await create(service, pod("plain"))
        assert await wait_for(lambda: node_of(service, "tolerant")) == "gpu"
        (event,) = await wait_for(lambda: events_for(service, "plain", "FailedScheduling"))
    assert event["message"] == (
        "0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, "
        "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }."
    )
    assert not await node_of(service, "plain")


async def test_host_ports_are_held_once_per_node(service: ResourceService) -> None:
    """Two pods asking for host port 8080 get different nodes; a third fits nowhere."""
    await create(service, node("a"))
    await create(service, node("b"))
    async with scheduler_running(service):
        for name in ("p1", "p2"):
            await create(service, pod(name, host_ports=[8080]))

        async def both() -> set[str] | None:
            nodes = {await node_of(service, "p1"), await node_of(service, "p2")}
            return nodes if "" not in nodes else None

        assert await wait_for(both) == {"a", "b"}
        await create(service, pod("p3", host_ports=[8080]))
        (event,) = await wait_for(lambda: events_for(service, "p3", "FailedScheduling"))
        assert event["message"] == (
            "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports."
        )

        # Deleting a pod that holds the port frees it for the waiting one.
        strategy = service.registry.by_kind("", "v1", "Pod")
        assert strategy is not None
        holder = await node_of(service, "p1")
        await deleting.delete(service, strategy, "default", "p1", DeleteOptions(grace_period_seconds=0))
        assert await wait_for(lambda: node_of(service, "p3")) == holder


async def test_pods_for_another_scheduler_are_left_alone(service: ResourceService) -> None:
    """A pod naming another scheduler stays unassigned and gets no event from us."""
    await create(service, node("a"))
    other = pod("other")
    other["spec"]["schedulerName"] = "my-scheduler"
    async with scheduler_running(service):
        await create(service, other)
        await create(service, pod("ours"))
        assert await wait_for(lambda: node_of(service, "ours")) == "a"
        await asyncio.sleep(0.2)
    assert not await node_of(service, "other")
    assert not await events_for(service, "other", "FailedScheduling")


async def test_no_nodes_at_all(service: ResourceService) -> None:
    """With no nodes, the message is Kubernetes' 'no nodes available' one."""
    async with scheduler_running(service):
        await create(service, pod("lonely"))
        (event,) = await wait_for(lambda: events_for(service, "lonely", "FailedScheduling"))
    assert event["message"] == "no nodes available to schedule pods"
