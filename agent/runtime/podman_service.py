"""The agent's own Podman API service: `podman system service` on a socket of ours.

The agent starts the service with a containers.conf of its own (via CONTAINERS_CONF, so
/etc stays untouched) that sets:

- `[engine] runtime`: the OCI runtime. crun fails on hosts with hybrid cgroups (v1 + v2,
  e.g. the Debian CI machines), runc works; Raspberry Pi OS has pure v2 and works with
  crun. A setting, default "runc".
- `[containers] default_ulimits = []`: Podman's default ulimits cannot be set on some
  hosts ("setrlimit RLIMIT_NOFILE: Operation not permitted"); containers inherit the
  service's limits instead.
- `[engine] exit_command_delay`: short (see `exec_exit_delay`).
- `[engine] conmon_path`: a two-line wrapper that starts conmon in the container's bundle
  directory. conmon 2.1 writes its OOM marker file `oom` into its working directory while
  Podman 4.x looks for it in the bundle directory (fixed in Podman 5 with a persist dir),
  so without the wrapper State.OOMKilled is never true on Podman 4.x (Debian bookworm,
  Raspberry Pi OS). The wrapper is harmless on Podman 5.

Containers outlive the service: conmon supervises them, so stopping the service (or the
agent) leaves pods running for adoption.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import structlog

from agent.runtime.errors import RuntimeUnavailableError

log = structlog.get_logger(__name__)


@dataclass
class PodmanServiceSettings:
    socket_path: Path
    """Where the API listens (a unix socket path)."""
    state_dir: Path
    """Our containers.conf, the conmon wrapper and the service's log go here."""
    oci_runtime: str = "runc"
    """OCI runtime name or path: runc on hybrid-cgroup hosts, crun works on pure cgroup v2."""
    storage_root: Path | None = None
    """containers/storage graph root (None: the system's, /var/lib/containers/storage)."""
    run_root: Path | None = None
    """containers/storage run root (None: the system's)."""
    podman: str = "podman"
    """The podman binary."""
    conmon: str = ""
    """The real conmon binary ('' : the first of the usual paths that exists)."""
    wrap_conmon: bool = True
    """Start conmon through the OOM-marker wrapper (see the module docstring)."""
    exec_exit_delay: int = 10
    """Seconds an exec session's conmon lingers after the process ended so its exit code
    can be read. Podman's default, 300, mimics Docker but keeps one ~2 MiB conmon per exec
    alive for 5 minutes: with exec probes every 10 s that is 30 processes per container on
    a Raspberry Pi, and removing the pod waits for them."""
    start_timeout: float = 30.0
    """Seconds to wait for the socket to answer."""
    stop_timeout: float = 10.0
    """Seconds between SIGTERM and SIGKILL when stopping the service."""


_CONMON_CANDIDATES = ("/usr/bin/conmon", "/usr/libexec/podman/conmon", "/usr/local/bin/conmon")

_CONMON_WRAPPER = """#!/bin/sh
# Written by the EdgeKube agent: run conmon in the container's bundle directory, where
# Podman 4.x looks for the OOM marker that conmon writes into its working directory.
prev=
for arg in "$@"; do
    case "$prev" in -b|--bundle) cd "$arg" 2>/dev/null; break ;; esac
    prev=$arg
done
exec {conmon} "$@"
"""


def containers_conf(settings: PodmanServiceSettings, conmon_path: str | None) -> str:
    lines = [
        "# Written by the EdgeKube agent for its own podman service.",
        "[containers]",
        "default_ulimits = []",
        "",
        "[engine]",
        f"runtime = {_toml_string(settings.oci_runtime)}",
        f"exit_command_delay = {int(settings.exec_exit_delay)}",
    ]
    if conmon_path:
        lines.append(f"conmon_path = [{_toml_string(conmon_path)}]")
    return "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class PodmanService:
    """Start, health-check and stop one `podman system service` process."""

    def __init__(self, settings: PodmanServiceSettings) -> None:
        self.settings = settings
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def conf_path(self) -> Path:
        return self.settings.state_dir / "containers.conf"

    @property
    def log_path(self) -> Path:
        return self.settings.state_dir / "podman-service.log"

    def environment(self) -> dict[str, str]:
        """Environment for this service and for any podman CLI that must see the same set-up."""
        return {**os.environ, "CONTAINERS_CONF": str(self.conf_path)}

    def global_args(self) -> list[str]:
        """podman options that select the same storage as the service."""
        args: list[str] = []
        if self.settings.storage_root:
            args += ["--root", str(self.settings.storage_root)]
        if self.settings.run_root:
            args += ["--runroot", str(self.settings.run_root)]
        return args

    async def start(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        await asyncio.to_thread(self._prepare)
        self._proc = await asyncio.to_thread(self._spawn)
        log.info("podman service starting", pid=self._proc.pid, socket=str(self.settings.socket_path))
        try:
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise

    def _prepare(self) -> None:
        podman = shutil.which(self.settings.podman)
        if podman is None:
            raise RuntimeUnavailableError(
                f"{self.settings.podman!r} is not installed (Debian: apt-get install podman runc conmon)"
            )
        state = self.settings.state_dir
        state.mkdir(parents=True, exist_ok=True)
        conmon_path = self._write_conmon_wrapper() if self.settings.wrap_conmon else None
        self.conf_path.write_text(containers_conf(self.settings, conmon_path))
        self.settings.socket_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.settings.socket_path.unlink()

    def _write_conmon_wrapper(self) -> str | None:
        conmon = self.settings.conmon or next((c for c in _CONMON_CANDIDATES if os.path.exists(c)), "")
        conmon = conmon or shutil.which("conmon") or ""
        if not conmon:
            log.warning("conmon not found; podman will look for it itself, OOM kills go unreported")
            return None
        wrapper = self.settings.state_dir / "conmon"
        wrapper.write_text(_CONMON_WRAPPER.format(conmon=conmon))
        wrapper.chmod(0o755)
        return str(wrapper)

    def _spawn(self) -> subprocess.Popen[bytes]:
        args = [self.settings.podman, *self.global_args(), "system", "service", "--time=0"]
        args.append(f"unix://{self.settings.socket_path}")
        with open(self.log_path, "ab") as out:
            return subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.environment(),
                cwd=self.settings.state_dir,
                start_new_session=True,  # a Ctrl-C meant for the agent must not stop pods' API mid-call
            )

    async def _wait_ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.start_timeout
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeUnavailableError(f"podman service exited with {self._proc.returncode}: {self._log_tail()}")
            if await ping(self.settings.socket_path):
                return
            if loop.time() > deadline:
                raise RuntimeUnavailableError(
                    f"podman service did not answer within {self.settings.start_timeout}s: {self._log_tail()}"
                )
            await asyncio.sleep(0.05)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:].strip()
        except OSError:
            return ""

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(proc.wait, self.settings.stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            await asyncio.to_thread(proc.wait)
        log.info("podman service stopped", pid=proc.pid)

    def rss_bytes(self) -> int:
        """Resident memory of the service process (0 if it is not running)."""
        if self.pid is None:
            return 0
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    async def __aenter__(self) -> PodmanService:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


async def ping(socket_path: Path) -> bool:
    """True when the API on `socket_path` answers `_ping` with OK."""
    try:
        reader, writer = await asyncio.open_unix_connection(str(socket_path))
    except OSError:
        return False
    try:
        writer.write(b"GET /_ping HTTP/1.1\r\nHost: podman\r\nConnection: close\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)  # the server closes after answering
        return answer.startswith(b"HTTP/1.1 200") and answer.rstrip().endswith(b"OK")
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
