"""Service NAT through real nftables: ClusterIP, NodePort, LoadBalancer, affinity, hairpin, no endpoints."""

from __future__ import annotations

import asyncio
import time

from tests.e2e.nat.conftest import TABLE, Running
from tests.e2e.nat.lab import (
    CLIENT_IP,
    GATEWAY,
    HTTP_PORT,
    NODE_IP,
    POD_IPS,
    Lab,
    ash,
    endpoint_slice,
    eventually,
    service,
)

CIP = "10.43.0.20"
WHO = "/cgi-bin/who"


async def start(proxy: Running, services: list[dict[str, object]], slices: list[dict[str, object]]) -> None:
    for obj in services:
        proxy.services.put(obj)
    for obj in slices:
        proxy.slices.put(obj)
    proxy.services.synced.set()
    proxy.slices.synced.set()


async def answers(lab: Lab, netns: str, url: str, times: int) -> list[str]:
    """The bodies of `times` requests, failures as 'ERR <message>'."""
    out = []
    for _ in range(times):
        ok, body = await lab.aget(netns, url)
        out.append(body if ok else f"ERR {body}")
    return out


async def wait_answered(lab: Lab, netns: str, url: str) -> None:
    async def check() -> bool:
        return (await lab.aget(netns, url, wait=1))[0]

    await eventually(check, what=f"{url} from {netns}")


async def test_nothing_written_before_watches_synced(lab: Lab, proxy: Running) -> None:
    """The table is not created while the watches have not listed once (offline rule)."""
    proxy.services.put(service("web", CIP))
    await asyncio.sleep(0.3)
    assert not proxy.table_exists(lab)
    proxy.services.synced.set()
    proxy.slices.synced.set()
    await eventually(lambda: asyncio.to_thread(proxy.table_exists, lab), what="table")


async def test_cluster_ip_reaches_every_endpoint_and_drops_removed_ones(lab: Lab, proxy: Running) -> None:
    """A ClusterIP spreads over all endpoints, from the node and from a pod; a removed one gets nothing."""
    await start(proxy, [service("web", CIP)], [endpoint_slice("web", ["p1", "p2", "p3"])])
    url = f"http://{CIP}{WHO}"
    await wait_answered(lab, lab.node, url)
    seen = {body.split()[0] for body in await answers(lab, lab.node, url, 30)}
    assert seen == {"p1", "p2", "p3"}
    from_pod = await answers(lab, lab.pod("p3"), url, 6)
    assert all(not body.startswith("ERR") for body in from_pod), from_pod

    started = time.monotonic()
    proxy.slices.put(endpoint_slice("web", ["p1", "p2"]))
    await asyncio.sleep(0.2)
    bodies = await answers(lab, lab.node, url, 20)
    assert {body.split()[0] for body in bodies} == {"p1", "p2"}, bodies
    assert time.monotonic() - started < 10


async def test_affinity_pins_a_client(lab: Lab, proxy: Running) -> None:
    """sessionAffinity ClientIP sends one client to one endpoint every time."""
    svc = service("sticky", CIP, sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}})
    await start(proxy, [svc], [endpoint_slice("sticky", ["p1", "p2", "p3"])])
    url = f"http://{CIP}{WHO}"
    await wait_answered(lab, lab.pod("p1"), url)
    bodies = await answers(lab, lab.pod("p1"), url, 12)
    assert len({body.split()[0] for body in bodies}) == 1, bodies


async def test_node_port_answers_from_outside_masqueraded(lab: Lab, proxy: Running) -> None:
    """A NodePort on the node IP reaches the pods; the pod sees the node's address, not the client's."""
    svc = service("np", CIP, type_="NodePort", node_port=30080)
    await start(proxy, [svc], [endpoint_slice("np", ["p1", "p2"])])
    url = f"http://{NODE_IP}:30080{WHO}"
    await wait_answered(lab, lab.client, url)
    bodies = await answers(lab, lab.client, url, 10)
    assert {b.split()[0] for b in bodies} <= {"p1", "p2"}, bodies
    assert {b.split()[1] for b in bodies} == {GATEWAY}, bodies


