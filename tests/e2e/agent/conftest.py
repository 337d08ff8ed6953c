"""The agent against real parts: an `edgekube server` process, Podman, and the agent as a process.

Each test gets a server of its own (tests stop and restart it) and starts agents with
`agent_factory`: `python -m agent` processes sharing the session's Podman service, with a
node name of their own, node IP 127.0.0.1, short intervals, and a label on everything
they create. After the test every agent is killed and every Podman pod carrying that
label is removed; the fixture fails the test if the agent left anything it should not.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agent.runtime.interface import Runtime
from agent.runtime.podman import PodmanRuntime, PodmanSettings
from agent.runtime.podman_service import PodmanService
from edgekube.client import PODS, ApiClient, Config, NotFound
from tests.support.servers import ServerProcess, free_port

_counter = itertools.count(1)
Obj = dict[str, Any]


@dataclass
class AgentProcess:
    """`python -m agent` for one node; start, SIGTERM, SIGKILL, start again with the same data dir."""

    server: ServerProcess
    data_dir: Path
    node: str
    podman_socket: Path
    run_label: tuple[str, str]
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    def args(self) -> list[str]:
        key, value = self.run_label
        return [
            sys.executable, "-m", "agent",
            "--server", self.server.url,
            "--token", self.server.token,
            "--ca-file", str(self.server.ca_file),
            "--node-name", self.node,
            "--node-ip", "127.0.0.1",
            # Pod networking stays out of the host namespace (SAFETY): tests/e2e/podnet runs it in a lab.
            "--flannel-backend", "none",
            "--data-dir", str(self.data_dir),
            "--podman-socket", str(self.podman_socket),
            "--runtime-label", f"{key}={value}",
            "--lease-interval", "1",
            "--status-check-interval", "1",
            "--resync-interval", "2",
            "--streaming-port", "0",
            "--log-format", "json",
            "--log-level", "debug",
            *self.extra_args,
        ]  # fmt: skip

    def start(self) -> AgentProcess:
        log = self.data_dir / f"agent-{len(self.logs)}.log"
        self.logs.append(log)
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEKUBE_")}
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(self.args(), stdout=out, stderr=subprocess.STDOUT, env=env)
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def errors(self) -> list[str]:
        """Log lines at error level, and tracebacks: a passing test must not have any."""
        found: list[str] = []
        for path in self.logs:
            if path.exists():
                text = path.read_text(errors="replace")
                found += [ln for ln in text.splitlines() if '"level": "error"' in ln or "Traceback" in ln]
        return found

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-6000:] for p in self.logs if p.exists())


@pytest.fixture
def server(tmp_path: Path, schema_cache: Path) -> Iterator[ServerProcess]:
    """A server of the test's own (without an embedded agent)."""
    srv = ServerProcess(tmp_path / "server", free_port()).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
async def api(server: ServerProcess) -> AsyncIterator[ApiClient]:
    async with ApiClient(Config.from_kubeconfig(server.kubeconfig), timeout=10) as client:
        yield client


@pytest.fixture
async def runtime(podman_service: PodmanService) -> AsyncIterator[Runtime]:
    """The session's Podman, as the test sees it (to inspect and kill containers)."""
    rt = PodmanRuntime(PodmanSettings(socket_path=podman_service.settings.socket_path))
    try:
        yield rt
    finally:
        await rt.close()


@pytest.fixture
async def agent_factory(
    request: pytest.FixtureRequest,
    server: ServerProcess,
    podman_service: PodmanService,
    busybox_image: str,
    runtime: Runtime,
    test_run_label: tuple[str, str],
    tmp_path: Path,
) -> AsyncIterator[Callable[..., AgentProcess]]:
    """Makes (not starts) agents; kills them and removes their Podman pods afterwards."""
    key, run_id = test_run_label
    made: list[AgentProcess] = []
    label = f"{run_id}-agent-{next(_counter)}"

    def make(*extra: str, node: str = "") -> AgentProcess:
        name = node or f"node-{os.getpid() % 1000}-{next(_counter)}"
        agent = AgentProcess(
            server, tmp_path / f"agent-{name}", name, podman_service.settings.socket_path, (key, label), list(extra)
        )
        agent.data_dir.mkdir(parents=True, exist_ok=True)
        made.append(agent)
        return agent

    try:
        yield make
    finally:
        for agent in made:
            agent.kill9()
        for sandbox in await runtime.list_pod_sandboxes({key: label}):
            await runtime.remove_pod_sandbox(sandbox.id)
        failed = getattr(getattr(request.node, "rep_call", None), "failed", False)
        if failed:
            for agent in made:
                print(f"--- agent {agent.node} log ---\n{agent.log()}")
        else:
            errors = [line for agent in made for line in agent.errors()]
            assert not errors, "the agent logged errors:\n" + "\n".join(errors[:20])


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


# --- helpers the tests share -----------------------------------------------------------------


def pod_body(name: str, node: str, containers: list[Obj], **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": node, "containers": containers, "terminationGracePeriodSeconds": 2, **spec},
    }


def container(name: str, image: str, *command: str, **extra: Any) -> Obj:
    return {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", "command": list(command), **extra}


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 30.0, interval: float = 0.2) -> Any:
    """Poll `check` until it returns something truthy (and return that), or fail after `within` seconds."""
    deadline = time.monotonic() + within
    last: Any = None
    while True:
        try:
            last = await check()
        except (AssertionError, NotFound) as err:
            last = err
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within}s; last: {last!r}")
        await asyncio.sleep(interval)


async def pod_where(api: ApiClient, name: str, check: Callable[[Obj], bool], *, within: float = 30.0) -> Obj:
    """The pod once `check(pod)` holds."""

    async def look() -> Obj | None:
        pod = await api.get(PODS, name, "default")
        return pod if check(pod) else None

    result: Obj = await eventually(look, within=within)
    return result


def statuses(pod: Obj) -> dict[str, Obj]:
    return {c["name"]: c for c in (pod.get("status") or {}).get("containerStatuses") or []}


def condition(pod: Obj, kind: str) -> str:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return str(cond.get("status"))
    return ""


def running(pod: Obj, *names: str) -> bool:
    found = statuses(pod)
    return all("running" in (found.get(n) or {}).get("state", {}) for n in names)
