"""Helpers for the benchmarks: the server under test, HTTPS client sessions, pod bodies, figures.

The server runs as a real `edgekube server` process in a throwaway data dir on a free
loopback port; `ServerUnderTest.stop()` ends it and removes the dir, whatever happened.
Clients speak HTTPS with the admin bearer token over keep-alive connections.
Times are `time.monotonic()`, which on Linux is one clock for every process, so a time
taken in a load-generator process compares with one taken in the coordinator.
"""

from __future__ import annotations

import asyncio
import ctypes
import math
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

START_TIMEOUT = 90.0  # seconds; a fresh data dir builds the OpenAPI schema cache first
STOP_TIMEOUT = 15.0  # seconds of grace after SIGTERM before SIGKILL

MERGE_PATCH = "application/merge-patch+json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it if the benchmark dies without cleaning up (SIGKILL)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG (Linux only; elsewhere a no-op)
    except (OSError, AttributeError):
        pass


@dataclass
class ServerUnderTest:
    """One `edgekube server` process with its own temporary data dir."""

    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="edgekube-bench-")))
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "server" / "tls" / "ca.crt"

    @property
    def token(self) -> str:
        return (self.data_dir / "server" / "token").read_text().strip()

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        args = [
            sys.executable, "-m", "edgekube", "server",
            "--data-dir", str(self.data_dir),
            "--bind-address", "127.0.0.1",
            "--https-listen-port", str(self.port),
            "--write-kubeconfig", str(self.data_dir / "admin.yaml"),
            "--disable-agent",
            "--log-format", "json",
            *self.extra_args,
        ]
        # The benchmark measures the defaults: no EDGEKUBE_* setting leaks in from the shell.
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEKUBE_")}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self.ca_file.exists() and (self.data_dir / "admin.yaml").exists():
                try:
                    ctx = ssl.create_default_context(cafile=str(self.ca_file))
                    with urllib.request.urlopen(f"{self.url}/readyz", context=ctx, timeout=2) as r:
                        if r.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {START_TIMEOUT:.0f}s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-4000:]

    def memory_mb(self) -> dict[str, float]:
        """VmRSS (now) and VmHWM (peak so far) of the server process, in MiB."""
        out: dict[str, float] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
        return out

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process (all its threads) has used so far."""
        return cpu_seconds(self.pid)

    def stop(self) -> None:
        """End the server (SIGTERM, then SIGKILL) and remove the data dir. Safe to call twice."""
        try:
            stop_process(self.proc)
        finally:
            self.proc = None
            shutil.rmtree(self.data_dir, ignore_errors=True)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of process `pid`, from /proc/PID/stat (fields 14 and 15)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Endpoint:
    """Where and how a load generator reaches the server; passed to worker processes."""

    url: str
    token: str
    ca_file: str


def session(endpoint: Endpoint, connections: int) -> aiohttp.ClientSession:
    """A keep-alive session holding at most `connections` connections to the server."""
    ctx = ssl.create_default_context(cafile=endpoint.ca_file)
    connector = aiohttp.TCPConnector(ssl=ctx, limit=connections, limit_per_host=connections)
    return aiohttp.ClientSession(
        base_url=endpoint.url,
        connector=connector,
        headers={"Authorization": f"Bearer {endpoint.token}", "Accept": "application/json"},
        timeout=aiohttp.ClientTimeout(total=60),
    )


async def warm_up(client: aiohttp.ClientSession, connections: int) -> None:
    """Open `connections` keep-alive connections (TLS handshakes) before anything is timed."""

    async def one() -> None:
        async with client.get("/readyz") as resp:
            await resp.read()

    await asyncio.gather(*(one() for _ in range(connections)))


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run `coro` on uvloop when it is installed (it is a dependency of edgekube), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def event_loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def pod_body(namespace: str, name: str, index: int) -> dict[str, Any]:
    """A realistic pod of about 1.5 KB: labels, one container with command, env, ports, resources."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/name": "storefront",
                "app.kubernetes.io/component": "web",
                "app.kubernetes.io/part-of": "shop",
                "tier": "frontend",
                "shard": f"s{index % 16}",
            },
            "annotations": {"bench.edgekube.io/purpose": "api benchmark"},
        },
        "spec": {
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "containers": [
                {
                    "name": "web",
                    "image": "registry.example.com/shop/storefront:1.27.3",
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["/usr/local/bin/storefront"],
                    "args": ["--listen=:8080", "--metrics=:9090", "--log-level=info", f"--instance={index}"],
                    "env": [
                        {"name": "SHOP_ENV", "value": "production"},
                        {"name": "SHOP_REGION", "value": "edge-eu-west"},
                        {"name": "SHOP_CACHE_URL", "value": "redis://cache.shop.svc.cluster.local:6379/0"},
                        {"name": "SHOP_DB_URL", "value": "postgres://db.shop.svc.cluster.local:5432/shop"},
                        {"name": "SHOP_FEATURE_FLAGS", "value": "checkout-v2,search-suggest,fast-cart"},
                        {"name": "GOMAXPROCS", "value": "2"},
                    ],
                    "ports": [
                        {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                        {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
                    ],
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"cpu": "500m", "memory": "256Mi"},
                    },
                }
            ],
        },
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest-rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def spawn_logged(args: Sequence[str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start `args` with stdout and stderr into `log_path`, no EDGEKUBE_* variable from the shell,
    and SIGTERM from the kernel if the benchmark dies without cleaning up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEKUBE_")}
    with open(log_path, "wb") as log:
        return subprocess.Popen(list(args), stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent)


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM `proc`, then SIGKILL after STOP_TIMEOUT seconds. Safe on an ended process or None."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak so far) of process `pid`, in MiB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine (all cores) has spent not idle since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")
