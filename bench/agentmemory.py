"""Memory of a standalone agent (`python -m agent`) with 20 pods running.

Starts a real `edgekube server --disable-agent` (API, store, scheduler, controllers) and,
next to it, a standalone agent (`python -m agent --kubeconfig ...`) that registers node
`<prefix>-<random>` with node IP 127.0.0.1. The agent runs in the host's network
namespace, so it runs with `--flannel-backend none`: a benchmark must not set up pod
networking (bridge, routes, nft tables) on the host. It also serves logs/exec on a free
port, not 10250, so that it does not collide with other agents on the machine.

Figures (MiB) for the agent process, taken when its node is Ready (idle) and again a few
seconds after 20 `localhost/busybox:latest` pods are Ready (`/bin/sleep 3600`):
VmRSS and VmHWM from /proc/PID/status, and the split from /proc/PID/smaps_rollup:
`anonymous` (heap, Python objects, thread stacks touched: what the agent allocates) versus
`file` (shared libraries and mapped files: the same pages other processes using those
libraries share). The agent's own `podman system service` child is reported apart.
Prints one JSON object on stdout.

Every exit path deletes our pods (through the API, then `podman pod rm -f`), then stops
the agent and the server and removes their dirs.

    .venv/bin/python bench/agentmemory.py > agentmemory.json
    .venv/bin/python bench/agentmemory.py --env MALLOC_ARENA_MAX=2   # compare an environment
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import ServerUnderTest, _die_with_parent, free_port, memory_mb, run, stop_process

IMAGE = "localhost/busybox:latest"
PODS = 20
CONCURRENCY = 10
NAMESPACE = "default"
LABEL = "bench.edgekube.io/agentmemory"
NAME_PREFIX = "agentmem-"
NODE_TIMEOUT = 120.0  # seconds for the agent's node to be Ready
POD_TIMEOUT = 120.0  # seconds for all pods to be Ready
GONE_TIMEOUT = 120.0  # seconds for deleted pods to leave the API and Podman
SETTLE_S = 5.0  # seconds of steady state before a figure is taken
TARGET_RSS_MB = 50.0
ROLLUP_KEYS = ("Rss", "Anonymous", "Private_Clean", "Private_Dirty", "Shared_Clean", "Shared_Dirty", "Swap")


def log(msg: str) -> None:
    print(f"[agentmemory] {msg}", file=sys.stderr, flush=True)


def rollup_mb(pid: int) -> dict[str, float]:
    """/proc/PID/smaps_rollup in MiB, with `file` = Rss - Anonymous (mapped files and libraries)."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ROLLUP_KEYS:
            out[key] = round(int(value.split()[0]) / 1024, 1)
    out["file"] = round(out.get("Rss", 0.0) - out.get("Anonymous", 0.0), 1)
    return out


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def process_figures(pid: int) -> dict[str, Any]:
    """VmRSS, VmHWM, the anonymous/file split and the thread count of one process."""
    status = memory_mb(pid)
    roll = rollup_mb(pid)
    return {
        "rss_mb": status.get("VmRSS", 0.0),
        "peak_rss_mb": status.get("VmHWM", 0.0),
        "anonymous_mb": roll.get("Anonymous", 0.0),
        "file_mb": roll["file"],
        "threads": threads(pid),
    }


def child_service_pid(parent: int) -> int | None:
    """The `podman system service` the agent started (a child of the agent process)."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            argv = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if ppid == parent and b"system" in argv and b"service" in argv:
            return int(name)
    return None


@dataclass
class AgentUnderTest:
    """One standalone `python -m agent` process with its own data dir, talking to `server`."""

    server: ServerUnderTest
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment for the agent (e.g. MALLOC_ARENA_MAX=2), on top of ours without EDGEKUBE_*."""
    command: list[str] = field(default_factory=lambda: [sys.executable, "-m", "agent"])
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="edgekube-bench-agent-")))
    node_name: str = field(default_factory=lambda: f"bench-agent-{secrets.token_hex(3)}")
    backend: str = "none"
    """--flannel-backend; anything but none only inside a namespace of the benchmark's own."""
    podman_socket: str = ""
    """A Podman service to use instead of the agent's own ('' : the agent starts one)."""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def log_path(self) -> Path:
        return self.data_dir / "agent.log"

    def start(self) -> None:
        args = [
            *self.command,
            "--kubeconfig", str(self.server.data_dir / "admin.yaml"),
            "--data-dir", str(self.data_dir),
            "--node-name", self.node_name,
            "--node-ip", "127.0.0.1",
            "--flannel-backend", self.backend,
            "--streaming-port", str(free_port()),
            "--log-format", "json",
            *(["--podman-socket", self.podman_socket] if self.podman_socket else []),
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEKUBE_")}
        env.update(self.env)
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent
            )

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM (the agent stops its podman service too), then SIGKILL; remove the dir. Safe twice."""
        try:
            stop_process(self.proc)
        finally:
            self.proc = None
            shutil.rmtree(self.data_dir, ignore_errors=True)


def manifest(name: str, node: str, label: str) -> dict[str, Any]:
    """A busybox pod pinned to the agent's node (other nodes may be registered on a shared machine)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {label: "true"}},
        "spec": {
            "nodeName": node,
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {"name": "main", "image": IMAGE, "imagePullPolicy": "Never", "command": ["/bin/sleep", "3600"]}
            ],
        },
    }


