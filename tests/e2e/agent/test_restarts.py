"""The agent survives itself and the server: adoption after kill -9, and pods kept running offline."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

from agent.pods.labels import LABEL_NODE
from agent.runtime.interface import LABEL_POD_UID, ContainerState, PodSandboxSpec, Runtime
from agent.runtime.podman_service import PodmanService
from edgekube.client import PODS, ApiClient, NotFound
from tests.e2e.agent.conftest import AgentProcess, container, eventually, pod_body, pod_where, running, statuses
from tests.e2e.conftest import podman_cli
from tests.support.servers import ServerProcess

Obj = dict[str, Any]


async def _running_pods(api: ApiClient, agent: AgentProcess, image: str, *names: str) -> dict[str, Obj]:
    for name in names:
        await api.create(PODS, pod_body(name, agent.node, [container("main", image, "sleep", "3600")]))
    return {name: await pod_where(api, name, lambda p: running(p, "main")) for name in names}


async def _containers(runtime: Runtime, uid: str) -> dict[str, tuple[ContainerState, int]]:
    """The pod's containers in Podman: id -> (state, restart count)."""
    return {c.id: (c.state, c.restart_count) for c in await runtime.list_containers({LABEL_POD_UID: uid})}


async def _sandboxes(runtime: Runtime, uid: str) -> int:
    return len(await runtime.list_pod_sandboxes({LABEL_POD_UID: uid}))


async def _absent(api: ApiClient, name: str) -> bool:
    try:
        await api.get(PODS, name, "default")
    except NotFound:
        return True
    return False


async def test_kill_9_then_restart_adopts_running_containers(
    api: ApiClient,
    agent_factory: Callable[..., AgentProcess],
    busybox_image: str,
    runtime: Runtime,
    podman_service: PodmanService,
) -> None:
    """After kill -9 and a restart: same container ids and start times, deleted pods and strays removed."""
    agent = agent_factory().start()
    pods = await _running_pods(api, agent, busybox_image, "steady", "doomed")
    steady = pods["steady"]
    before = await _containers(runtime, steady["metadata"]["uid"])
    started = statuses(steady)["main"]["state"]["running"]["startedAt"]

    agent.kill9()
    await api.delete(PODS, "doomed", "default", grace_period_seconds=0)  # gone for good while nobody watched
    key, label = agent.run_label
    stray = await runtime.create_pod_sandbox(
        PodSandboxSpec(
            uid=str(uuid.uuid4()), namespace="default", name="stray", labels={LABEL_NODE: agent.node, key: label}
        )
    )
    podman = podman_cli(podman_service)
    foreign = f"foreign-{agent.node}"
    podman.run("pod", "create", "--network", "none", "--label", f"{key}={label}", "--name", foreign)
    try:
        agent.start()
        doomed_uid = pods["doomed"]["metadata"]["uid"]
        await eventually(lambda: _none_left(runtime, doomed_uid, str(stray.pod_uid)), within=20)
        await asyncio.sleep(2.5)  # a resync or two: nothing may restart, nothing may be rewritten
        after = await _containers(runtime, steady["metadata"]["uid"])
        assert after == before and all(state is ContainerState.RUNNING for state, _ in after.values())
        now = await api.get(PODS, "steady", "default")
        assert statuses(now)["main"]["state"]["running"]["startedAt"] == started
        assert statuses(now)["main"]["restartCount"] == 0
        assert now["metadata"]["resourceVersion"] == steady["metadata"]["resourceVersion"], "status rewritten"
        assert foreign in podman.run("pod", "ps", "--format", "{{.Name}}")  # not ours: untouched
    finally:
        podman.run("pod", "rm", "-f", foreign, check=False)


async def _none_left(runtime: Runtime, *uids: str) -> bool:
    return all([await _sandboxes(runtime, uid) == 0 for uid in uids])


async def test_offline_pods_keep_running_restart_and_resync(
    api: ApiClient,
    server: ServerProcess,
    agent_factory: Callable[..., AgentProcess],
    busybox_image: str,
    runtime: Runtime,
    podman_service: PodmanService,
) -> None:
    """Server down and agent restarted: pods come back from disk and are restarted; on return all is resynced."""
    agent = agent_factory("--crash-backoff", "1").start()
    pods = await _running_pods(api, agent, busybox_image, "keeper", "graceful", "forced")
    uids = {name: pod["metadata"]["uid"] for name, pod in pods.items()}

    # While the agent is away: one pod is deleted gracefully (it waits for the agent), one for good.
    agent.kill9()
    await api.delete(PODS, "graceful", "default")
    await api.delete(PODS, "forced", "default", grace_period_seconds=0)
    server.stop()

    agent.start()  # offline: the local copy is all it has
    old = await _containers(runtime, uids["keeper"])
    (old_id,) = old
    podman_cli(podman_service).run("kill", old_id)

    async def restarted() -> str | None:
        found = await _containers(runtime, uids["keeper"])
        fresh = [cid for cid, (state, count) in found.items() if state is ContainerState.RUNNING and count == 1]
        return fresh[0] if fresh else None

    new_id = await eventually(restarted, within=20)
    assert [await _sandboxes(runtime, uids[name]) for name in ("graceful", "forced")] == [1, 1], "kept offline"
    pending = agent.data_dir / "agent" / "status" / f"{uids['keeper']}.json"
    await eventually(lambda: _exists(pending))
    assert json.loads(pending.read_text())["status"]["containerStatuses"][0]["restartCount"] == 1

    server.start()
    keeper = await pod_where(
        api, "keeper", lambda p: statuses(p)["main"]["restartCount"] == 1 and running(p, "main"), within=30
    )
    main = statuses(keeper)["main"]
    assert main["containerID"] == f"podman://{new_id}"
    assert main["lastState"]["terminated"]["exitCode"] == 137
    assert main["lastState"]["terminated"]["containerID"] == f"podman://{old_id}"
    await eventually(lambda: _absent(api, "graceful"), within=30)
    await eventually(lambda: _none_left(runtime, uids["graceful"], uids["forced"]), within=30)
    await eventually(lambda: _not_exists(pending))
    assert await _sandboxes(runtime, uids["keeper"]) == 1


async def _exists(path: Any) -> bool:
    return bool(path.exists())


async def _not_exists(path: Any) -> bool:
    return not path.exists()
