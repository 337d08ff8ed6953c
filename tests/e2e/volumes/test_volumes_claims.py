"""PersistentVolumeClaims through the local-path provisioner against a real server."""

from __future__ import annotations

from typing import Any

import pytest

from agent.volumes import LOCAL_PATH_CLASS, PROVISIONER, VolumeManager
from agent.volumes.provisioning import STORAGE_CLASSES
from edgekube.client import PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, PODS, ApiClient, NotFound

pytestmark = pytest.mark.timeout(60)


def claim_body(name: str, **spec: Any) -> dict[str, Any]:
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, **spec}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def pod_body(name: str, claim: str, node: str) -> dict[str, Any]:
    """A pod already on `node` (the test's own), so no scheduler or other agent takes it."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,
            "containers": [{"name": "db", "image": "localhost/busybox:latest"}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
        },
    }


async def test_local_path_claim_lifecycle(api: ApiClient, namespace: str, manager: VolumeManager) -> None:
    """A claim without a class gets a bound local-path PV here; data outlives pods; deleting the claim deletes it."""
    claim = await api.create(PERSISTENT_VOLUME_CLAIMS, claim_body("db"), namespace)
    pv_name = f"pvc-{claim['metadata']['uid']}"
    try:
        pod = await api.create(PODS, pod_body("db-0", "db", manager.node_name), namespace)
        prepared = await manager.prepare(pod)
        data = prepared["data"].path
        assert prepared["data"].kind == "persistentVolumeClaim" and not prepared["data"].read_only
        assert data == manager.storage_dir / f"{pv_name}_{namespace}_db"
        assert manager.storage_dir == manager.root.parent / "storage"

        storage_class = await api.get(STORAGE_CLASSES, LOCAL_PATH_CLASS)
        assert storage_class["provisioner"] == PROVISIONER
        assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"
        assert storage_class["reclaimPolicy"] == "Delete"
        assert storage_class["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"

        pv = await api.get(PERSISTENT_VOLUMES, pv_name)
        assert pv["spec"]["hostPath"]["path"] == str(data)
        assert pv["spec"]["capacity"] == {"storage": "1Gi"}
        assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
        assert pv["spec"]["claimRef"]["uid"] == claim["metadata"]["uid"]
        terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
        assert terms[0]["matchExpressions"][0]["values"] == [manager.node_name]
        assert pv["status"]["phase"] == "Bound"
        bound = await api.get(PERSISTENT_VOLUME_CLAIMS, "db", namespace)
        assert bound["spec"]["volumeName"] == pv_name
        assert bound["spec"]["storageClassName"] == LOCAL_PATH_CLASS
        assert bound["status"]["phase"] == "Bound"
        assert bound["status"]["capacity"] == {"storage": "1Gi"}

        # Data survives the pod's cleanup, its deletion, and a new pod (new uid) on the same claim.
        (data / "table").write_text("rows")
        assert await manager.prepare(pod) == prepared  # idempotent
        await manager.cleanup(pod["metadata"]["uid"])
        await api.delete(PODS, "db-0", namespace, grace_period_seconds=0)
        assert (data / "table").read_text() == "rows"
        pod = await api.create(PODS, pod_body("db-0", "db", manager.node_name), namespace)
        again = await manager.prepare(pod)
        assert again["data"].path == data and (data / "table").read_text() == "rows"

        # The claim is deleted while a pod still has it: nothing is removed until that pod is gone.
        await api.delete(PERSISTENT_VOLUME_CLAIMS, "db", namespace)
        assert await manager.reconcile_volumes() == []
        assert data.is_dir()
        await manager.cleanup(pod["metadata"]["uid"])
        assert await manager.reconcile_volumes() == [pv_name]
        assert not data.exists()
        with pytest.raises(NotFound):
            await api.get(PERSISTENT_VOLUMES, pv_name)
    finally:
        try:
            await api.delete(PERSISTENT_VOLUMES, pv_name)
        except NotFound:
            pass


async def test_claims_of_other_classes_are_left_alone(api: ApiClient, namespace: str, manager: VolumeManager) -> None:
    """A claim of a class this agent does not provision fails prepare with a clear message, and nothing is made."""
    await api.create(PERSISTENT_VOLUME_CLAIMS, claim_body("nfs", storageClassName="nfs-fast"), namespace)
    pod = await api.create(PODS, pod_body("user", "nfs", manager.node_name), namespace)
    with pytest.raises(Exception, match="'nfs-fast' is not provisioned by this agent"):
        await manager.prepare(pod)
    claim = await api.get(PERSISTENT_VOLUME_CLAIMS, "nfs", namespace)
    assert not claim["spec"].get("volumeName")
    assert not manager.storage_dir.exists() or not list(manager.storage_dir.iterdir())


async def test_retain_policy_marks_released(api: ApiClient, namespace: str, manager: VolumeManager) -> None:
    """A volume of ours with policy Retain whose claim is gone is marked Released and its data kept."""
    claim = await api.create(PERSISTENT_VOLUME_CLAIMS, claim_body("keep", storageClassName="local-path"), namespace)
    pv_name = f"pvc-{claim['metadata']['uid']}"
    try:
        pod = await api.create(PODS, pod_body("keeper", "keep", manager.node_name), namespace)
        data = (await manager.prepare(pod))["data"].path
        await manager.cleanup(pod["metadata"]["uid"])
        await api.patch(PERSISTENT_VOLUMES, pv_name, {"spec": {"persistentVolumeReclaimPolicy": "Retain"}})
        await api.delete(PERSISTENT_VOLUME_CLAIMS, "keep", namespace)
        assert await manager.reconcile_volumes() == []
        assert (await api.get(PERSISTENT_VOLUMES, pv_name))["status"]["phase"] == "Released"
        assert data.is_dir()
    finally:
        try:
            await api.delete(PERSISTENT_VOLUMES, pv_name)
        except NotFound:
            pass