async def test_local_policy_keeps_the_client_address(lab: Lab, proxy: Running) -> None:
    """externalTrafficPolicy Local: only local endpoints, client address kept; no local endpoint: dropped."""
    local = service("loc", CIP, type_="NodePort", node_port=30081, externalTrafficPolicy="Local")
    remote = service("rem", "10.43.0.21", type_="NodePort", node_port=30082, externalTrafficPolicy="Local")
    await start(
        proxy,
        [local, remote],
        [endpoint_slice("loc", ["p2"]), endpoint_slice("rem", ["p3"], node_name="node-b")],
    )
    url = f"http://{NODE_IP}:30081{WHO}"
    await wait_answered(lab, lab.client, url)
    assert await answers(lab, lab.client, url, 3) == [f"p2 {CLIENT_IP}"] * 3
    ok, body = await lab.aget(lab.client, f"http://{NODE_IP}:30082{WHO}", wait=1)
    assert not ok and "timed out" in body, body
    # From inside the cluster the service still works: pods may use any endpoint.
    ok, body = await lab.aget(lab.pod("p1"), f"http://10.43.0.21{WHO}")
    assert ok and body.startswith("p3"), body


async def test_load_balancer_answers_on_port_and_ingress_ip(lab: Lab, proxy: Running) -> None:
    """A LoadBalancer answers its nodePort, its own port on the node, and its ingress IP."""
    ingress = "203.0.113.50"
    await ash("ip", "-n", lab.client, "route", "replace", f"{ingress}/32", "via", NODE_IP)
    svc = service("lb", CIP, type_="LoadBalancer", node_port=30083)
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": ingress}]}}
    await start(proxy, [svc], [endpoint_slice("lb", ["p1"])])
    for url in (f"http://{NODE_IP}:30083{WHO}", f"http://{NODE_IP}{WHO}", f"http://{ingress}{WHO}"):
        await wait_answered(lab, lab.client, url)
        ok, body = await lab.aget(lab.client, url)
        assert ok and body.startswith("p1"), (url, body)


async def test_no_endpoints_rejects(lab: Lab, proxy: Running) -> None:
    """A service without endpoints refuses connections at once (TCP reset), on ClusterIP and NodePort."""
    await start(proxy, [service("empty", CIP, type_="NodePort", node_port=30084)], [])
    await eventually(lambda: asyncio.to_thread(proxy.table_exists, lab), what="table")
    for netns, url in ((lab.node, f"http://{CIP}{WHO}"), (lab.client, f"http://{NODE_IP}:30084{WHO}")):
        started = time.monotonic()
        ok, body = await lab.aget(netns, url, wait=3)
        assert not ok and "refused" in body, (url, body)
        assert time.monotonic() - started < 1.5


async def test_hairpin(lab: Lab, proxy: Running) -> None:
    """A pod reaching its own service lands on itself, masqueraded to the gateway."""
    await start(proxy, [service("self", CIP)], [endpoint_slice("self", ["p1"])])
    url = f"http://{CIP}{WHO}"
    await wait_answered(lab, lab.pod("p1"), url)
    assert (await lab.aget(lab.pod("p1"), url))[1] == f"p1 {GATEWAY}"


async def test_drift_is_repaired(lab: Lab, proxy: Running) -> None:
    """A table deleted by hand comes back within the resync interval."""
    await start(proxy, [service("web", CIP)], [endpoint_slice("web", ["p1"])])
    url = f"http://{CIP}{WHO}"
    await wait_answered(lab, lab.node, url)
    await ash("ip", "netns", "exec", lab.node, "nft", "delete", "table", "ip", TABLE)
    await wait_answered(lab, lab.node, url)


async def test_service_deleted_and_cluster_dns_skipped(lab: Lab, proxy: Running) -> None:
    """A deleted service stops answering; the cluster DNS address never gets a NAT rule."""
    dns = service("kube-dns", proxy.settings.cluster_dns)
    await start(proxy, [service("web", CIP), dns], [endpoint_slice("web", ["p1"]), endpoint_slice("kube-dns", ["p2"])])
    url = f"http://{CIP}{WHO}"
    await wait_answered(lab, lab.node, url)
    listing = (await ash("ip", "netns", "exec", lab.node, "nft", "list", "map", "ip", TABLE, "service-ips")).stdout
    assert proxy.settings.cluster_dns not in listing
    proxy.services.delete(service("web", CIP))

    async def gone() -> bool:
        return not (await lab.aget(lab.node, url, wait=1))[0]

    await eventually(gone, what="service gone")
    assert POD_IPS["p1"] and HTTP_PORT
