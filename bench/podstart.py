"""Pod start latency and memory: a standalone EdgeKube agent versus `podman kube play`.

Starts a real `edgekube server --disable-agent` and next to it a standalone agent
(`python -m agent`, node IP 127.0.0.1, see `agentmemory.AgentUnderTest`). The agent runs in
the host's network namespace, so it runs with `--flannel-backend none`: a benchmark must
not set up pod networking there. The memory figures are the agent process's own (what
issue 4 targets: under 50 MB with 20 pods), with the server's RSS reported apart; the
server's embedded agent is not used, as its memory cannot be told from the server's.
Waits for the node to be Ready, then times 20 pods of `localhost/busybox:latest` (`/bin/sleep 3600`) from the API
create to the pod's Ready condition True (seen on a watch): one after another, then with 10
in flight at once. The same pods are then started with `podman --runtime runc kube play FILE`
(the command returns once the pod's containers are started; its duration is the figure, and
`podman inspect` confirms each is running). Prints one JSON object on stdout.

Every exit path deletes our pods (through the API, then `podman pod rm -f` as a fallback),
runs `podman kube down`, stops the server and removes the data dirs.

    .venv/bin/python bench/podstart.py > podstart.json
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import ServerUnderTest, memory_mb, ms, percentile, run
from agentmemory import AgentUnderTest, child_service_pid, process_figures

IMAGE = "localhost/busybox:latest"
PODS = 20
CONCURRENCY = 10
NAMESPACE = "default"
LABEL = "bench.edgekube.io/podstart"
NAME_PREFIX = "podstart-"
POD_TIMEOUT = 90.0  # seconds one pod may take to be Ready
NODE_TIMEOUT = 120.0  # seconds for the embedded agent's node to be Ready
GONE_TIMEOUT = 120.0  # seconds for deleted pods to leave the API and Podman
PODMAN_TIMEOUT = 120.0  # seconds for one podman CLI call
TARGET_RATIO = 1.5
TARGET_P99_S = 5.0


def manifest(name: str) -> dict[str, Any]:
    """The one Pod both sides start."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {LABEL: "true"}},
        "spec": {
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {"name": "main", "image": IMAGE, "imagePullPolicy": "Never", "command": ["/bin/sleep", "3600"]}
            ],
        },
    }


def summary(latencies: list[float], wall: float) -> dict[str, Any]:
    return {
        "pods": len(latencies),
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(max(latencies) if latencies else 0.0),
        "wall_s": round(wall, 2),
    }


def log(msg: str) -> None:
    print(f"[podstart] {msg}", file=sys.stderr, flush=True)


# --- processes ----------------------------------------------------------------------------


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _rss_mb(pid: int) -> float:
    try:
        return memory_mb(pid).get("VmRSS", 0.0)
    except OSError:
        return 0.0


def conmon_rss(podman: PodmanCli) -> dict[str, float]:
    """RSS of the conmon processes supervising our pods' containers (infra included), from
    State.ConmonPid: other conmons on the machine are not ours to count."""
    out = podman.run("ps", "-a", "--pod", "--format", "{{.ID}} {{.PodName}}", check=False)
    ids = [line.split()[0] for line in out.splitlines() if len(line.split()) == 2 and NAME_PREFIX in line.split()[1]]
    pids: list[int] = []
    if ids:
        found = podman.run("inspect", "--format", "{{.State.ConmonPid}}", *ids, check=False)
        pids = [int(p) for p in found.split() if p.isdigit() and int(p) > 0 and _comm(int(p)) == "conmon"]
    return {"count": len(pids), "total_rss_mb": round(sum(_rss_mb(p) for p in pids), 1)}


# --- podman CLI -----------------------------------------------------------------------------


