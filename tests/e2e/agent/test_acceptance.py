"""Acceptance through the server API and a real agent on Podman: OOM kills, readiness both ways,
configMap volumes that follow updates, and PersistentVolumeClaim data that outlives its pod."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from agent.runtime.interface import LABEL_POD_UID, ContainerId, Runtime, exec_output
from edgekube.client import CONFIGMAPS, PERSISTENT_VOLUME_CLAIMS, PODS, ApiClient, NotFound
from tests.e2e.agent.conftest import (
    AgentProcess,
    condition,
    container,
    eventually,
    pod_body,
    pod_where,
    running,
    statuses,
)

Obj = dict[str, Any]


def _id(pod: Obj, name: str) -> ContainerId:
    return ContainerId(statuses(pod)[name]["containerID"].removeprefix("podman://"))


async def _delete_and_wait(api: ApiClient, runtime: Runtime, pod: Obj) -> None:
    name = pod["metadata"]["name"]
    await api.delete(PODS, name, "default")

    async def gone() -> bool:
        try:
            await api.get(PODS, name, "default")
        except NotFound:
            return True
        return False

    async def no_sandbox() -> bool:  # a terminal pod leaves the API at once, its sandbox just after
        return await runtime.list_pod_sandboxes({LABEL_POD_UID: pod["metadata"]["uid"]}) == []

    await eventually(gone, within=20)
    await eventually(no_sandbox, within=10)


async def _sh(runtime: Runtime, container_id: ContainerId, script: str) -> str:
    result = await exec_output(runtime, container_id, ["sh", "-c", script], timeout_seconds=10)
    assert result.exit_code == 0, (script, result)
    return result.stdout.decode()


async def test_memory_limit_ends_in_oomkilled(
    api: ApiClient, agent_factory: Callable[..., AgentProcess], busybox_image: str, runtime: Runtime
) -> None:
    """A container over limits.memory is reported terminated with reason OOMKilled."""
    agent = agent_factory().start()
    hog = container(
        "hog",
        busybox_image,
        "sh", "-c", "a=$(yes | head -c 100000000); sleep 1",
        resources={"limits": {"memory": "16Mi"}},
    )  # fmt: skip
    await api.create(PODS, pod_body("hog", agent.node, [hog], restartPolicy="Never"))
    pod = await pod_where(api, "hog", lambda p: "terminated" in (statuses(p).get("hog") or {}).get("state", {}))
    terminated = statuses(pod)["hog"]["state"]["terminated"]
    assert terminated["reason"] == "OOMKilled", terminated
    assert terminated["exitCode"] == 137, terminated
    assert (await pod_where(api, "hog", lambda p: p["status"].get("phase") == "Failed"))["status"]["phase"] == "Failed"
    await _delete_and_wait(api, runtime, pod)


async def test_readiness_goes_true_and_back_to_false(
    api: ApiClient, agent_factory: Callable[..., AgentProcess], busybox_image: str, runtime: Runtime
) -> None:
    """An exec readiness probe: not Ready at first, Ready once the file exists, not Ready once it is gone."""
    agent = agent_factory().start()
    probe = {"exec": {"command": ["test", "-f", "/tmp/ready"]}, "periodSeconds": 1, "failureThreshold": 1}
    main = container("main", busybox_image, "sleep", "3600", readinessProbe=probe)
    await api.create(PODS, pod_body("flipper", agent.node, [main]))
    pod = await pod_where(api, "flipper", lambda p: running(p, "main"))
    assert condition(pod, "Ready") == "False" and not statuses(pod)["main"]["ready"]
    await eventually(lambda: _still_not_ready(api), within=3)  # probes run, and fail, for a while
    main_id = _id(pod, "main")

    await _sh(runtime, main_id, "touch /tmp/ready")
    ready = await pod_where(api, "flipper", lambda p: condition(p, "Ready") == "True", within=15)
    assert statuses(ready)["main"]["ready"] and condition(ready, "ContainersReady") == "True"

    await _sh(runtime, main_id, "rm /tmp/ready")
    unready = await pod_where(api, "flipper", lambda p: condition(p, "Ready") == "False", within=15)
    assert not statuses(unready)["main"]["ready"]
    assert statuses(unready)["main"]["restartCount"] == 0 and running(unready, "main")
    await _delete_and_wait(api, runtime, unready)


async def _still_not_ready(api: ApiClient) -> bool:
    """True after ~2 s during which the pod never became Ready."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        pod = await api.get(PODS, "flipper", "default")
        assert condition(pod, "Ready") == "False", pod["status"]
        await asyncio.sleep(0.2)
    return True


