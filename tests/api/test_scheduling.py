"""The scheduler inside a real `edgekube server`: pods created over HTTPS get nodes, or say why not.

Uses a server of its own: nodes are cluster-wide, and on the shared server they would
take other tests' pods.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.client import session
from tests.support.servers import ServerProcess

KUBECTL = "/usr/bin/kubectl"
PODS = "/api/v1/namespaces/default/pods"
NO_ROOM = "0/2 nodes are available: 2 Insufficient memory."


def node(name: str, memory: str) -> dict[str, Any]:
    allocatable = {"cpu": "4", "memory": memory, "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "capacity": allocatable,
            "allocatable": allocatable,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }


def pod(name: str, memory: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [{"name": "app", "image": "localhost/app:1", "resources": {"requests": {"memory": memory}}}]
        },
    }


async def poll(s: aiohttp.ClientSession, path: str, check: Any, within: float = 15.0) -> Any:
    """GET `path` until `check(body)` is truthy; returns that value."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with s.get(path) as r:
            assert r.status == 200, await r.text()
            found = check(await r.json())
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, f"{path}: condition not reached"
        await asyncio.sleep(0.1)


async def test_pods_get_nodes_and_describe_shows_why_not(fresh_server: ServerProcess, tmp_path: Path) -> None:
    """A pod that fits is bound; one that fits nowhere shows FailedScheduling in `kubectl describe`."""
    fresh_server.start()
    async with session(fresh_server) as s:
        for name, memory in (("edge-1", "2Gi"), ("edge-2", "8Gi")):
            async with s.post("/api/v1/nodes", json=node(name, memory)) as r:
                assert r.status == 201, await r.text()
        for name, memory in (("fits", "4Gi"), ("too-big", "64Gi")):
            async with s.post(PODS, json=pod(name, memory)) as r:
                assert r.status == 201, await r.text()

        bound = await poll(s, f"{PODS}/fits", lambda p: p["spec"].get("nodeName"))
        assert bound == "edge-2"
        events = "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dtoo-big"
        (failed,) = await poll(s, events, lambda e: [i for i in e["items"] if i["reason"] == "FailedScheduling"])
        assert (failed["type"], failed["message"]) == ("Warning", NO_ROOM)
        waiting = await poll(s, f"{PODS}/too-big", lambda p: p)
        assert not waiting["spec"].get("nodeName") and waiting["status"]["phase"] == "Pending"

    described = await kubectl(fresh_server, tmp_path, "describe", "pod", "too-big")
    (line,) = [ln for ln in described.splitlines() if "FailedScheduling" in ln]
    assert line.split()[:2] == ["Warning", "FailedScheduling"]
    assert "default-scheduler" in line.split() and line.endswith(NO_ROOM)
    scheduled = await kubectl(fresh_server, tmp_path, "describe", "pod", "fits")
    assert "Successfully assigned default/fits to edge-2" in scheduled


async def kubectl(server: ServerProcess, tmp_path: Path, *args: str) -> str:
    """The stdout of the real kubectl (which must succeed), with the server's kubeconfig."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "KUBECTL_"))}
    env["HOME"] = str(tmp_path)
    argv = [KUBECTL, "--kubeconfig", str(server.kubeconfig), "--cache-dir", str(tmp_path / "cache"), *args]
    done = await asyncio.to_thread(
        subprocess.run, argv, capture_output=True, text=True, timeout=30, env=env, check=False
    )
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done.stdout
