"""The endpoint slice controller: slices per port set, conditions, owner, writes only on change."""

from __future__ import annotations

from typing import Any

from edgekube.controllers.endpoints import EndpointSliceController
from edgekube.controllers.endpoints.slices import CONTROLLER_NAME, MANAGED_BY_LABEL, SERVICE_NAME_LABEL
from edgekube.resources.objects import Obj
from tests.unit.controllers.endpoints.scenario import NS, add_pod, populate, target, web_service
from tests.unit.controllers.garbage.harness import Harness

SLICES = "discovery.k8s.io/endpointslices"


async def slices(h: Harness) -> list[Obj]:
    found = [
        await h.read("discovery.k8s.io", "EndpointSlice", NS, n)
        for n in await h.names("discovery.k8s.io", "EndpointSlice", NS)
    ]
    return sorted((s for s in found if s), key=lambda s: [p["name"] for p in s["ports"]])


def endpoint(p: Obj, *, ready: bool, serving: bool, terminating: bool = False) -> dict[str, Any]:
    return {
        "addresses": [p["status"]["podIP"]],
        "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
        "targetRef": target(p),
        "nodeName": "pi-1",
    }


def created_names(writes: list[tuple[str, str, str]]) -> list[str]:
    return [where for kind, resource, where in writes if (kind, resource) == ("ADDED", SLICES)]


async def test_slices_group_endpoints_by_ports(harness: Harness) -> None:
    """One slice per port set, named <service>-<random>, with conditions, labels and owner."""
    controller: EndpointSliceController = harness.build(EndpointSliceController)
    objs = await populate(harness)
    await harness.prime()
    await controller.sync(f"{NS}/web")
    writes = await harness.writes()
    assert [w[:2] for w in writes] == [("ADDED", SLICES), ("ADDED", SLICES)]
    assert all(name.startswith(f"{NS}/web-") and len(name) == len(f"{NS}/web-") + 5 for name in created_names(writes))
    both, metrics_only = await slices(harness)
    assert both["addressType"] == "IPv4"
    assert both["ports"] == [
        {"name": "http", "port": 8080, "protocol": "TCP"},
        {"name": "metrics", "port": 9100, "protocol": "TCP"},
    ]
    assert both["endpoints"] == [
        endpoint(objs["a"], ready=True, serving=True),
        endpoint(objs["b"], ready=False, serving=False),
        endpoint(objs["e"], ready=False, serving=True, terminating=True),
    ]
    assert metrics_only["ports"] == [{"name": "metrics", "port": 9100, "protocol": "TCP"}]
    assert metrics_only["endpoints"] == [endpoint(objs["c"], ready=True, serving=True)]
    svc = objs["svc"]
    assert both["metadata"]["labels"] == {
        "tier": "front",
        SERVICE_NAME_LABEL: "web",
        MANAGED_BY_LABEL: CONTROLLER_NAME,
    }
    assert both["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "name": "web",
            "uid": svc["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


async def test_unchanged_slices_are_not_written(harness: Harness) -> None:
    """A second sync with the same pods writes nothing."""
    controller: EndpointSliceController = harness.build(EndpointSliceController)
    await populate(harness)
    await harness.prime()
    await controller.sync(f"{NS}/web")
    await harness.prime()
    await controller.sync(f"{NS}/web")
    assert await harness.writes() == []


async def test_changed_pods_update_the_slice_in_place(harness: Harness) -> None:
    """A new pod with the same ports is added to the existing slice (an update, no new slice)."""
    controller: EndpointSliceController = harness.build(EndpointSliceController)
    await populate(harness)
    await harness.prime()
    await controller.sync(f"{NS}/web")
    before = [s["metadata"]["name"] for s in await slices(harness)]
    await add_pod(harness, "z", "10.42.0.99")
    await harness.prime()
    await controller.sync(f"{NS}/web")
    assert await harness.writes() == [("MODIFIED", SLICES, f"{NS}/{before[0]}")]
    both, _ = await slices(harness)
    assert [e["addresses"] for e in both["endpoints"]][-1] == ["10.42.0.99"]


async def test_service_without_pods_keeps_one_empty_slice(harness: Harness) -> None:
    """No endpoints: one placeholder slice without endpoints or ports."""
    controller: EndpointSliceController = harness.build(EndpointSliceController)
    await harness.create("", "Namespace", None, {"metadata": {"name": NS}})
    await harness.create("", "Service", NS, web_service())
    await harness.prime()
    await controller.sync(f"{NS}/web")
    [placeholder] = await slices(harness)
    assert (placeholder["endpoints"], placeholder["ports"]) == ([], [])


async def test_service_without_selector_gets_no_slices(harness: Harness) -> None:
    """Slices are only kept for Services with a selector."""
    controller: EndpointSliceController = harness.build(EndpointSliceController)
    await harness.create("", "Namespace", None, {"metadata": {"name": NS}})
    await harness.create("", "Service", NS, {"metadata": {"name": "external"}, "spec": {"ports": [{"port": 5432}]}})
    await harness.prime()
    await controller.sync(f"{NS}/external")
    assert await harness.writes() == []


async def test_slices_of_an_older_service_are_replaced(harness: Harness) -> None:
    """A Service deleted and created again gets new slices; those of the old one are deleted."""
    controller: EndpointSliceController = harness.build(EndpointSliceController)
    await harness.create("", "Namespace", None, {"metadata": {"name": NS}})
    await harness.create("", "Service", NS, web_service())
    await harness.prime()
    await controller.sync(f"{NS}/web")
    [old] = await slices(harness)
    await harness.delete("", "Service", NS, "web")
    await harness.create("", "Service", NS, web_service())
    await harness.prime()
    await controller.sync(f"{NS}/web")
    writes = await harness.writes()
    assert [w[:2] for w in writes] == [("ADDED", SLICES), ("DELETED", SLICES)]
    assert writes[1][2] == f"{NS}/{old['metadata']['name']}"


async def test_slices_go_with_their_service(harness: Harness) -> None:
    """When the Service is deleted, the controller deletes its slices (the GC would too)."""
    controller: EndpointSliceController = harness.build(EndpointSliceController)
    await populate(harness)
    await harness.prime()
    await controller.sync(f"{NS}/web")
    names = sorted(s["metadata"]["name"] for s in await slices(harness))
    await harness.delete("", "Service", NS, "web")
    await harness.prime()
    await controller.sync(f"{NS}/web")
    assert await harness.writes() == [("DELETED", SLICES, f"{NS}/{n}") for n in names]


async def test_controller_creates_one_slice_for_real(harness: Harness) -> None:
    """Run for real with a burst of pod events: still exactly one slice."""
    controller: EndpointSliceController = harness.build(EndpointSliceController)
    await harness.create("", "Namespace", None, {"metadata": {"name": NS}})
    await harness.create("", "Service", NS, web_service())
    for i in range(5):
        await add_pod(harness, f"p{i}", f"10.42.1.{i + 1}")

    async def complete() -> bool:
        found = await slices(harness)
        return len(found) == 1 and len(found[0]["endpoints"]) == 5

    await harness.run_until(controller, complete)
    assert len(await slices(harness)) == 1
