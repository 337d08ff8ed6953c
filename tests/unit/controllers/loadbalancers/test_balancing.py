"""The load balancer controller puts every Ready, schedulable node's InternalIP in a LoadBalancer's status."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from edgekube.controllers.loadbalancers import LoadBalancerController
from edgekube.controllers.loadbalancers.addresses import desired_ingress, node_ingress
from edgekube.resources.objects import Obj
from tests.unit.controllers.garbage.harness import Harness, poll


def node_status(ip: str | None, ready: str = "True") -> Obj:
    addresses = [{"type": "Hostname", "address": "h"}]
    if ip is not None:
        addresses.append({"type": "InternalIP", "address": ip})
    return {"conditions": [{"type": "Ready", "status": ready}], "addresses": addresses}


def node(name: str, ip: str | None, ready: str = "True", unschedulable: bool = False) -> Obj:
    return {
        "metadata": {"name": name},
        "spec": {"unschedulable": unschedulable} if unschedulable else {},
        "status": node_status(ip, ready),
    }


def lb(name: str, **spec: Any) -> Obj:
    spec.setdefault("type", "LoadBalancer")
    spec.setdefault("ports", [{"port": 80}])
    return {"metadata": {"name": name}, "spec": spec}


@pytest.mark.parametrize(
    ("nodes", "ips"),
    [
        ([], []),
        ([node("a", "10.0.0.10"), node("b", "10.0.0.9")], ["10.0.0.9", "10.0.0.10"]),
        ([node("a", "10.0.0.1"), node("b", "10.0.0.1")], ["10.0.0.1"]),
        ([node("a", "10.0.0.1", ready="False"), node("b", "10.0.0.2", ready="Unknown")], []),
        ([node("a", "10.0.0.1", unschedulable=True), node("b", "10.0.0.2")], ["10.0.0.2"]),
        ([node("a", None), node("b", "not-an-ip")], []),
        ([{"metadata": {"name": "bare"}}], []),
    ],
)
def test_node_ingress(nodes: list[Obj], ips: list[str]) -> None:
    """Ready, schedulable nodes with an InternalIP; sorted numerically, each address once."""
    assert node_ingress(nodes) == [{"ip": ip} for ip in ips]


@pytest.mark.parametrize(
    ("svc", "expected"),
    [
        (lb("x"), [{"ip": "10.0.0.1"}]),
        (lb("x", loadBalancerClass="example.com/other"), None),
        (lb("x", type="NodePort"), []),
        (lb("x", type="ClusterIP"), []),
    ],
)
def test_desired_ingress(svc: Obj, expected: list[Obj] | None) -> None:
    """Ours: node addresses; another class: hands off; another type: nothing."""
    assert desired_ingress(svc, [node("a", "10.0.0.1")]) == expected


async def add_node(harness: Harness, body: Obj) -> None:
    await harness.create("", "Node", None, {"metadata": body["metadata"], "spec": body["spec"]}, body["status"])


async def ingress(harness: Harness, name: str) -> list[Any]:
    svc = await harness.read("", "Service", "default", name)
    assert svc is not None
    return list(((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or [])


async def test_sync_writes_node_addresses(harness: Harness) -> None:
    """One sync writes the status of a LoadBalancer Service; a second writes nothing."""
    controller: LoadBalancerController = harness.build(LoadBalancerController)
    await add_node(harness, node("b", "10.0.0.2"))
    await add_node(harness, node("a", "10.0.0.1"))
    await add_node(harness, node("c", "10.0.0.3", ready="False"))
    await harness.create("", "Service", "default", lb("web"))
    await harness.prime()
    await controller.sync("default/web")
    assert await harness.writes() == [("MODIFIED", "core/services", "default/web")]
    assert await ingress(harness, "web") == [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]
    await harness.prime()
    await controller.sync("default/web")
    assert await harness.writes() == []


async def test_other_class_and_types_are_left_alone(harness: Harness) -> None:
    """A Service with a loadBalancerClass, or a plain ClusterIP, gets no write."""
    controller: LoadBalancerController = harness.build(LoadBalancerController)
    await add_node(harness, node("a", "10.0.0.1"))
    await harness.create("", "Service", "default", lb("other", loadBalancerClass="example.com/lb"))
    await harness.create("", "Service", "default", lb("plain", type="ClusterIP"))
    await harness.prime()
    for key in ("default/other", "default/plain", "default/missing"):
        await controller.sync(key)
    assert await harness.writes() == []


async def test_status_is_cleared_when_the_type_changes(harness: Harness) -> None:
    """A Service that stops being a LoadBalancer loses its ingress entries."""
    controller: LoadBalancerController = harness.build(LoadBalancerController)
    await add_node(harness, node("a", "10.0.0.1"))
    made = await harness.create(
        "", "Service", "default", lb("web"), {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}
    )
    changed = {**made, "spec": {**made["spec"], "type": "ClusterIP"}}
    changed["spec"].pop("allocateLoadBalancerNodePorts", None)
    changed["spec"].pop("externalTrafficPolicy", None)
    for port in changed["spec"]["ports"]:
        port.pop("nodePort", None)
    await harness.service.update(harness.strategy("", "Service"), "default", "web", changed, _opts())
    await harness.prime()
    await controller.sync("default/web")
    assert await ingress(harness, "web") == []


async def test_status_follows_nodes_when_running(harness: Harness) -> None:
    """Running for real: a node joining, going NotReady and leaving each show up in the status."""
    controller: LoadBalancerController = harness.build(LoadBalancerController)
    await add_node(harness, node("a", "10.0.0.1"))
    await harness.create("", "Service", "default", lb("web"))

    async def expect(*ips: str) -> None:
        async def check() -> bool:
            return await ingress(harness, "web") == [{"ip": ip} for ip in ips]

        await poll(check, within=10.0, pause=0.02)

    tasks = [asyncio.create_task(i.run()) for i in harness.factory.all()]
    try:
        await asyncio.wait_for(harness.factory.wait_synced(), 5.0)
        tasks.append(asyncio.create_task(controller.run()))
        await expect("10.0.0.1")
        await add_node(harness, node("b", "10.0.0.2"))
        await expect("10.0.0.1", "10.0.0.2")
        current = await harness.read("", "Node", None, "a")
        assert current is not None
        current["status"] = node_status("10.0.0.1", ready="False")
        await harness.service.update(harness.strategy("", "Node"), None, "a", current, _opts(), subresource="status")
        await expect("10.0.0.2")
        await harness.delete("", "Node", None, "b")
        await expect()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _opts() -> Any:
    from edgekube.service.options import WriteOptions

    return WriteOptions()
