"""Every cluster has `default/kubernetes` (with endpoints at the API) and `kube-system/kube-dns`, kept at each start."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.support.client import session
from tests.support.servers import ServerProcess, free_port

ADVERTISED = "192.0.2.10"  # documentation range: nothing is ever sent there


async def get(s: aiohttp.ClientSession, path: str) -> dict[str, Any]:
    async with s.get(path) as r:
        assert r.status == 200, await r.text()
        found: dict[str, Any] = await r.json()
        return found


async def check_cluster_services(server: ServerProcess) -> None:
    async with session(server) as s:
        api = await get(s, "/api/v1/namespaces/default/services/kubernetes")
        assert api["spec"]["clusterIP"] == "10.43.0.1" and "selector" not in api["spec"]
        assert api["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": server.port}]
        endpoints = await get(s, "/api/v1/namespaces/default/endpoints/kubernetes")
        assert endpoints["subsets"] == [
            {
                "addresses": [{"ip": ADVERTISED}],
                "ports": [{"name": "https", "port": server.port, "protocol": "TCP"}],
            }
        ]
        slices = await get(s, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes")
        assert slices["metadata"]["labels"]["kubernetes.io/service-name"] == "kubernetes"
        assert [e["addresses"] for e in slices["endpoints"]] == [[ADVERTISED]]
        assert [p["port"] for p in slices["ports"]] == [server.port]
        dns = await get(s, "/api/v1/namespaces/kube-system/services/kube-dns")
        assert dns["spec"]["clusterIP"] == "10.43.0.10"
        assert [(p["name"], p["port"], p["protocol"]) for p in dns["spec"]["ports"]] == [
            ("dns", 53, "UDP"),
            ("dns-tcp", 53, "TCP"),
        ]
        assert dns["metadata"]["labels"] == {"k8s-app": "kube-dns", "kubernetes.io/name": "EdgeKubeDNS"}
        # A Service asking for either address by name is refused: they are taken.
        for ip in ("10.43.0.1", "10.43.0.10"):
            body = {"metadata": {"name": "thief"}, "spec": {"clusterIP": ip, "ports": [{"port": 1}]}}
            async with s.post("/api/v1/namespaces/default/services", json=body) as r:
                assert r.status == 422 and "already allocated" in await r.text()


async def test_cluster_services_after_start_and_restart(fresh_server: ServerProcess) -> None:
    """Present after the first start; after a restart on another port the endpoints follow it."""
    fresh_server.extra_args = ["--advertise-address", ADVERTISED]
    fresh_server.start()
    await check_cluster_services(fresh_server)
    fresh_server.stop()
    fresh_server.port = free_port()
    fresh_server.start()
    await check_cluster_services(fresh_server)


async def test_endpoint_controllers_leave_them_alone(fresh_server: ServerProcess) -> None:
    """With the controllers running, the hand-written Endpoints and EndpointSlice stay as written."""
    import asyncio

    fresh_server.extra_args = ["--advertise-address", ADVERTISED]
    fresh_server.start()
    await asyncio.sleep(1.5)  # the controllers have synced and had their go at every Service
    await check_cluster_services(fresh_server)
