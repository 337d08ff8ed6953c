"""Volumes prepared from a real server, mounted into a real busybox container on Podman."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest

from agent.runtime.fake_programs import Program
from agent.runtime.interface import ContainerId, Runtime, exec_output
from agent.volumes import VolumeError, VolumeManager
from agent.volumes.mounting import filesystem_type, mount_points
from edgekube.client import CONFIGMAPS, PODS, SECRETS, ApiClient, PatchType
from tests.e2e.runtime.harness import Harness

pytestmark = pytest.mark.timeout(60)


async def run(runtime: Runtime, container: ContainerId, *argv: str) -> str:
    result = await exec_output(runtime, container, argv, timeout_seconds=10)
    assert result.exit_code == 0, result.stderr
    return result.stdout.decode()


def pod_body(name: str, node: str, volumes: list[dict[str, Any]], mounts: list[dict[str, Any]]) -> dict[str, Any]:
    """A pod already on `node` (the test's own), so no scheduler or other agent takes it."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web", "tier": "front"}},
        "spec": {
            "nodeName": node,
            "containers": [{"name": "app", "image": "localhost/busybox:latest", "volumeMounts": mounts}],
            "volumes": volumes,
        },
    }


async def test_projected_files_and_memory_volumes_in_a_container(
    api: ApiClient, namespace: str, manager: VolumeManager, pods: Harness, tmp_path: Path
) -> None:
    """configMap (keys, items, modes), secret on tmpfs, downwardAPI, emptyDir Memory and hostPath, seen from inside."""
    await api.create(CONFIGMAPS, {"metadata": {"name": "app"}, "data": {"a": "one", "b": "two"}}, namespace)
    secret = {"metadata": {"name": "creds"}, "data": {"password": base64.b64encode(b"s3cret").decode()}}
    await api.create(SECRETS, secret, namespace)
    host_dir = tmp_path / "host" / "logs"
    volumes = [
        {"name": "config", "configMap": {"name": "app"}},
        {"name": "items", "configMap": {"name": "app", "items": [{"key": "b", "path": "sub/bee", "mode": 0o600}]}},
        {"name": "creds", "secret": {"secretName": "creds", "defaultMode": 0o400}},
        {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
        {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}},
        {"name": "logs", "hostPath": {"path": str(host_dir), "type": "DirectoryOrCreate"}},
    ]
    mounts = [
        {"name": "config", "mountPath": "/etc/config"},
        {"name": "config", "mountPath": "/etc/a-only", "subPath": "a"},
        {"name": "items", "mountPath": "/etc/items"},
        {"name": "creds", "mountPath": "/etc/creds"},
        {"name": "info", "mountPath": "/etc/podinfo"},
        {"name": "cache", "mountPath": "/cache"},
        {"name": "logs", "mountPath": "/logs"},
    ]
    pod = await api.create(PODS, pod_body("web", manager.node_name, volumes, mounts), namespace)
    assert pod["spec"]["volumes"][0]["configMap"]["defaultMode"] == 420  # the server's default: 0644

    prepared = await manager.prepare(pod)
    assert {v.kind for v in prepared.values()} == {"configMap", "secret", "downwardAPI", "emptyDir", "hostPath"}
    assert filesystem_type(prepared["creds"].path) == "tmpfs"
    assert filesystem_type(prepared["cache"].path) == "tmpfs"
    assert filesystem_type(prepared["config"].path) == ""  # on disk, like the kubelet's
    assert host_dir.is_dir()

    sandbox, sandbox_spec = await pods.sandbox("volumes")
    spec = pods.container_spec(
        "app", ("sleep", "300"), Program(), mounts=tuple(manager.mounts_for(pod["spec"]["containers"][0], prepared))
    )
    container = await pods.run(sandbox, sandbox_spec, spec)
    rt = pods.runtime

    assert await run(rt, container, "cat", "/etc/config/a", "/etc/config/b") == "onetwo"
    assert await run(rt, container, "cat", "/etc/a-only") == "one"
    assert await run(rt, container, "ls", "/etc/items") == "sub\n"
    assert (await run(rt, container, "ls", "-lL", "/etc/items/sub/bee")).startswith("-rw-------")
    assert (await run(rt, container, "ls", "-lL", "/etc/config/a")).startswith("-rw-r--r--")
    assert await run(rt, container, "cat", "/etc/creds/password") == "s3cret"
    assert (await run(rt, container, "ls", "-lL", "/etc/creds/password")).startswith("-r--------")
    assert await run(rt, container, "cat", "/etc/podinfo/labels") == 'app="web"\ntier="front"'
    cache_mount = await run(rt, container, "grep", " /cache ", "/proc/mounts")
    assert cache_mount.startswith("tmpfs /cache tmpfs") and "size=8192k" in cache_mount
    written = await exec_output(rt, container, ["touch", "/etc/config/new"])
    assert written.exit_code != 0  # configMaps are read-only
    await run(rt, container, "sh", "-c", "echo hi > /cache/x && echo log > /logs/app.log")
    assert (host_dir / "app.log").read_text() == "log\n"

    # An update of the ConfigMap reaches the mounted files; a subPath mount keeps the old content.
    await api.patch(CONFIGMAPS, "app", {"data": {"a": "uno", "b": "dos"}}, namespace, patch_type=PatchType.MERGE)
    assert sorted(await manager.refresh(pod)) == ["config", "items"]
    assert await run(rt, container, "cat", "/etc/config/a", "/etc/config/b") == "unodos"
    assert await run(rt, container, "cat", "/etc/items/sub/bee") == "dos"
    assert await run(rt, container, "cat", "/etc/a-only") == "one"
    assert await manager.refresh(pod) == []  # nothing changed: nothing written

    # Labels changed on the pod: the downwardAPI file follows.
    pod = await api.patch(PODS, "web", {"metadata": {"labels": {"tier": "back"}}}, namespace)
    assert await manager.refresh(pod) == ["info"]
    assert await run(rt, container, "cat", "/etc/podinfo/labels") == 'app="web"\ntier="back"'

    await rt.remove_pod_sandbox(sandbox.id)
    uid = pod["metadata"]["uid"]
    await manager.cleanup(uid)
    assert not manager.pod_dir(uid).exists()
    assert mount_points(manager.root) == []
    assert (host_dir / "app.log").exists()  # hostPath data is the node's, never removed


async def test_missing_configmap_fails_then_works(api: ApiClient, namespace: str, manager: VolumeManager) -> None:
    """A missing ConfigMap fails prepare with its name; optional ones are empty; once created it works."""
    volumes = [
        {"name": "need", "configMap": {"name": "later"}},
        {"name": "maybe", "configMap": {"name": "never", "optional": True}},
    ]
    pod = await api.create(PODS, pod_body("waiting", manager.node_name, volumes, []), namespace)
    with pytest.raises(VolumeError, match='configmap "later" not found'):
        await manager.prepare(pod)
    await api.create(CONFIGMAPS, {"metadata": {"name": "later"}, "data": {"k": "v"}}, namespace)
    prepared = await manager.prepare(pod)
    assert (prepared["need"].path / "k").read_text() == "v"
    assert [n for n in os.listdir(prepared["maybe"].path) if not n.startswith("..")] == []
