"""Deletion over real HTTP with the garbage collector and the namespace controller running:
propagation policies, `kubectl delete ns`, protected namespaces, endpoints that go with
their Service.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.support.client import configmap
from tests.support.servers import ServerProcess

CMS = "/api/v1/namespaces/{ns}/configmaps"
NAMESPACES = "/api/v1/namespaces"
SETTLE = 15.0  # seconds the controllers get to finish a cascade
KUBECTL_TIMEOUT = 90.0  # seconds for one kubectl command (`delete ns` waits for the namespace)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = SETTLE) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"not within {within}s: {what}")
        await asyncio.sleep(0.1)


async def status_of(http: aiohttp.ClientSession, path: str) -> int:
    async with http.get(path) as r:
        return r.status


async def names(http: aiohttp.ClientSession, path: str) -> list[str]:
    async with http.get(path) as r:
        assert r.status == 200, await r.text()
        return sorted(i["metadata"]["name"] for i in (await r.json())["items"])


async def create(http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(path, json=body) as r:
        assert r.status == 201, await r.text()
        created: dict[str, Any] = await r.json()
        return created


def owned_by(owner: dict[str, Any], *, block: bool = True) -> list[dict[str, Any]]:
    md = owner["metadata"]
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": md["name"],
            "uid": md["uid"],
            "controller": True,
            "blockOwnerDeletion": block,
        }
    ]


async def owner_with_dependents(http: aiohttp.ClientSession, ns: str, *, held: bool = False) -> None:
    """ConfigMap `owner`, and `dep-1`, `dep-2` owned by it (`dep-1` held by a finalizer if asked)."""
    url = CMS.format(ns=ns)
    owner = await create(http, url, configmap("owner"))
    for name in ("dep-1", "dep-2"):
        body = configmap(name)
        body["metadata"]["ownerReferences"] = owned_by(owner)
        if held and name == "dep-1":
            body["metadata"]["finalizers"] = ["example.com/hold"]
        await create(http, url, body)


async def kubectl(server: ServerProcess, *args: str) -> tuple[int, str]:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.fail("kubectl is not on PATH; these tests need the real binary")
    proc = await asyncio.create_subprocess_exec(
        binary,
        "--kubeconfig",
        str(server.kubeconfig),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), KUBECTL_TIMEOUT)
    return proc.returncode or 0, out.decode()


# -- propagation policies --------------------------------------------------------------------


async def test_background_deletes_dependents_after_the_owner(http: aiohttp.ClientSession, namespace: str) -> None:
    """Background: the owner goes at once, its dependents soon after."""
    url = CMS.format(ns=namespace)
    await owner_with_dependents(http, namespace)
    async with http.delete(f"{url}/owner", json={"propagationPolicy": "Background"}) as r:
        assert r.status == 200, await r.text()
    assert await status_of(http, f"{url}/owner") == 404

    async def dependents_gone() -> bool:
        return await names(http, url) == []

    await eventually(dependents_gone, "dependents deleted")


async def test_foreground_keeps_the_owner_until_blocking_dependents_are_gone(
    http: aiohttp.ClientSession, namespace: str
) -> None:
    """Foreground: the owner stays (foregroundDeletion) while a blocking dependent is held."""
    url = CMS.format(ns=namespace)
    await owner_with_dependents(http, namespace, held=True)
    async with http.delete(f"{url}/owner", json={"propagationPolicy": "Foreground"}) as r:
        assert r.status == 202, await r.text()
        marked = await r.json()
    assert marked["metadata"]["finalizers"] == ["foregroundDeletion"]

    async def only_held_left() -> bool:
        return await names(http, url) == ["dep-1", "owner"]

    await eventually(only_held_left, "dep-2 deleted, dep-1 held, owner waiting")
    async with http.get(f"{url}/dep-1") as r:
        assert (await r.json())["metadata"]["deletionTimestamp"]
    release = [{"op": "remove", "path": "/metadata/finalizers"}]
    async with http.patch(f"{url}/dep-1", json=release, headers={"Content-Type": "application/json-patch+json"}) as r:
        assert r.status == 200, await r.text()

    async def all_gone() -> bool:
        return await names(http, url) == []

    await eventually(all_gone, "owner deleted once its dependents were")


async def test_orphan_leaves_dependents_without_the_reference(http: aiohttp.ClientSession, namespace: str) -> None:
    """Orphan: the owner goes; its dependents stay and no longer name it."""
    url = CMS.format(ns=namespace)
    await owner_with_dependents(http, namespace)
    async with http.delete(f"{url}/owner", json={"propagationPolicy": "Orphan"}) as r:
        assert r.status == 202, await r.text()

    async def owner_gone() -> bool:
        return await status_of(http, f"{url}/owner") == 404

    await eventually(owner_gone, "owner deleted after orphaning")
    for name in ("dep-1", "dep-2"):
        async with http.get(f"{url}/{name}") as r:
            assert r.status == 200
            assert not (await r.json())["metadata"].get("ownerReferences")


# -- namespaces ------------------------------------------------------------------------------


@pytest.mark.parametrize("cascade", ["background", "foreground", "orphan"])
async def test_kubectl_delete_namespace_removes_everything(
    shared_server: ServerProcess, http: aiohttp.ClientSession, cascade: str
) -> None:
    """`kubectl delete ns` returns once the namespace is gone, with everything that was in it."""
    ns = f"doomed-{cascade}"
    code, out = await kubectl(shared_server, "create", "namespace", ns)
    assert code == 0, out

    async def has_account() -> bool:
        return await status_of(http, f"/api/v1/namespaces/{ns}/serviceaccounts/default") == 200

    await eventually(has_account, "the default ServiceAccount created in the new namespace")
    await create(http, CMS.format(ns=ns), configmap("settings"))
    await create(http, f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": "token"}, "stringData": {"a": "b"}})
    await create(
        http,
        f"/api/v1/namespaces/{ns}/pods",
        {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}},
    )
    await create(
        http,
        f"/api/v1/namespaces/{ns}/services",
        {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}},
    )

    code, out = await kubectl(shared_server, "delete", "namespace", ns, f"--cascade={cascade}", "--timeout=60s")
    assert code == 0, out
    assert await status_of(http, f"{NAMESPACES}/{ns}") == 404
    for path in (
        "api/v1/configmaps",
        "api/v1/secrets",
        "api/v1/pods",
        "api/v1/services",
        "api/v1/endpoints",
        "api/v1/serviceaccounts",
        "apis/discovery.k8s.io/v1/endpointslices",
    ):
        async with http.get(f"/{path}") as r:
            left = [i for i in (await r.json())["items"] if i["metadata"]["namespace"] == ns]
        assert left == [], path


async def test_foreign_spec_finalizer_holds_an_empty_namespace(http: aiohttp.ClientSession) -> None:
    """A namespace keeps Terminating (emptied) until its other spec finalizer is removed too."""
    ns = "held-ns"
    await create(http, NAMESPACES, {"metadata": {"name": ns}, "spec": {"finalizers": ["example.com/hold"]}})
    await create(http, CMS.format(ns=ns), configmap("settings"))
    async with http.delete(f"{NAMESPACES}/{ns}") as r:
        assert r.status == 202, await r.text()

    async def emptied() -> bool:
        async with http.get(f"{NAMESPACES}/{ns}") as r:
            spec_finalizers = (await r.json()).get("spec", {}).get("finalizers")
        return spec_finalizers == ["example.com/hold"] and await names(http, CMS.format(ns=ns)) == []

    await eventually(emptied, "namespace emptied and its kubernetes finalizer removed")
    async with http.get(f"{NAMESPACES}/{ns}") as r:
        assert (await r.json())["status"]["phase"] == "Terminating"
    patch = {"spec": {"finalizers": None}}
    async with http.patch(
        f"{NAMESPACES}/{ns}", json=patch, headers={"Content-Type": "application/merge-patch+json"}
    ) as r:
        assert r.status == 200, await r.text()
    assert await status_of(http, f"{NAMESPACES}/{ns}") == 404


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public", "kube-node-lease"])
async def test_system_namespaces_cannot_be_deleted(http: aiohttp.ClientSession, name: str) -> None:
    """DELETE of a system namespace is 403 and leaves it Active."""
    async with http.delete(f"{NAMESPACES}/{name}") as r:
        assert r.status == 403
        status = await r.json()
    assert status["reason"] == "Forbidden"
    assert status["message"] == f'namespaces "{name}" is forbidden: this namespace may not be deleted'
    async with http.get(f"{NAMESPACES}/{name}") as r:
        assert (await r.json())["status"]["phase"] == "Active"


async def test_kubectl_refuses_to_delete_default(shared_server: ServerProcess) -> None:
    """kubectl shows the server's refusal."""
    code, out = await kubectl(shared_server, "delete", "namespace", "default")
    assert code != 0
    assert 'namespaces "default" is forbidden: this namespace may not be deleted' in out


