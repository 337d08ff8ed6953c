"""The agent registers its node and runs pods with Podman: containers, localhost, restarts, deletion."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from agent.runtime.interface import LABEL_POD_UID, ContainerId, Runtime
from edgekube.client import LEASES, NODE_LEASE_NAMESPACE, NODES, PODS, ApiClient, NotFound
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

WEB = "echo shared-page > /shared/index.html; exec httpd -f -p 8080 -h /shared"
CLIENT = (
    "until wget -q -O /tmp/page http://127.0.0.1:8080/; do sleep 0.2; done; "
    "cat /tmp/page; echo file: $(cat /shared/index.html); exec sleep 3600"
)  # fmt: skip


async def test_node_registers_and_two_containers_share_localhost(
    api: ApiClient, agent_factory: Callable[..., AgentProcess], busybox_image: str, runtime: Runtime
) -> None:
    """The node registers with host facts and a Lease; two containers share localhost and an emptyDir."""
    agent = agent_factory().start()
    node = await eventually(lambda: api.get(NODES, agent.node))
    info = node["status"]["nodeInfo"]
    assert info["containerRuntimeVersion"].startswith("podman://")
    assert info["kubeletVersion"] == "v1.32.0-edgekube"
    assert info["osImage"] and info["kernelVersion"] and info["architecture"] in ("amd64", "arm64")
    assert {"type": "InternalIP", "address": "127.0.0.1"} in node["status"]["addresses"]
    assert int(node["status"]["capacity"]["pods"]) == 110
    assert node["status"]["capacity"]["memory"].endswith("Ki")
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == agent.node
    assert condition(node, "Ready") == "True" and condition(node, "MemoryPressure") == "False"
    lease = await eventually(lambda: api.get(LEASES, agent.node, NODE_LEASE_NAMESPACE))
    assert lease["spec"]["holderIdentity"] == agent.node
    await asyncio.sleep(2.5)  # status checks every second, Lease renewals every second
    assert (await api.get(NODES, agent.node))["metadata"]["resourceVersion"] == node["metadata"]["resourceVersion"]
    renewed = await api.get(LEASES, agent.node, NODE_LEASE_NAMESPACE)
    assert renewed["spec"]["renewTime"] != lease["spec"]["renewTime"]

    shared = [{"name": "shared", "mountPath": "/shared"}]
    web = container("web", busybox_image, "sh", "-c", WEB, volumeMounts=shared)
    client = container("client", busybox_image, "sh", "-c", CLIENT, volumeMounts=shared)
    volumes = [{"name": "shared", "emptyDir": {}}]
    await api.create(PODS, pod_body("pair", agent.node, [web, client], volumes=volumes))
    pod = await pod_where(api, "pair", lambda p: condition(p, "Ready") == "True")
    assert pod["status"]["phase"] == "Running"
    assert pod["status"]["hostIP"] == "127.0.0.1"
    for name, status in statuses(pod).items():
        assert status["ready"] and status["restartCount"] == 0, name
        assert status["containerID"].startswith("podman://")
        assert status["imageID"]
    client_id = ContainerId(statuses(pod)["client"]["containerID"].removeprefix("podman://"))

    async def page_fetched() -> bool:
        lines = [line.text async for line in runtime.logs(client_id)]
        return "shared-page" in lines and "file: shared-page" in lines

    await eventually(page_fetched)

    await api.delete(PODS, "pair", "default")
    await eventually(lambda: _gone(api, "pair"), within=20)
    uid = pod["metadata"]["uid"]
    assert await runtime.list_pod_sandboxes({LABEL_POD_UID: uid}) == []


async def _gone(api: ApiClient, name: str) -> bool:
    try:
        await api.get(PODS, name, "default")
    except NotFound:
        return True
    return False


async def test_crash_loop_backs_off_with_growing_delays(
    api: ApiClient, agent_factory: Callable[..., AgentProcess], busybox_image: str
) -> None:
    """A crashing container is restarted at once, then after 1 s, 2 s, 4 s: CrashLoopBackOff, lastState Error."""
    agent = agent_factory("--crash-backoff", "1", "--crash-backoff-max", "4").start()
    crash = container("crash", busybox_image, "sh", "-c", "echo dying; exit 3")
    await api.create(PODS, pod_body("crasher", agent.node, [crash]))
    seen: dict[int, float] = {}
    backoff_seen = False

    async def restarts_reach(count: int) -> bool:
        nonlocal backoff_seen
        pod = await api.get(PODS, "crasher", "default")
        status = statuses(pod).get("crash") or {}
        restarts = int(status.get("restartCount", 0))
        seen.setdefault(restarts, time.monotonic())
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") == "CrashLoopBackOff":
            backoff_seen = True
            assert "back-off" in waiting["message"]
            last = status["lastState"]["terminated"]
            assert last["exitCode"] == 3 and last["reason"] == "Error"
        return restarts >= count

    await eventually(lambda: restarts_reach(4), within=30, interval=0.1)
    assert backoff_seen
    pod = await api.get(PODS, "crasher", "default")
    assert pod["status"]["phase"] == "Running"
    assert condition(pod, "Ready") == "False"
    # restart 1 at once, then waits of 1 s, 2 s: the gaps grow
    gap_2, gap_3, gap_4 = seen[2] - seen[1], seen[3] - seen[2], seen[4] - seen[3]
    assert gap_2 >= 0.7 and gap_3 >= 1.5 and gap_4 >= 3.0, (gap_2, gap_3, gap_4)
    assert gap_4 > gap_2


async def test_restart_policies_end_in_failed_and_succeeded(
    api: ApiClient, agent_factory: Callable[..., AgentProcess], busybox_image: str
) -> None:
    """restartPolicy Never with exit 1 ends Failed; OnFailure with exit 0 ends Succeeded; neither restarts."""
    agent = agent_factory().start()
    failing = container("main", busybox_image, "sh", "-c", "exit 1")
    done = container("main", busybox_image, "sh", "-c", "echo done")
    init = container("setup", busybox_image, "sh", "-c", "echo setting up")
    await api.create(PODS, pod_body("never", agent.node, [failing], restartPolicy="Never"))
    await api.create(PODS, pod_body("once", agent.node, [done], restartPolicy="OnFailure", initContainers=[init]))
    failed = await pod_where(api, "never", lambda p: p["status"].get("phase") == "Failed")
    end = statuses(failed)["main"]
    assert end["state"]["terminated"]["exitCode"] == 1 and end["state"]["terminated"]["reason"] == "Error"
    assert end["restartCount"] == 0
    succeeded = await pod_where(api, "once", lambda p: p["status"].get("phase") == "Succeeded")
    assert statuses(succeeded)["main"]["state"]["terminated"]["reason"] == "Completed"
    init_status = succeeded["status"]["initContainerStatuses"][0]
    assert init_status["state"]["terminated"]["exitCode"] == 0 and init_status["ready"]
    assert condition(succeeded, "Initialized") == "True" and condition(succeeded, "Ready") == "False"


async def test_env_command_and_missing_image(
    api: ApiClient, agent_factory: Callable[..., AgentProcess], busybox_image: str, runtime: Runtime
) -> None:
    """env from values, fieldRef and a ConfigMap reaches the process; a missing image with Never waits."""
    from edgekube.client import CONFIGMAPS

    agent = agent_factory().start()
    await api.create(CONFIGMAPS, {"metadata": {"name": "settings", "namespace": "default"}, "data": {"mode": "edge"}})
    env = [
        {"name": "GREETING", "value": "hello"},
        {"name": "WHO", "value": "$(GREETING) $(POD)"},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
    ]
    show = container("show", busybox_image, "sh", "-c", "echo $MODE $POD $(GREETING); exec sleep 3600", env=env)
    missing = container("ghost", "localhost/not-there:1", "true", imagePullPolicy="Never")
    await api.create(PODS, pod_body("envs", agent.node, [show]))
    await api.create(PODS, pod_body("ghost", agent.node, [missing]))
    pod = await pod_where(api, "envs", lambda p: running(p, "show"))
    show_id = ContainerId(statuses(pod)["show"]["containerID"].removeprefix("podman://"))

    async def printed() -> bool:
        return "edge envs hello" in [line.text async for line in runtime.logs(show_id)]

    await eventually(printed)
    ghost = await pod_where(api, "ghost", lambda p: "waiting" in (statuses(p).get("ghost") or {}).get("state", {}))
    waiting = statuses(ghost)["ghost"]["state"]["waiting"]
    assert waiting["reason"] == "ErrImageNeverPull", waiting
    assert ghost["status"]["phase"] == "Pending"


async def test_probes_drive_readiness_and_liveness_restarts(
    api: ApiClient, agent_factory: Callable[..., AgentProcess], busybox_image: str
) -> None:
    """A readiness probe holds Ready until it passes; a failing liveness probe restarts the container."""
    agent = agent_factory().start()
    ready = {"exec": {"command": ["test", "-f", "/tmp/ready"]}, "periodSeconds": 1, "failureThreshold": 1}
    live = {"exec": {"command": ["test", "-f", "/tmp/alive"]}, "periodSeconds": 1, "failureThreshold": 2}
    slow = container(
        "slow", busybox_image, "sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 3600", readinessProbe=ready
    )
    dying = container("dying", busybox_image, "sleep", "3600", livenessProbe=live)
    await api.create(PODS, pod_body("probed", agent.node, [slow]))
    await api.create(PODS, pod_body("unhealthy", agent.node, [dying]))
    early = await pod_where(api, "probed", lambda p: running(p, "slow"))
    assert not statuses(early)["slow"]["ready"] and condition(early, "Ready") == "False"
    await pod_where(api, "probed", lambda p: condition(p, "Ready") == "True", within=20)
    restarted = await pod_where(api, "unhealthy", lambda p: statuses(p)["dying"]["restartCount"] >= 1, within=30)
    last = statuses(restarted)["dying"]["lastState"]["terminated"]
    assert last["exitCode"] in (137, 143), last
