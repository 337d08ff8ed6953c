"""The endpoints controller: ready and not-ready addresses, named ports, writes only on change."""

from __future__ import annotations

from typing import Any

from edgekube.controllers.endpoints import EndpointsController
from edgekube.resources.objects import Obj
from edgekube.service.options import WriteOptions
from tests.unit.controllers.endpoints.scenario import NS, add_pod, populate, running, target, web_service
from tests.unit.controllers.garbage.harness import Harness

HTTP_AND_METRICS = [
    {"name": "http", "port": 8080, "protocol": "TCP"},
    {"name": "metrics", "port": 9100, "protocol": "TCP"},
]
METRICS = [{"name": "metrics", "port": 9100, "protocol": "TCP"}]


def address(p: Obj) -> dict[str, Any]:
    return {"ip": p["status"]["podIP"], "nodeName": "pi-1", "targetRef": target(p)}


async def test_endpoints_from_ready_and_not_ready_pods(harness: Harness) -> None:
    """Ready pods are addresses, unready ones notReadyAddresses; a pod without the named port serves the rest."""
    controller: EndpointsController = harness.build(EndpointsController)
    objs = await populate(harness)
    await harness.prime()
    await controller.sync(f"{NS}/web")
    assert await harness.writes() == [("ADDED", "core/endpoints", f"{NS}/web")]
    ep = await harness.read("", "Endpoints", NS, "web")
    assert ep is not None
    assert ep["metadata"]["labels"] == {"tier": "front"}
    assert ep["subsets"] == [
        {"addresses": [address(objs["a"])], "notReadyAddresses": [address(objs["b"])], "ports": HTTP_AND_METRICS},
        {"addresses": [address(objs["c"])], "ports": METRICS},
    ]


async def test_unchanged_endpoints_are_not_written(harness: Harness) -> None:
    """A second sync with the same pods writes nothing."""
    controller: EndpointsController = harness.build(EndpointsController)
    await populate(harness)
    await harness.prime()
    await controller.sync(f"{NS}/web")
    await harness.prime()
    await controller.sync(f"{NS}/web")
    assert await harness.writes() == []


async def test_pod_turning_ready_updates_the_endpoints(harness: Harness) -> None:
    """When an unready pod becomes ready, its address moves and the Endpoints are updated once."""
    controller: EndpointsController = harness.build(EndpointsController)
    objs = await populate(harness)
    await harness.prime()
    await controller.sync(f"{NS}/web")
    b = objs["b"]
    strategy = harness.strategy("", "Pod")
    await harness.service.update(
        strategy, NS, "b", {**b, "status": running("10.42.0.6", ready=True)}, WriteOptions(), subresource="status"
    )
    await harness.prime()
    await controller.sync(f"{NS}/web")
    assert await harness.writes() == [("MODIFIED", "core/endpoints", f"{NS}/web")]
    ep = await harness.read("", "Endpoints", NS, "web")
    assert ep is not None
    assert [a["ip"] for a in ep["subsets"][0]["addresses"]] == ["10.42.0.5", "10.42.0.6"]
    assert "notReadyAddresses" not in ep["subsets"][0]


async def test_publish_not_ready_addresses(harness: Harness) -> None:
    """publishNotReadyAddresses: every pod with an IP is ready, terminating ones included."""
    controller: EndpointsController = harness.build(EndpointsController)
    await populate(harness, publishNotReadyAddresses=True)
    await harness.prime()
    await controller.sync(f"{NS}/web")
    ep = await harness.read("", "Endpoints", NS, "web")
    assert ep is not None
    assert [[a["ip"] for a in s["addresses"]] for s in ep["subsets"]] == [
        ["10.42.0.5", "10.42.0.6", "10.42.0.9"],
        ["10.42.0.7"],
    ]
    assert all("notReadyAddresses" not in s for s in ep["subsets"])


async def test_numeric_target_ports_and_no_pods(harness: Harness) -> None:
    """A Service whose selector matches nothing gets Endpoints without subsets."""
    controller: EndpointsController = harness.build(EndpointsController)
    await harness.create("", "Namespace", None, {"metadata": {"name": NS}})
    await harness.create(
        "",
        "Service",
        NS,
        {"metadata": {"name": "lonely"}, "spec": {"selector": {"app": "nobody"}, "ports": [{"port": 80}]}},
    )
    await harness.prime()
    await controller.sync(f"{NS}/lonely")
    ep = await harness.read("", "Endpoints", NS, "lonely")
    assert ep is not None and not ep.get("subsets")


async def test_headless_service_without_ports(harness: Harness) -> None:
    """A headless Service without ports lists bare addresses, with hostnames under its subdomain."""
    controller: EndpointsController = harness.build(EndpointsController)
    await harness.create("", "Namespace", None, {"metadata": {"name": NS}})
    await harness.create(
        "", "Service", NS, {"metadata": {"name": "db"}, "spec": {"clusterIP": "None", "selector": {"app": "db"}}}
    )
    p = await add_pod(harness, "db-0", "10.42.0.20", labels={"app": "db"}, spec={"hostname": "db-0", "subdomain": "db"})
    await harness.prime()
    await controller.sync(f"{NS}/db")
    ep = await harness.read("", "Endpoints", NS, "db")
    assert ep is not None
    assert ep["subsets"] == [{"addresses": [{**address(p), "hostname": "db-0"}]}]
    assert ep["metadata"]["labels"] == {"service.kubernetes.io/headless": ""}


async def test_service_without_selector_keeps_its_own_endpoints(harness: Harness) -> None:
    """Endpoints of a Service without a selector belong to their author: never touched."""
    controller: EndpointsController = harness.build(EndpointsController)
    await harness.create("", "Namespace", None, {"metadata": {"name": NS}})
    await harness.create("", "Service", NS, {"metadata": {"name": "external"}, "spec": {"ports": [{"port": 5432}]}})
    await harness.create(
        "",
        "Endpoints",
        NS,
        {
            "metadata": {"name": "external"},
            "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 5432}]}],
        },
    )
    await harness.prime()
    await controller.sync(f"{NS}/external")
    assert await harness.writes() == []


async def test_endpoints_go_with_their_service(harness: Harness) -> None:
    """When the Service is deleted, so are its Endpoints."""
    controller: EndpointsController = harness.build(EndpointsController)
    await populate(harness)
    await harness.prime()
    await controller.sync(f"{NS}/web")
    await harness.delete("", "Service", NS, "web")
    await harness.prime()
    await controller.sync(f"{NS}/web")
    assert await harness.writes() == [("DELETED", "core/endpoints", f"{NS}/web")]


async def test_controller_follows_pods_for_real(harness: Harness) -> None:
    """Run for real: a pod added later appears in the Endpoints."""
    controller: EndpointsController = harness.build(EndpointsController)
    await harness.create("", "Namespace", None, {"metadata": {"name": NS}})
    await harness.create("", "Service", NS, web_service())
    await add_pod(harness, "late", "10.42.0.30")

    async def listed() -> bool:
        ep = await harness.read("", "Endpoints", NS, "web")
        return ep is not None and bool(ep.get("subsets"))

    await harness.run_until(controller, listed)