class PodmanCli:
    """The podman CLI with a containers.conf of ours (runc, no default ulimits: see HOST.md)."""

    def __init__(self, work: Path) -> None:
        self.work = work
        conf = work / "containers.conf"
        conf.write_text('[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n')
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}

    def run(self, *args: str, check: bool = True, timeout: float = PODMAN_TIMEOUT) -> str:
        proc = subprocess.run(
            ["podman", "--runtime", "runc", *args],
            env=self.env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
        return proc.stdout

    def our_pods(self) -> list[str]:
        out = self.run("pod", "ls", "--format", "{{.Name}}", check=False)
        return [n for n in out.split() if NAME_PREFIX in n]

    def file_for(self, name: str) -> Path:
        path = self.work / f"{name}.yaml"
        path.write_text(yaml.safe_dump(manifest(name), sort_keys=False))
        return path

    def play(self, name: str) -> float:
        path = self.file_for(name)
        t0 = time.monotonic()
        self.run("kube", "play", str(path))
        elapsed = time.monotonic() - t0
        state = self.run("inspect", "--format", "{{.State.Status}}", f"{name}-main").strip()
        if state != "running":
            raise RuntimeError(f"podman pod {name}: container is {state!r} after kube play")
        return elapsed

    def down_all(self, names: list[str]) -> None:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(lambda n: self.run("kube", "down", str(self.file_for(n)), check=False), names))

    def force_remove_ours(self) -> None:
        for name in self.our_pods():
            self.run("pod", "rm", "-f", "-t", "0", name, check=False)


def podman_phase(cli: PodmanCli, names: list[str], concurrency: int) -> tuple[list[float], float]:
    t0 = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(cli.play, names))
    return latencies, time.monotonic() - t0


# --- EdgeKube API ---------------------------------------------------------------------------


def _ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


