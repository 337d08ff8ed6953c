"""The server answers over HTTPS with its token, and only with it."""

from __future__ import annotations

import aiohttp

from tests.support.servers import ServerProcess


async def test_version_needs_token(shared_server: ServerProcess) -> None:
    """/version without a token is 401 with a Status body; /livez is open."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=shared_server.ssl_context())) as s:
        async with s.get(f"{shared_server.url}/version") as r:
            assert r.status == 401
            body = await r.json()
            assert body["kind"] == "Status" and body["reason"] == "Unauthorized"
        async with s.get(f"{shared_server.url}/livez") as r:
            assert r.status == 200


async def test_default_namespaces(http: aiohttp.ClientSession) -> None:
    """A new server has the four system namespaces, each with a default ServiceAccount."""
    async with http.get("/api/v1/namespaces") as r:
        names = {i["metadata"]["name"] for i in (await r.json())["items"]}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
    async with http.get("/api/v1/namespaces/kube-system/serviceaccounts/default") as r:
        assert r.status == 200
