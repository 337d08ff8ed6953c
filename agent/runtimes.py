"""Opening the container runtime: a Podman socket given to us, or a Podman service of our own.

Our own service runs from <data-dir>/agent/podman (its containers.conf, conmon wrapper,
socket and log) and its pid is kept in `service.pid`. An agent killed with SIGKILL
leaves its service behind (it runs in its own session so that a Ctrl-C meant for the
agent does not cut the pods' API mid-call); the next start stops that one first, so
services never pile up. Pods are not affected either way: conmon supervises them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog

from agent.runtime.interface import Runtime
from agent.runtime.podman import PodmanRuntime, PodmanSettings
from agent.runtime.podman_service import PodmanService, PodmanServiceSettings
from agent.settings import AgentSettings

log = structlog.get_logger(__name__)
Closer = Callable[[], Awaitable[None]]
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes


def socket_path(state_dir: Path) -> Path:
    """<state>/podman.sock, or a short path under /tmp when that is too long for a unix socket."""
    path = state_dir / "podman.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(str(state_dir).encode()).hexdigest()[:12]
    return Path("/tmp") / f"edgekube-podman-{digest}.sock"


def _is_our_service(pid: int, socket: Path) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"system" in argv and b"service" in argv and any(str(socket).encode() in a for a in argv)


def alive(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (exited, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def stop_stale_service(pid_file: Path, socket: Path, timeout: float = 10.0) -> None:
    """Stop the service an earlier run of the agent left behind (blocking; run it in a thread)."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    if not _is_our_service(pid, socket):
        return
    log.info("stopping the podman service a previous agent left running", pid=pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


async def open_runtime(settings: AgentSettings) -> tuple[Runtime, Closer]:
    """The Podman runtime per `settings`, and what closes it (pods keep running)."""
    given = settings.runtime.podman_socket
    if given:
        runtime = PodmanRuntime(PodmanSettings(socket_path=Path(given)))
        return runtime, runtime.close
    state = settings.agent_dir / "podman"
    sock = socket_path(state)
    pid_file = state / "service.pid"
    await asyncio.to_thread(stop_stale_service, pid_file, sock)
    service = PodmanService(
        PodmanServiceSettings(socket_path=sock, state_dir=state, oci_runtime=settings.runtime.oci_runtime)
    )
    await service.start()
    await asyncio.to_thread(pid_file.write_text, f"{service.pid}\n")
    runtime = PodmanRuntime(PodmanSettings(socket_path=sock))

    async def close() -> None:
        await runtime.close()
        if settings.runtime.stop_service_on_exit:
            await service.stop()
            with contextlib.suppress(FileNotFoundError):
                pid_file.unlink()

    return runtime, close