class Api:
    def __init__(self, server: ServerUnderTest) -> None:
        self.server = server
        self.ready_at: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Event] = {}
        self.present: set[str] = set()
        self.client: aiohttp.ClientSession | None = None
        self.watch_task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Api:
        import ssl

        ctx = ssl.create_default_context(cafile=str(self.server.ca_file))
        self.client = aiohttp.ClientSession(
            base_url=self.server.url,
            connector=aiohttp.TCPConnector(ssl=ctx, limit=CONCURRENCY + 4),
            headers={"Authorization": f"Bearer {self.server.token}", "Accept": "application/json"},
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.watch_task is not None:
            self.watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.watch_task
        if self.client is not None:
            await self.client.close()

    async def get(self, path: str) -> dict[str, Any]:
        assert self.client is not None
        async with self.client.get(path, timeout=aiohttp.ClientTimeout(total=30)) as resp:
            resp.raise_for_status()
            return dict(await resp.json())

    async def wait_node_ready(self) -> str:
        deadline = time.monotonic() + NODE_TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                for node in (await self.get("/api/v1/nodes")).get("items", []):
                    conds = (node.get("status") or {}).get("conditions") or []
                    if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
                        return str(node["metadata"]["name"])
            await asyncio.sleep(0.5)
        raise RuntimeError(f"no node Ready after {NODE_TIMEOUT:.0f}s:\n{self.server.log_tail()}")

    def _observe(self, pod: dict[str, Any], deleted: bool = False) -> None:
        name = pod["metadata"]["name"]
        if deleted:
            self.present.discard(name)
            return
        self.present.add(name)
        if name not in self.ready_at and _ready(pod):
            self.ready_at[name] = time.monotonic()
            self.waiters.setdefault(name, asyncio.Event()).set()

    async def _watch(self) -> None:
        assert self.client is not None
        path = f"/api/v1/namespaces/{NAMESPACE}/pods"
        while True:
            try:
                listed = await self.get(f"{path}?labelSelector={LABEL}")
                self.present = set()
                for pod in listed.get("items", []):
                    self._observe(pod)
                rv = listed["metadata"]["resourceVersion"]
                url = f"{path}?watch=true&labelSelector={LABEL}&resourceVersion={rv}"
                async with self.client.get(url) as resp:
                    resp.raise_for_status()
                    async for line in resp.content:
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        if event.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                            self._observe(event["object"], deleted=event["type"] == "DELETED")
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log(f"watch restarts: {err!r}")
                await asyncio.sleep(0.2)

    def start_watch(self) -> None:
        self.watch_task = asyncio.create_task(self._watch())

    async def start_one(self, name: str) -> float:
        assert self.client is not None
        event = self.waiters.setdefault(name, asyncio.Event())
        t0 = time.monotonic()
        async with self.client.post(f"/api/v1/namespaces/{NAMESPACE}/pods", json=manifest(name)) as resp:
            if resp.status >= 300:
                raise RuntimeError(f"create {name}: {resp.status} {await resp.text()}")
        try:
            await asyncio.wait_for(event.wait(), POD_TIMEOUT)
        except TimeoutError:
            raise RuntimeError(f"pod {name} not Ready within {POD_TIMEOUT:.0f}s") from None
        return self.ready_at[name] - t0

    async def phase(self, names: list[str], concurrency: int) -> tuple[list[float], float]:
        sem = asyncio.Semaphore(concurrency)

        async def one(name: str) -> float:
            async with sem:
                return await self.start_one(name)

        t0 = time.monotonic()
        latencies = await asyncio.gather(*(one(n) for n in names))
        return list(latencies), time.monotonic() - t0

    async def delete_all_and_wait(self, podman: PodmanCli) -> None:
        """Delete every pod of ours through the API; wait until the API and Podman show none."""
        assert self.client is not None
        listed = await self.get(f"/api/v1/namespaces/{NAMESPACE}/pods?labelSelector={LABEL}")
        names = [p["metadata"]["name"] for p in listed.get("items", [])]
        for name in names:
            async with self.client.delete(f"/api/v1/namespaces/{NAMESPACE}/pods/{name}") as resp:
                if resp.status not in (200, 202, 404):
                    raise RuntimeError(f"delete {name}: {resp.status} {await resp.text()}")
        deadline = time.monotonic() + GONE_TIMEOUT
        while time.monotonic() < deadline:
            left = await self.get(f"/api/v1/namespaces/{NAMESPACE}/pods?labelSelector={LABEL}")
            in_podman = await asyncio.to_thread(podman.our_pods)
            if not left.get("items") and not in_podman:
                self.ready_at.clear()
                self.waiters.clear()
                return
            await asyncio.sleep(0.5)
        raise RuntimeError(
            f"pods still there after {GONE_TIMEOUT:.0f}s: api={len(left.get('items', []))} podman={in_podman}"
        )


# --- the run --------------------------------------------------------------------------------


async def edgekube_part(
    server: ServerUnderTest, agent: AgentUnderTest, podman: PodmanCli, result: dict[str, Any]
) -> None:
    async with Api(server) as api:
        try:
            await edgekube_phases(server, agent, podman, api, result)
        except BaseException:
            with contextlib.suppress(Exception):  # best effort; main() force-removes what is left
                await api.delete_all_and_wait(podman)
            raise


async def edgekube_phases(
    server: ServerUnderTest, agent: AgentUnderTest, podman: PodmanCli, api: Api, result: dict[str, Any]
) -> None:
    node = await api.wait_node_ready()
    log(f"node {node} Ready; server pid {server.pid}, agent pid {agent.pid}")
    api.start_watch()
    await asyncio.sleep(3)  # let start-up work settle before the idle figure
    svc = child_service_pid(agent.pid)
    idle: dict[str, Any] = {
        "agent": process_figures(agent.pid),
        "server_rss_mb": server.memory_mb()["VmRSS"],
        "podman_service_rss_mb": _rss_mb(svc) if svc else None,
        "conmon": await asyncio.to_thread(conmon_rss, podman),
    }

    names = [f"{NAME_PREFIX}seq-{i:02d}" for i in range(PODS)]
    lat, wall = await api.phase(names, 1)
    result["edgekube"]["sequential"] = summary(lat, wall)
    log(f"edgekube sequential: {result['edgekube']['sequential']}")
    await asyncio.sleep(3)  # steady state with 20 pods running
    busy: dict[str, Any] = {
        "agent": process_figures(agent.pid),
        "server_rss_mb": server.memory_mb()["VmRSS"],
        "podman_service_rss_mb": _rss_mb(svc) if svc else None,
        "conmon": await asyncio.to_thread(conmon_rss, podman),
    }
    result["memory"]["edgekube"] = {
        "agent_measured": "standalone `python -m agent --flannel-backend none` (the server runs --disable-agent)",
        "agent_pid": agent.pid,
        "server_pid": server.pid,
        "podman_service_pid": svc,
        "idle": idle,
        "with_20_pods": busy,
        "agent_rss_with_20_pods_mb": busy["agent"]["rss_mb"],
        "agent_rss_delta_mb": round(busy["agent"]["rss_mb"] - idle["agent"]["rss_mb"], 1),
        "agent_peak_rss_mb": memory_mb(agent.pid)["VmHWM"],
        "server_peak_rss_mb": server.memory_mb()["VmHWM"],
    }
    await api.delete_all_and_wait(podman)

    names = [f"{NAME_PREFIX}par-{i:02d}" for i in range(PODS)]
    lat, wall = await api.phase(names, CONCURRENCY)
    result["edgekube"]["concurrent_10"] = summary(lat, wall)
    log(f"edgekube 10 at once: {result['edgekube']['concurrent_10']}")
    await api.delete_all_and_wait(podman)


def podman_part(podman: PodmanCli, result: dict[str, Any]) -> None:
    names = [f"{NAME_PREFIX}kp-seq-{i:02d}" for i in range(PODS)]
    try:
        lat, wall = podman_phase(podman, names, 1)
        result["podman"]["sequential"] = summary(lat, wall)
        log(f"podman sequential: {result['podman']['sequential']}")
        time.sleep(2)
        result["memory"]["podman_kube_play"] = {"conmon_with_20_pods": conmon_rss(podman)}
    finally:
        podman.down_all(names)
    names = [f"{NAME_PREFIX}kp-par-{i:02d}" for i in range(PODS)]
    try:
        lat, wall = podman_phase(podman, names, CONCURRENCY)
        result["podman"]["concurrent_10"] = summary(lat, wall)
        log(f"podman 10 at once: {result['podman']['concurrent_10']}")
    finally:
        podman.down_all(names)


def compare(result: dict[str, Any]) -> None:
    out: dict[str, Any] = {}
    ok = True
    for mode in ("sequential", "concurrent_10"):
        ek, pm = result["edgekube"].get(mode), result["podman"].get(mode)
        if not ek or not pm:
            continue
        p99 = round(ek["p99_ms"] / pm["p99_ms"], 2) if pm["p99_ms"] else None
        p50 = round(ek["p50_ms"] / pm["p50_ms"], 2) if pm["p50_ms"] else None
        out[mode] = {"p99_ratio": p99, "p50_ratio": p50}
        met_ratio = p99 is not None and p99 <= TARGET_RATIO
        met_p99 = ek["p99_ms"] < TARGET_P99_S * 1000
        out[mode]["target_ratio_le_1_5"] = met_ratio
        out[mode]["target_p99_lt_5s"] = met_p99
        ok = ok and met_ratio and met_p99
    result["ratio_edgekube_over_podman"] = out
    result["targets_met"] = ok


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="edgekube-podstart-"))
    podman = PodmanCli(work)
    server = ServerUnderTest()
    agent = AgentUnderTest(server)
    result: dict[str, Any] = {
        "benchmark": "podstart",
        "image": IMAGE,
        "pods_per_phase": PODS,
        "concurrency": CONCURRENCY,
        "edgekube_measures": "API create (POST sent) to the pod's Ready condition True seen on a watch",
        "podman_measures": "duration of `podman --runtime runc kube play FILE` (returns once the containers "
        "are started; `podman inspect` then confirms State.Status running), default podman bridge network",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "loadavg_before": os.getloadavg()},
        "edgekube": {},
        "podman": {},
        "memory": {},
    }
    exit_code = 0
    try:
        if podman.our_pods():
            raise RuntimeError(f"pods of an earlier run are still there: {podman.our_pods()}")
        podman.run("image", "exists", IMAGE)
        server.start()
        agent.start()
        run(edgekube_part(server, agent, podman, result))
        podman_part(podman, result)
        compare(result)
    except Exception as err:
        result["error"] = repr(err)
        exit_code = 1
    finally:
        agent.stop()  # pods outlive the agent (it adopts them when restarted): remove them after
        server.stop()
        podman.force_remove_ours()
        left = podman.our_pods()
        result["leftover_podman_pods"] = left
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return exit_code if not left else 1


if __name__ == "__main__":
    sys.exit(main())
