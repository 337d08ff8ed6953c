"""The real kubectl reads our discovery: `api-resources`, `api-versions` and `version`."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.support.tools import require_kubectl

Client = TestClient[web.Request, web.Application]


async def _kubectl(client: Client, tmp_path: Path, *args: str) -> str:
    """Run kubectl against the test server over plain HTTP, without auth; return stdout."""
    config = tmp_path / "kubeconfig"
    server = str(client.make_url("")).rstrip("/")
    config.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "t", "cluster": {"server": server}}],
                "users": [{"name": "t", "user": {}}],
                "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
                "current-context": "t",
            }
        )
    )
    env = {**os.environ, "KUBECONFIG": str(config), "HOME": str(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        require_kubectl(),
        *args,
        "--cache-dir",
        str(tmp_path / "cache"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_api_resources(client: Client, tmp_path: Path) -> None:
    """`kubectl api-resources` lists our kinds with short names, scope and kind."""
    out = await _kubectl(client, tmp_path, "api-resources", "--no-headers")
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert rows["pods"] == ["pods", "po", "v1", "true", "Pod"]
    assert rows["deployments"] == ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    assert rows["nodes"] == ["nodes", "no", "v1", "false", "Node"]
    assert {"services", "configmaps", "replicasets", "daemonsets", "leases"} <= rows.keys()


async def test_api_versions(client: Client, tmp_path: Path) -> None:
    """`kubectl api-versions` lists the core and named group-versions."""
    out = await _kubectl(client, tmp_path, "api-versions")
    assert {"v1", "apps/v1", "coordination.k8s.io/v1"} <= set(out.split())


async def test_version(client: Client, tmp_path: Path) -> None:
    """`kubectl version` reads the server version."""
    out = await _kubectl(client, tmp_path, "version", "-o", "json")
    server = json.loads(out)["serverVersion"]
    assert server["gitVersion"].startswith("v1.32.0+edgekube-")
