"""The manager without a server: an agent restarted offline keeps the volumes it prepared."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from agent.volumes import VolumeError, VolumeManager, VolumeSettings
from agent.volumes.provisioning import is_default_class, storage_class_body, volume_nodes, volume_path
from edgekube.client import ApiClient, NotFound, Resource, ServerUnreachable


class StubClient:
    """Answers GETs from a dict; `offline` makes every call fail as an unreachable server would."""

    def __init__(self, objects: dict[tuple[str, str, str], dict[str, Any]]) -> None:
        self.objects = objects
        self.offline = False

    async def get(self, resource: Resource, name: str, namespace: str | None = None) -> dict[str, Any]:
        if self.offline:
            raise ServerUnreachable("connection refused")
        try:
            return self.objects[(resource.plural, namespace or "", name)]
        except KeyError:
            raise NotFound(f"{name} not found") from None


POD = {
    "metadata": {"name": "p", "namespace": "ns", "uid": "uid-1"},
    "spec": {"volumes": [{"name": "cfg", "configMap": {"name": "app"}}, {"name": "scratch", "emptyDir": {}}]},
}


def manager(client: StubClient, root: Path) -> VolumeManager:
    return VolumeManager(cast(ApiClient, client), root, "node-1")


async def test_restart_while_offline_reuses_prepared_volumes(tmp_path: Path) -> None:
    """prepare after a restart with the server unreachable returns the volumes as last prepared."""
    client = StubClient({("configmaps", "ns", "app"): {"data": {"k": "v1"}}})
    first = await manager(client, tmp_path).prepare(POD)
    client.offline = True
    again = await manager(client, tmp_path).prepare(POD)  # a new manager: the agent restarted
    assert again == first
    assert (again["cfg"].path / "k").read_text() == "v1"


async def test_offline_without_a_record_fails(tmp_path: Path) -> None:
    """A pod never prepared cannot be prepared offline: a VolumeError says why."""
    client = StubClient({})
    client.offline = True
    with pytest.raises(VolumeError, match="unreachable"):
        await manager(client, tmp_path).prepare(POD)


async def test_refresh_keeps_files_when_offline_or_deleted(tmp_path: Path) -> None:
    """refresh keeps the last content when the server is unreachable or the ConfigMap was deleted."""
    client = StubClient({("configmaps", "ns", "app"): {"data": {"k": "v1"}}})
    volumes = VolumeManager(
        cast(ApiClient, client), tmp_path, "node-1", settings=VolumeSettings(object_cache_seconds=0)
    )
    prepared = await volumes.prepare(POD)
    client.offline = True
    assert await volumes.refresh(POD) == []
    client.offline = False
    client.objects[("configmaps", "ns", "app")] = {"data": {"k": "v2"}}
    assert await volumes.refresh(POD) == ["cfg"]
    del client.objects[("configmaps", "ns", "app")]
    assert await volumes.refresh(POD) == []
    assert (prepared["cfg"].path / "k").read_text() == "v2"
    await volumes.cleanup("uid-1")
    assert not (tmp_path / "pods" / "uid-1").exists()
    assert prepared["scratch"].path.parent.parent.parent.name == "uid-1"


def test_storage_class_shape() -> None:
    """The built-in class: local-path, WaitForFirstConsumer, Delete, the default."""
    body = storage_class_body()
    assert (body["metadata"]["name"], body["provisioner"]) == ("local-path", "edgekube.io/local-path")
    assert (body["volumeBindingMode"], body["reclaimPolicy"]) == ("WaitForFirstConsumer", "Delete")
    assert is_default_class(body)


def test_volume_path_and_nodes() -> None:
    """A PV's path comes from hostPath or local; its nodes from the hostname affinity."""
    affinity = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["a", "b"]}]}]}}  # fmt: skip
    pv = {"metadata": {"name": "v"}, "spec": {"local": {"path": "/data/v"}, "nodeAffinity": affinity}}
    assert volume_path(pv) == Path("/data/v")
    assert volume_nodes(pv) == {"a", "b"}
    assert volume_nodes({"spec": {}}) is None
    with pytest.raises(VolumeError, match="nfs"):
        volume_path({"metadata": {"name": "n"}, "spec": {"nfs": {"server": "s", "path": "/"}}})