async def test_configmap_volume_follows_updates(
    api: ApiClient, agent_factory: Callable[..., AgentProcess], busybox_image: str, runtime: Runtime
) -> None:
    """A mounted ConfigMap shows its data, and an update through the API reaches the file within a minute.

    The agent refreshes configMap files every `volume_refresh_interval` (30 s by default), so a
    change lands within one interval and one resync: the test waits up to a minute, as promised."""
    agent = agent_factory().start()
    config = {"metadata": {"name": "site", "namespace": "default"}, "data": {"greeting": "first"}}
    await api.create(CONFIGMAPS, config)
    mounts = [{"name": "site", "mountPath": "/etc/site", "readOnly": True}]
    main = container("main", busybox_image, "sleep", "3600", volumeMounts=mounts)
    volumes = [{"name": "site", "configMap": {"name": "site"}}]
    await api.create(PODS, pod_body("configured", agent.node, [main], volumes=volumes))
    pod = await pod_where(api, "configured", lambda p: running(p, "main"))
    main_id = _id(pod, "main")
    assert await _sh(runtime, main_id, "cat /etc/site/greeting") == "first"

    current = await api.get(CONFIGMAPS, "site", "default")
    current["data"] = {"greeting": "second"}
    await api.update(CONFIGMAPS, current)

    async def changed() -> bool:
        return await _sh(runtime, main_id, "cat /etc/site/greeting") == "second"

    # the refresh comes up to 30 s after the update, seen at the next resync (2 s here)
    await eventually(changed, within=60, interval=1)
    await _delete_and_wait(api, runtime, pod)


async def test_claim_data_outlives_the_pod(
    api: ApiClient, agent_factory: Callable[..., AgentProcess], busybox_image: str, runtime: Runtime
) -> None:
    """A claim without storageClassName gets a local-path volume whose data survives pod deletion."""
    agent = agent_factory().start()
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Mi"}}},
    }
    await api.create(PERSISTENT_VOLUME_CLAIMS, claim)
    mounts = [{"name": "data", "mountPath": "/data"}]
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    writer = container(
        "main", busybox_image, "sh", "-c", "echo kept > /data/note; exec sleep 3600", volumeMounts=mounts
    )
    await api.create(PODS, pod_body("writer", agent.node, [writer], volumes=volumes))
    first = await pod_where(api, "writer", lambda p: running(p, "main"))

    async def written() -> bool:
        return await _sh(runtime, _id(first, "main"), "cat /data/note 2>/dev/null || true") == "kept\n"

    await eventually(written, within=10)
    bound = await api.get(PERSISTENT_VOLUME_CLAIMS, "data", "default")
    assert bound["status"]["phase"] == "Bound" and bound["spec"]["volumeName"], bound
    assert bound["spec"].get("storageClassName") in (None, "local-path"), bound["spec"]
    await _delete_and_wait(api, runtime, first)

    reader = container("main", busybox_image, "sleep", "3600", volumeMounts=mounts)
    await api.create(PODS, pod_body("writer", agent.node, [reader], volumes=volumes))
    second = await pod_where(api, "writer", lambda p: running(p, "main"))
    assert second["metadata"]["uid"] != first["metadata"]["uid"]
    assert await _sh(runtime, _id(second, "main"), "cat /data/note") == "kept\n"
    again = await api.get(PERSISTENT_VOLUME_CLAIMS, "data", "default")
    assert again["spec"]["volumeName"] == bound["spec"]["volumeName"]
    await _delete_and_wait(api, runtime, second)
