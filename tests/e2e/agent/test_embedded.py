"""The agent in-process, as the server embeds it, with a Podman service of its own."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from pathlib import Path

from agent.embedding import embedded_settings
from agent.running import run_agent
from agent.runtime.interface import Runtime
from agent.runtimes import alive
from edgekube.client import NODES, PODS, ApiClient
from edgekube.config import AgentSettings as ServerAgentSettings
from edgekube.config import ServerSettings
from tests.e2e.agent.conftest import container, eventually, pod_body, pod_where, running, statuses
from tests.support.servers import ServerProcess


async def test_embedded_agent_runs_its_own_podman_and_replaces_a_stale_one(
    api: ApiClient,
    server: ServerProcess,
    runtime: Runtime,
    busybox_image: str,
    test_run_label: tuple[str, str],
    tmp_path: Path,
) -> None:
    """Embedded settings (127.0.0.1, the admin kubeconfig); a service left by a dead agent is replaced."""
    node = f"embedded-{os.getpid() % 1000}"
    server_settings = ServerSettings(data_dir=tmp_path / "data", agent=ServerAgentSettings(node_name=node))
    settings = embedded_settings(server_settings, server.kubeconfig)
    assert settings.node.ip == "127.0.0.1" and settings.data_dir == tmp_path / "data"
    key, run_id = test_run_label
    settings.runtime.extra_labels = {key: f"{run_id}-embedded"}
    settings.runtime.stop_service_on_exit = False  # as if the agent died: its service stays behind
    settings.streaming = dataclasses.replace(settings.streaming, port=0)
    settings.heartbeat.status_check_interval = 1.0
    settings.network.backend = "none"  # no pod networking in the host namespace (SAFETY)
    pid_file = settings.agent_dir / "podman" / "service.pid"

    first = asyncio.create_task(run_agent(settings))
    try:
        registered = await eventually(lambda: api.get(NODES, node), within=30)
        assert {"type": "InternalIP", "address": "127.0.0.1"} in registered["status"]["addresses"]
        await api.create(PODS, pod_body("inside", node, [container("main", busybox_image, "sleep", "3600")]))
        pod = await pod_where(api, "inside", lambda p: running(p, "main"))
        before = statuses(pod)["main"]["containerID"]
        stale_pid = _read_pid(pid_file)
        assert stale_pid is not None
        first.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await first
        assert alive(stale_pid), "the service outlives its agent"

        settings.runtime.stop_service_on_exit = True
        second = asyncio.create_task(run_agent(settings))
        try:
            await eventually(lambda: _pid_changed(pid_file, stale_pid), within=30)
            assert not alive(stale_pid)
            await asyncio.sleep(1.5)
            after = await api.get(PODS, "inside", "default")
            assert statuses(after)["main"]["containerID"] == before and running(after, "main")
        finally:
            second.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await second
        assert not _exists(pid_file), "a clean stop stops our service"
    finally:
        if not first.done():
            first.cancel()
        for sandbox in await runtime.list_pod_sandboxes({key: f"{run_id}-embedded"}):
            await runtime.remove_pod_sandbox(sandbox.id)


async def _pid_changed(pid_file: Path, old: int) -> bool:
    return _read_pid(pid_file) not in (None, old)


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text())
    except (OSError, ValueError):
        return None


def _exists(path: Path) -> bool:
    return path.exists()