# -- endpoints -------------------------------------------------------------------------------


async def test_service_endpoints_follow_pods_and_go_with_the_service(
    http: aiohttp.ClientSession, namespace: str
) -> None:
    """A ready pod shows in the Endpoints and the EndpointSlice; deleting the Service removes both."""
    base = f"/api/v1/namespaces/{namespace}"
    slices = f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"
    await create(
        http,
        f"{base}/services",
        {
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "web"}]},
        },
    )
    pod = await create(
        http,
        f"{base}/pods",
        {
            "metadata": {"name": "web-0", "labels": {"app": "web"}},
            "spec": {
                # The test plays the kubelet; a scheduler of its own keeps the real one away.
                "schedulerName": "manual",
                "containers": [{"name": "c", "image": "busybox:1", "ports": [{"name": "web", "containerPort": 8080}]}],
            },
        },
    )
    pod["status"] = {
        "phase": "Running",
        "podIP": "10.42.0.5",
        "podIPs": [{"ip": "10.42.0.5"}],
        "conditions": [{"type": "Ready", "status": "True"}],
    }
    async with http.put(f"{base}/pods/web-0/status", json=pod) as r:
        assert r.status == 200, await r.text()

    async def listed() -> bool:
        async with http.get(f"{base}/endpoints/web") as r:
            ep = await r.json() if r.status == 200 else {}
        async with http.get(slices) as r:
            items = (await r.json())["items"]
        return (
            ep.get("subsets")
            == [
                {
                    "addresses": [
                        {
                            "ip": "10.42.0.5",
                            "targetRef": {
                                "kind": "Pod",
                                "namespace": namespace,
                                "name": "web-0",
                                "uid": pod["metadata"]["uid"],
                            },
                        }
                    ],
                    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                }
            ]
            and len(items) == 1
            and [e["addresses"] for e in items[0]["endpoints"]] == [["10.42.0.5"]]
            and items[0]["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
        )

    await eventually(listed, "Endpoints and EndpointSlice list the ready pod on its named port")
    async with http.delete(f"{base}/services/web") as r:
        assert r.status == 200, await r.text()

    async def gone() -> bool:
        return await status_of(http, f"{base}/endpoints/web") == 404 and await names(http, slices) == []

    await eventually(gone, "Endpoints and EndpointSlices deleted with the Service")