def podman_pods(prefix: str) -> list[str]:
    out = subprocess.run(
        ["podman", "pod", "ls", "--format", "{{.Name}}"], capture_output=True, text=True, timeout=60, check=False
    ).stdout
    return [n for n in out.split() if prefix in n]


def force_remove(prefix: str) -> list[str]:
    """Remove our pods from Podman directly (the fallback when the API path failed); the rest."""
    for name in podman_pods(prefix):
        subprocess.run(["podman", "pod", "rm", "-f", "-t", "0", name], capture_output=True, timeout=60, check=False)
    return podman_pods(prefix)


def _ready(pod: dict[str, Any]) -> bool:
    conds = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


class Api:
    """The few API calls this bench makes (polling; latency is not measured here)."""

    def __init__(self, server: ServerUnderTest, label: str) -> None:
        import ssl

        ctx = ssl.create_default_context(cafile=str(server.ca_file))
        self.label = label
        self.client = aiohttp.ClientSession(
            base_url=server.url,
            connector=aiohttp.TCPConnector(ssl=ctx, limit=CONCURRENCY),
            headers={"Authorization": f"Bearer {server.token}", "Accept": "application/json"},
            timeout=aiohttp.ClientTimeout(total=30),
        )

    async def close(self) -> None:
        await self.client.close()

    async def get(self, path: str) -> dict[str, Any]:
        async with self.client.get(path) as resp:
            resp.raise_for_status()
            return dict(await resp.json())

    async def pods(self) -> list[dict[str, Any]]:
        listed = await self.get(f"/api/v1/namespaces/{NAMESPACE}/pods?labelSelector={self.label}")
        return list(listed.get("items", []))

    async def wait_node_ready(self, node: str, agent: AgentUnderTest) -> None:
        deadline = time.monotonic() + NODE_TIMEOUT
        while time.monotonic() < deadline:
            if agent.proc is not None and agent.proc.poll() is not None:
                raise RuntimeError(f"agent exited with {agent.proc.returncode}:\n{agent.log_tail()}")
            with contextlib.suppress(aiohttp.ClientError):
                if _ready(await self.get(f"/api/v1/nodes/{node}")):
                    return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"node {node} not Ready after {NODE_TIMEOUT:.0f}s:\n{agent.log_tail()}")

    async def create(self, names: list[str], node: str) -> None:
        sem = asyncio.Semaphore(CONCURRENCY)

        async def one(name: str) -> None:
            async with sem:
                body = manifest(name, node, self.label)
                async with self.client.post(f"/api/v1/namespaces/{NAMESPACE}/pods", json=body) as resp:
                    if resp.status >= 300:
                        raise RuntimeError(f"create {name}: {resp.status} {await resp.text()}")

        await asyncio.gather(*(one(n) for n in names))

    async def wait_all_ready(self, count: int) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < POD_TIMEOUT:
            if sum(1 for p in await self.pods() if _ready(p)) >= count:
                return time.monotonic() - t0
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{count} pods not Ready within {POD_TIMEOUT:.0f}s")

    async def delete_all_and_wait(self, prefix: str) -> None:
        for pod in await self.pods():
            name = pod["metadata"]["name"]
            async with self.client.delete(f"/api/v1/namespaces/{NAMESPACE}/pods/{name}") as resp:
                if resp.status not in (200, 202, 404):
                    raise RuntimeError(f"delete {name}: {resp.status} {await resp.text()}")
        deadline = time.monotonic() + GONE_TIMEOUT
        while time.monotonic() < deadline:
            if not await self.pods() and not await asyncio.to_thread(podman_pods, prefix):
                return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"our pods are still there after {GONE_TIMEOUT:.0f}s")


