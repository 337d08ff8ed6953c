"""Services get cluster IPs and node ports on create, keep them, and free them, over real HTTP."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import aiohttp

from tests.support.client import session
from tests.support.servers import ServerProcess

CIDR = ipaddress.IPv4Network("10.43.0.0/16")
RESERVED = {"10.43.0.0", "10.43.0.1", "10.43.0.10", "10.43.255.255"}
MERGE = {"Content-Type": "application/merge-patch+json"}


# Requested values (10.43.251.x, 327xx) sit where random picks by other tests on the
# shared server are unlikely to land.


def service(name: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("ports", [{"port": 80}])
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


async def post(http: aiohttp.ClientSession, namespace: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with http.post(f"/api/v1/namespaces/{namespace}/services", json=body) as r:
        return r.status, await r.json()


def only_cause(status: dict[str, Any]) -> tuple[str, str]:
    (found,) = status["details"]["causes"]
    return found["field"], found["message"]


async def test_cluster_ip_is_allocated_and_kept(http: aiohttp.ClientSession, namespace: str) -> None:
    """A ClusterIP Service gets a usable address from 10.43.0.0/16, in clusterIP and clusterIPs, and keeps it."""
    code, made = await post(http, namespace, service("web"))
    assert code == 201, made
    ip = made["spec"]["clusterIP"]
    assert ipaddress.IPv4Address(ip) in CIDR and ip not in RESERVED
    assert made["spec"]["clusterIPs"] == [ip]
    async with http.get(f"/api/v1/namespaces/{namespace}/services/web") as r:
        assert (await r.json())["spec"]["clusterIP"] == ip


async def test_headless_and_external_name_get_no_address(http: aiohttp.ClientSession, namespace: str) -> None:
    """clusterIP None stays None; ExternalName has no address."""
    code, headless = await post(http, namespace, service("headless", clusterIP="None"))
    assert code == 201 and headless["spec"]["clusterIP"] == "None"
    code, ext = await post(http, namespace, service("ext", type="ExternalName", externalName="db.example.com"))
    assert code == 201 and not ext["spec"].get("clusterIP")


async def test_concurrent_creates_are_distinct(http: aiohttp.ClientSession, namespace: str) -> None:
    """30 NodePort Services created at once get 30 addresses and 30 node ports."""
    results = await asyncio.gather(*(post(http, namespace, service(f"s{i}", type="NodePort")) for i in range(30)))
    assert all(code == 201 for code, _ in results), results
    ips = {m["spec"]["clusterIP"] for _, m in results}
    ports = {m["spec"]["ports"][0]["nodePort"] for _, m in results}
    assert len(ips) == 30 and len(ports) == 30
    assert all(30000 <= p <= 32767 for p in ports)


async def test_requested_ip_honoured_then_refused(http: aiohttp.ClientSession, namespace: str) -> None:
    """A free requested IP is granted; asking again, or outside the range, is 422 Invalid on spec.clusterIP."""
    code, made = await post(http, namespace, service("mine", clusterIP="10.43.251.7"))
    assert code == 201 and made["spec"]["clusterIPs"] == ["10.43.251.7"]
    code, status = await post(http, namespace, service("thief", clusterIP="10.43.251.7"))
    assert code == 422 and status["reason"] == "Invalid"
    assert only_cause(status) == ("spec.clusterIP", 'Invalid value: "10.43.251.7": provided IP is already allocated')
    code, status = await post(http, namespace, service("lost", clusterIP="192.168.1.1"))
    assert code == 422
    detail = "provided IP is not in the valid range. The range of valid IPs is 10.43.0.0/16"
    assert only_cause(status) == ("spec.clusterIP", f'Invalid value: "192.168.1.1": {detail}')


async def test_requested_node_port_honoured_then_refused(http: aiohttp.ClientSession, namespace: str) -> None:
    """A free requested nodePort is granted; another Service asking for it is 422 on its port's field."""
    ports = [
        {"name": "dns", "port": 53, "protocol": "UDP", "nodePort": 32701},
        {"name": "dns-tcp", "port": 53, "protocol": "TCP", "nodePort": 32701},
    ]
    code, made = await post(http, namespace, service("dns", type="NodePort", ports=ports))
    assert code == 201, made
    code, status = await post(
        http, namespace, service("late", type="NodePort", ports=[{"name": "a", "port": 80, "nodePort": 32701}])
    )
    assert code == 422
    assert only_cause(status) == ("spec.ports[0].nodePort", "Invalid value: 32701: provided port is already allocated")


async def test_delete_frees_ip_and_node_port(http: aiohttp.ClientSession, namespace: str) -> None:
    """Once a Service is deleted, its IP and nodePort can be requested by another."""
    body = service("gone", type="NodePort", clusterIP="10.43.251.8", ports=[{"port": 80, "nodePort": 32702}])
    assert (await post(http, namespace, body))[0] == 201
    async with http.delete(f"/api/v1/namespaces/{namespace}/services/gone") as r:
        assert r.status == 200
    body["metadata"]["name"] = "heir"
    for _ in range(100):  # the allocator learns of the delete from its watch, a moment later
        code, made = await post(http, namespace, body)
        if code == 201:
            break
        await asyncio.sleep(0.05)
    assert code == 201 and made["spec"]["clusterIP"] == "10.43.251.8"


async def test_type_change_allocates_and_releases_node_ports(http: aiohttp.ClientSession, namespace: str) -> None:
    """ClusterIP -> NodePort fills in nodePorts and keeps the IP; back to ClusterIP drops them."""
    code, made = await post(http, namespace, service("flip"))
    assert code == 201
    url = f"/api/v1/namespaces/{namespace}/services/flip"
    async with http.patch(url, json={"spec": {"type": "NodePort"}}, headers=MERGE) as r:
        assert r.status == 200, await r.text()
        as_np = await r.json()
    assert as_np["spec"]["clusterIP"] == made["spec"]["clusterIP"]
    assert 30000 <= as_np["spec"]["ports"][0]["nodePort"] <= 32767
    async with http.patch(url, json={"spec": {"type": "ClusterIP"}}, headers=MERGE) as r:
        assert r.status == 200, await r.text()
        back = await r.json()
    assert "nodePort" not in back["spec"]["ports"][0]


async def test_allocations_survive_a_restart(fresh_server: ServerProcess) -> None:
    """After a restart the server still refuses an IP and a nodePort a stored Service holds."""
    fresh_server.start()
    url = "/api/v1/namespaces/default/services"
    async with session(fresh_server) as s:
        async with s.post(url, json=service("keep", type="NodePort")) as r:
            assert r.status == 201
            made = await r.json()
    fresh_server.stop()
    fresh_server.start()
    ip, port = made["spec"]["clusterIP"], made["spec"]["ports"][0]["nodePort"]
    async with session(fresh_server) as s:
        async with s.post(url, json=service("copy", clusterIP=ip)) as r:
            assert r.status == 422
        body = service("copy", type="NodePort", ports=[{"port": 80, "nodePort": port}])
        async with s.post(url, json=body) as r:
            assert r.status == 422
            assert only_cause(await r.json())[0] == "spec.ports[0].nodePort"
