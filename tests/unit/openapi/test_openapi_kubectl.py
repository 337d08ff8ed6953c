"""The documents as the real kubectl reads them: `kubectl explain` and server-side validation.

kubectl also needs discovery; this test serves a minimal legacy discovery of its own
(APIVersions, APIGroupList, APIResourceList) next to the OpenAPI routes.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from edgekube.api.openapi import routes
from edgekube.resources.openapi.documents import OpenAPIDocuments
from edgekube.resources.registry import Registry
from tests.support.tools import require_kubectl

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: t, cluster: {server: "http://127.0.0.1:%d"}}]
users: [{name: u, user: {}}]
contexts: [{name: t, context: {cluster: t, user: u}}]
current-context: t
"""


def _discovery(registry: Registry, seen: list[str]) -> list[web.RouteDef]:
    async def api(request: web.Request) -> web.Response:
        return web.json_response({"kind": "APIVersions", "versions": ["v1"]})

    async def apis(request: web.Request) -> web.Response:
        groups = []
        for gv in registry.group_versions():
            if gv.group:
                version = {"groupVersion": gv.api_version, "version": gv.version}
                groups.append({"name": gv.group, "versions": [version], "preferredVersion": version})
        return web.json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})

    async def resources(request: web.Request) -> web.Response:
        group = request.match_info.get("group", "")
        version = request.match_info["version"]
        found = [
            {
                "name": k.plural,
                "singularName": k.singular,
                "namespaced": k.namespaced,
                "kind": k.kind,
                "verbs": list(k.verbs),
                "shortNames": list(k.short_names),
            }
            for k in registry.kinds()
            if (k.group, k.version) == (group, version)
        ]
        return web.json_response(
            {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version,
                "resources": found,
            }
        )

    async def create(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        body: dict[str, Any] = await request.json()
        return web.json_response(body, status=201)

    return [
        web.get("/api", api),
        web.get("/apis", apis),
        web.get("/api/{version}", resources),
        web.get("/apis/{group}/{version}", resources),
        web.post("/apis/{group}/{version}/namespaces/{namespace}/{plural}", create),
    ]


class Kubectl:
    """Runs kubectl against the test server with its own kubeconfig and cache dir."""

    def __init__(self, tmp: Path, port: int, posted: list[str]) -> None:
        self.tmp = tmp
        self.posted = posted
        (tmp / "kubeconfig").write_text(KUBECONFIG % port)

    async def __call__(self, *args: str) -> str:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.tmp), "KUBECONFIG": str(self.tmp / "kubeconfig")}
        proc = await asyncio.create_subprocess_exec(
            require_kubectl(),
            "--cache-dir",
            str(self.tmp / "cache"),
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, err.decode()
        return out.decode()


@pytest.fixture
async def kubectl(documents: OpenAPIDocuments, registry: Registry, tmp_path: Path) -> AsyncIterator[Kubectl]:
    posted: list[str] = []
    app = web.Application()
    app.add_routes(routes(documents))
    app.add_routes(_discovery(registry, posted))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        assert server.port is not None
        yield Kubectl(tmp_path, server.port, posted)
    finally:
        await server.close()


async def test_explain_field(kubectl: Kubectl) -> None:
    """`kubectl explain deployment.spec.strategy` prints the field, its type and fields."""
    out = await kubectl("explain", "deployment.spec.strategy")
    assert "FIELD: strategy <DeploymentStrategy>" in out
    assert "DeploymentStrategy describes how to replace existing pods" in out
    assert "rollingUpdate\t<RollingUpdateDeployment>" in out


async def test_explain_kind(kubectl: Kubectl) -> None:
    """`kubectl explain pods` describes the kind and lists its top-level fields."""
    out = await kubectl("explain", "pods")
    assert "KIND:       Pod" in out
    for field in ("apiVersion", "kind", "metadata", "spec", "status"):
        assert f"  {field}\t<" in out


async def test_explain_quantities_and_int_or_string(kubectl: Kubectl) -> None:
    """Quantity maps and int-or-string fields show their Kubernetes type names."""
    out = await kubectl("explain", "pods.spec.containers.resources")
    assert "limits\t<map[string]Quantity>" in out
    out = await kubectl("explain", "deploy.spec.strategy.rollingUpdate.maxSurge")
    assert "FIELD: maxSurge <IntOrString>" in out


async def test_kubectl_uses_server_side_validation(kubectl: Kubectl) -> None:
    """kubectl finds fieldValidation in the document and sends it instead of validating."""
    manifest = kubectl.tmp / "deployment.yaml"
    manifest.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\n"
        "spec:\n  selector: {matchLabels: {app: web}}\n  template:\n"
        "    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: web, image: nginx}]}\n"
    )
    await kubectl("create", "--validate=strict", "-f", str(manifest))
    assert len(kubectl.posted) == 1
    assert "fieldValidation=Strict" in kubectl.posted[0]