async def measure(
    server: ServerUnderTest, agent: AgentUnderTest, result: dict[str, Any], *, prefix: str, label: str
) -> None:
    """Idle figures, 20 pods, figures with them, then every pod deleted again."""
    api = Api(server, label)
    try:
        await api.wait_node_ready(agent.node_name, agent)
        await asyncio.sleep(SETTLE_S)
        service = child_service_pid(agent.pid)
        result["agent"]["idle"] = process_figures(agent.pid)
        log(f"idle: {result['agent']['idle']}")
        try:
            await api.create([f"{prefix}{i:02d}" for i in range(PODS)], agent.node_name)
            result["all_ready_s"] = round(await api.wait_all_ready(PODS), 2)
            await asyncio.sleep(SETTLE_S)
            result["agent"]["with_20_pods"] = busy = process_figures(agent.pid)
            log(f"with {PODS} pods: {busy}")
            result["podman_service"] = process_figures(service) if service else None
            result["server_rss_mb"] = server.memory_mb()["VmRSS"]
            result["target_rss_lt_50_mb"] = busy["rss_mb"] < TARGET_RSS_MB
        finally:
            with contextlib.suppress(Exception):  # best effort; main() force-removes what is left
                await api.delete_all_and_wait(prefix)
    finally:
        await api.close()


IN_NETNS = "AGENTMEMORY_IN_NETNS"
PODMAN_SOCKET = "AGENTMEMORY_PODMAN_SOCKET"


def rerun_in_netns() -> int:
    """This benchmark again inside a namespace of its own (loopback, and a default route into a
    tun device nobody reads: nothing leaves the machine), deleted afterwards with everything the
    agent wired in it.

    The Podman service runs outside, in the host's namespaces: `ip netns exec` gives its
    command a /sys of the namespace without the cgroup mounts Podman needs.
    """
    import structlog

    from agent.runtime.podman_service import PodmanService, PodmanServiceSettings

    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))  # stdout is the JSON

    netns = f"ekbm{os.getpid()}"
    state = Path(tempfile.mkdtemp(prefix="edgekube-bench-podman-"))
    service = PodmanService(PodmanServiceSettings(socket_path=state / "podman.sock", state_dir=state))
    setup = [
        ["ip", "netns", "add", netns],
        ["ip", "-n", netns, "link", "set", "lo", "up"],
        ["ip", "-n", netns, "tuntap", "add", "mode", "tun", "name", "sink0"],
        ["ip", "-n", netns, "addr", "add", "192.0.2.1/24", "dev", "sink0"],
        ["ip", "-n", netns, "link", "set", "sink0", "up"],
        ["ip", "-n", netns, "route", "add", "default", "dev", "sink0"],
    ]
    try:
        asyncio.run(service.start())
        for argv in setup:
            subprocess.run(argv, check=True)
        env = {**os.environ, IN_NETNS: "1", PODMAN_SOCKET: str(state / "podman.sock")}
        return subprocess.run(["ip", "netns", "exec", netns, sys.executable, *sys.argv], env=env).returncode
    finally:
        subprocess.run(["ip", "netns", "del", netns], check=False)
        asyncio.run(service.stop())
        shutil.rmtree(state, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Memory of a standalone agent with 20 pods (JSON on stdout).")
    parser.add_argument("--env", action="append", default=[], metavar="K=V", help="extra environment for the agent")
    parser.add_argument(
        "--network",
        choices=("none", "host-gw"),
        default="none",
        help="the agent's pod network; host-gw runs the whole benchmark in a network namespace of its own",
    )
    args = parser.parse_args()
    if args.network != "none" and os.environ.get(IN_NETNS) != "1":
        return rerun_in_netns()
    extra_env = dict(item.partition("=")[::2] for item in args.env)
    server = ServerUnderTest()
    agent = AgentUnderTest(
        server, env=extra_env, backend=args.network, podman_socket=os.environ.get(PODMAN_SOCKET, "")
    )
    result: dict[str, Any] = {
        "benchmark": "agentmemory",
        "agent": {},
        "agent_measured": f"standalone `python -m agent --flannel-backend {args.network}` (not the embedded agent)",
        "agent_env": extra_env,
        "pods": PODS,
        "image": IMAGE,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "loadavg_before": os.getloadavg()},
    }
    exit_code = 0
    try:
        if podman_pods(NAME_PREFIX):
            raise RuntimeError(f"pods of an earlier run are still there: {podman_pods(NAME_PREFIX)}")
        server.start()
        agent.start()
        run(measure(server, agent, result, prefix=NAME_PREFIX, label=LABEL))
    except Exception as err:
        result["error"] = repr(err)
        exit_code = 1
    finally:
        agent.stop()  # pods outlive the agent (it adopts them when restarted): remove them after
        server.stop()
        left = force_remove(NAME_PREFIX)
        result["leftover_podman_pods"] = left
    print(json.dumps(result, indent=2))
    return exit_code if not left else 1


if __name__ == "__main__":
    sys.exit(main())
