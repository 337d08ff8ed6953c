"""Scheduler benchmark, end to end: deployments -> replica sets -> pods -> bound -> Running and Ready.

Three processes share the machine:
  - a real `edgekube server` (scheduler and controllers on, agent off) in a throwaway data dir;
  - `edgekube simulate` with N simulated nodes (leases every 10 s, pods Running 0.5 s after
    they are bound and Ready 0.5 s later), talking to the server over its admin kubeconfig;
  - this coordinator, which waits until the N nodes are Ready, creates D Deployments of R
    replicas as fast as the API takes them (t0 = just before the first POST), and follows
    every pod with ONE watch on the bench namespace.

A pod's creation time is the watch's first sighting of it (`creationTimestamp` has whole
seconds only); it is bound when an event first shows `spec.nodeName`, and Running and Ready
when an event first shows phase Running with condition Ready=True. All times are
`time.monotonic()` in this process, taken when the event's line is read.

The run is bounded (`--timeout` seconds after t0): what is not done by then is reported as
partial figures with `"complete": false`. Both child processes and the data dir are removed
on every exit path (normal end, error, Ctrl-C, SIGTERM; SIGKILL of this script still
SIGTERMs the children through PR_SET_PDEATHSIG). Prints one JSON object on stdout and a
progress line on stderr every 5 s.

Run: .venv/bin/python bench/scheduler.py [--quick] [--nodes N] [--deployments D] [--replicas R]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from _support import (
    Endpoint,
    ServerUnderTest,
    cpu_seconds,
    event_loop_name,
    machine_busy_seconds,
    memory_mb,
    ms,
    percentile,
    run,
    session,
    spawn_logged,
    stop_process,
)

BENCH_NS = "bench"
SIM_LABEL = "node.edgekube.io/simulated"  # edgekube.simulating.nodes.SIMULATED_LABEL
JSON_HEADERS = {"Content-Type": "application/json"}
CREATE_CONCURRENCY = 8  # Deployment POSTs in flight; 100 of them take well under a second
NODES_READY_TIMEOUT = 180.0  # seconds for the fleet to register and report Ready
SAMPLE_INTERVAL = 0.5  # seconds between RSS samples (VmHWM gives the true peak anyway)
PROGRESS_INTERVAL = 5.0  # seconds between progress points kept in the JSON (and printed)
WATCH_READ_BUFSIZE = 1 << 20  # one watch line is a whole pod (~2 KB); leave room

TARGETS = {
    "pods_bound_per_second": (">=", 300.0),
    "seconds_to_all_running_ready": ("<=", 90.0),
}


@dataclass(frozen=True)
class Sizes:
    nodes: int = 1000
    deployments: int = 100
    replicas: int = 100
    timeout: float = 300.0
    """Seconds after t0 before the run gives up and reports partial figures."""
    lease_interval: float = 10.0
    start_delay: float = 0.5
    ready_delay: float = 0.5

    @property
    def pods(self) -> int:
        return self.deployments * self.replicas


QUICK = Sizes(nodes=100, deployments=10, replicas=50, timeout=120.0)


# -- the simulated fleet, in its own process --------------------------------------------------


@dataclass
class SimulatorUnderTest:
    """`python -m edgekube simulate` against the server, logging into the server's data dir."""

    kubeconfig: Path
    log_path: Path
    sizes: Sizes
    proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        s = self.sizes
        args = [
            sys.executable,
            "-m",
            "edgekube",
            "simulate",
            "--kubeconfig",
            str(self.kubeconfig),
            "--nodes",
            str(s.nodes),
            "--lease-interval",
            str(s.lease_interval),
            "--start-delay",
            str(s.start_delay),
            "--ready-delay",
            str(s.ready_delay),
            "--log-format",
            "json",
            "--log-level",
            "info",
        ]
        self.proc = spawn_logged(args, self.log_path)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after the grace period. Safe to call twice."""
        stop_process(self.proc)
        self.proc = None


# -- what the watch saw ------------------------------------------------------------------------


@dataclass
class PodTimes:
    seen: float
    bound: float | None = None
    running_ready: float | None = None


@dataclass
class Tracker:
    """Per-pod first sightings, fed by the one pod watch."""

    pods: dict[str, PodTimes] = field(default_factory=dict)
    bound: int = 0
    running_ready: int = 0
    events: Counter[str] = field(default_factory=Counter)
    resumes: int = 0
    relists: int = 0
    all_ready: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    def observe(self, kind: str, pod: dict[str, Any], now: float) -> None:
        self.events[kind] += 1
        if kind == "DELETED":
            return
        name = pod["metadata"]["name"]
        times = self.pods.get(name)
        if times is None:
            times = self.pods[name] = PodTimes(seen=now)
        if times.bound is None and pod.get("spec", {}).get("nodeName"):
            times.bound = now
            self.bound += 1
        if times.running_ready is None and running_and_ready(pod):
            times.running_ready = now
            self.running_ready += 1
            if self.running_ready >= self.expected:
                self.all_ready.set()


def running_and_ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ())


class Gone(Exception):
    """The watch's resourceVersion is too old (410): list again."""


async def list_pods(client: aiohttp.ClientSession, tracker: Tracker) -> str:
    async with client.get(f"/api/v1/namespaces/{BENCH_NS}/pods") as resp:
        body = orjson.loads(await resp.read())
        if resp.status != 200:
            raise RuntimeError(f"listing pods answered {resp.status}: {body}")
    now = time.monotonic()
    for pod in body.get("items", ()):
        tracker.observe("LISTED", pod, now)
    return str(body["metadata"]["resourceVersion"])


async def watch_once(client: aiohttp.ClientSession, tracker: Tracker, rv: str) -> str:
    """Follow one watch stream until it ends; return the last resourceVersion seen."""
    params = {"watch": "true", "resourceVersion": rv, "allowWatchBookmarks": "true"}
    no_timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with client.get(
        f"/api/v1/namespaces/{BENCH_NS}/pods", params=params, timeout=no_timeout, read_bufsize=WATCH_READ_BUFSIZE
    ) as resp:
        if resp.status == 410:
            raise Gone()
        if resp.status != 200:
            raise RuntimeError(f"watching pods answered {resp.status}: {await resp.text()}")
        async for line in resp.content:
            if not line.strip():
                continue
            now = time.monotonic()
            event = orjson.loads(line)
            kind, obj = event["type"], event["object"]
            if kind == "ERROR":
                if obj.get("code") == 410:
                    raise Gone()
                raise RuntimeError(f"watch error: {obj}")
            rv = str(obj["metadata"].get("resourceVersion") or rv)
            if kind != "BOOKMARK":
                tracker.observe(kind, obj, now)
    return rv


async def watching(client: aiohttp.ClientSession, tracker: Tracker, rv: str) -> None:
    """Watch pods until cancelled: resume from the last resourceVersion, list again after a 410."""
    while True:
        try:
            rv = await watch_once(client, tracker, rv)
            tracker.resumes += 1
        except Gone:
            tracker.relists += 1
            rv = await list_pods(client, tracker)
        except aiohttp.ClientError:
            tracker.resumes += 1
            await asyncio.sleep(0.2)


# -- resource usage ----------------------------------------------------------------------------


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Usage:
    """CPU counters of the processes at one instant."""

    at: float
    server: float
    simulator: float
    bench: float
    machine_busy: float

    @classmethod
    def now(cls, server: ServerUnderTest, sim: SimulatorUnderTest) -> Usage:
        return cls(
            at=time.monotonic(),
            server=server.cpu_seconds(),
            simulator=cpu_seconds(sim.pid),
            bench=self_cpu_seconds(),
            machine_busy=machine_busy_seconds(),
        )

    def cores_since(self, start: Usage) -> dict[str, float]:
        wall = max(1e-9, self.at - start.at)
        return {
            "server": round((self.server - start.server) / wall, 2),
            "simulator": round((self.simulator - start.simulator) / wall, 2),
            "bench_watcher": round((self.bench - start.bench) / wall, 2),
            "machine_busy": round((self.machine_busy - start.machine_busy) / wall, 2),
        }


async def sampling(
    *, server: ServerUnderTest, sim: SimulatorUnderTest, tracker: Tracker, t0: float, progress: list[list[float]]
) -> None:
    """Every SAMPLE_INTERVAL: check the children live; every PROGRESS_INTERVAL: keep a progress point."""
    next_point = t0
    while True:
        if server.proc is None or server.proc.poll() is not None:
            raise RuntimeError(f"the server exited:\n{server.log_tail()}")
        if not sim.alive():
            raise RuntimeError(f"the simulator exited:\n{sim.log_tail()}")
        now = time.monotonic()
        if now >= next_point:
            rss = server.memory_mb().get("VmRSS", 0.0)
            point = [round(now - t0, 1), len(tracker.pods), tracker.bound, tracker.running_ready, rss]
            progress.append(point)
            print(
                f"t={point[0]:6.1f}s created={point[1]} bound={point[2]} running_ready={point[3]} server_rss={rss}MiB",
                file=sys.stderr,
                flush=True,
            )
            next_point += PROGRESS_INTERVAL
        await asyncio.sleep(SAMPLE_INTERVAL)


# -- setting up --------------------------------------------------------------------------------


async def create(client: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> None:
    async with client.post(path, data=orjson.dumps(body), headers=JSON_HEADERS) as resp:
        if resp.status != 201:
            raise RuntimeError(f"POST {path} answered {resp.status}: {await resp.text()}")


def deployment_body(index: int, replicas: int) -> dict[str, Any]:
    """A small Deployment whose pods request CPU and memory, so NodeResourcesFit has work to do."""
    name = f"bench-{index:03d}"
    labels = {"app": name, "bench.edgekube.io/run": "scheduler"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": BENCH_NS, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "registry.example.com/bench/app:1.0",
                            "ports": [{"containerPort": 8080}],
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": "200m", "memory": "256Mi"},
                            },
                        }
                    ],
                },
            },
        },
    }


async def create_deployments(client: aiohttp.ClientSession, sizes: Sizes) -> float:
    """POST every Deployment, CREATE_CONCURRENCY at a time; the seconds it took."""
    started = time.monotonic()
    indexes = iter(range(sizes.deployments))
    path = f"/apis/apps/v1/namespaces/{BENCH_NS}/deployments"

    async def poster() -> None:
        for i in indexes:
            await create(client, path, deployment_body(i, sizes.replicas))

    await asyncio.gather(*(poster() for _ in range(CREATE_CONCURRENCY)))
    return time.monotonic() - started


def ready_nodes(body: dict[str, Any]) -> int:
    count = 0
    for node in body.get("items", ()):
        conditions = (node.get("status") or {}).get("conditions") or ()
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            count += 1
    return count


async def wait_nodes_ready(client: aiohttp.ClientSession, sim: SimulatorUnderTest, wanted: int) -> float:
    """Poll the simulated nodes until `wanted` of them are Ready; the seconds it took."""
    started = time.monotonic()
    seen = 0
    while time.monotonic() - started < NODES_READY_TIMEOUT:
        if not sim.alive():
            raise RuntimeError(f"the simulator exited:\n{sim.log_tail()}")
        async with client.get("/api/v1/nodes", params={"labelSelector": f"{SIM_LABEL}=true"}) as resp:
            seen = ready_nodes(orjson.loads(await resp.read()))
        if seen >= wanted:
            return time.monotonic() - started
        await asyncio.sleep(1.0)
    raise RuntimeError(f"only {seen} of {wanted} nodes Ready after {NODES_READY_TIMEOUT:.0f}s:\n{sim.log_tail()}")


# -- figures -----------------------------------------------------------------------------------


def rate_between(times: list[float], low: float, high: float) -> float | None:
    """Events per second between the `low` and `high` fractions of `times` (sorted)."""
    if len(times) < 10:
        return None
    i, j = int(low * (len(times) - 1)), int(high * (len(times) - 1))
    span = times[j] - times[i]
    return round((j - i) / span, 1) if span > 0 else None


def latency(prefix: str, seconds: list[float]) -> dict[str, float]:
    return {
        f"{prefix}_p50_ms": ms(percentile(seconds, 50)),
        f"{prefix}_p99_ms": ms(percentile(seconds, 99)),
        f"{prefix}_max_ms": ms(max(seconds, default=0.0)),
    }


def pod_figures(tracker: Tracker, t0: float, expected: int) -> dict[str, Any]:
    pods = tracker.pods.values()
    seen = sorted(p.seen for p in pods)
    bound = sorted(p.bound for p in pods if p.bound is not None)
    ready = sorted(p.running_ready for p in pods if p.running_ready is not None)
    bind_span = bound[-1] - bound[0] if len(bound) > 1 else 0.0
    figures: dict[str, Any] = {
        "pods_expected": expected,
        "pods_created": len(seen),
        "pods_bound": len(bound),
        "pods_running_ready": len(ready),
        "pods_bound_per_second": round(len(bound) / bind_span, 1) if bind_span > 0 else None,
        "pods_bound_per_second_10_to_90": rate_between(bound, 0.1, 0.9),
        "pods_created_per_second": round(len(seen) / (seen[-1] - seen[0]), 1) if len(seen) > 1 else None,
        "pods_running_ready_per_second_10_to_90": rate_between(ready, 0.1, 0.9),
        "seconds_to_first_pod": round(seen[0] - t0, 2) if seen else None,
        "seconds_to_first_bind": round(bound[0] - t0, 2) if bound else None,
        "seconds_to_all_created": round(seen[-1] - t0, 2) if len(seen) >= expected else None,
        "seconds_to_all_bound": round(bound[-1] - t0, 2) if len(bound) >= expected else None,
        "seconds_to_all_running_ready": round(ready[-1] - t0, 2) if len(ready) >= expected else None,
    }
    figures |= latency("create_to_bound", [p.bound - p.seen for p in pods if p.bound is not None])
    figures |= latency(
        "bound_to_running_ready",
        [p.running_ready - p.bound for p in pods if p.running_ready is not None and p.bound is not None],
    )
    figures |= latency(
        "create_to_running_ready", [p.running_ready - p.seen for p in pods if p.running_ready is not None]
    )
    return figures


def targets(figures: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (op, bound) in TARGETS.items():
        value = figures.get(name)
        met = value is not None and (value >= bound if op == ">=" else value <= bound)
        out[name] = {"target": f"{op} {bound:g}", "value": value, "met": met}
    return out


# -- the run -----------------------------------------------------------------------------------


async def wait_done(tracker: Tracker, sizes: Sizes, t0: float) -> bool:
    """Wait until every pod is Running and Ready, or until t0 + timeout; whether all got there."""
    remaining = t0 + sizes.timeout - time.monotonic()
    try:
        await asyncio.wait_for(tracker.all_ready.wait(), timeout=max(0.0, remaining))
    except TimeoutError:
        return False
    return True


async def measure(server: ServerUnderTest, sim: SimulatorUnderTest, sizes: Sizes) -> dict[str, Any]:
    endpoint = Endpoint(url=server.url, token=server.token, ca_file=str(server.ca_file))
    tracker = Tracker(expected=sizes.pods)
    progress: list[list[float]] = []
    figures: dict[str, Any] = {"rss_idle_mb": server.memory_mb().get("VmRSS")}
    async with session(endpoint, connections=CREATE_CONCURRENCY + 4) as client:
        await create(
            client, "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": BENCH_NS}}
        )
        sim.start()
        figures["seconds_to_nodes_ready"] = round(await wait_nodes_ready(client, sim, sizes.nodes), 1)
        figures["rss_after_nodes_mb"] = server.memory_mb().get("VmRSS")
        rv = await list_pods(client, tracker)
        async with asyncio.TaskGroup() as tasks:
            watch = tasks.create_task(watching(client, tracker, rv), name="bench-pod-watch")
            await asyncio.sleep(0.5)  # let the watch open before the first pod exists
            before = Usage.now(server, sim)
            t0 = before.at
            sampler = tasks.create_task(
                sampling(server=server, sim=sim, tracker=tracker, t0=t0, progress=progress), name="bench-sampler"
            )
            figures["deployments_create_seconds"] = round(await create_deployments(client, sizes), 2)
            complete = await wait_done(tracker, sizes, t0)
            after = Usage.now(server, sim)
            memory = server.memory_mb()
            watch.cancel()
            sampler.cancel()
    figures |= pod_figures(tracker, t0, sizes.pods)
    figures |= {
        "complete": complete,
        "measured_seconds": round(after.at - t0, 1),
        "rss_end_mb": memory.get("VmRSS"),
        "rss_peak_mb": memory.get("VmHWM"),
        "cpu_cores": after.cores_since(before),
        "simulator_rss_end_mb": memory_mb(sim.pid).get("VmRSS"),
        "watch": {"events": dict(tracker.events), "resumes": tracker.resumes, "relists": tracker.relists},
        # One string a point keeps the indented JSON short: a 300 s run has 60 of them.
        "progress": ["t_s created bound running_ready server_rss_mb", *(" ".join(map(str, p)) for p in progress)],
    }
    return figures


async def measure_until_stopped(server: ServerUnderTest, sim: SimulatorUnderTest, sizes: Sizes) -> dict[str, Any]:
    """`measure`, cancelled by SIGTERM so that every `finally` still runs."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await measure(server, sim, sizes)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def report(
    figures: dict[str, Any], sizes: Sizes, load_before: tuple[float, float, float], elapsed: float
) -> dict[str, Any]:
    return {
        "complete": figures.pop("complete"),
        "nodes": sizes.nodes,
        "deployments": sizes.deployments,
        "replicas": sizes.replicas,
        **figures,
        "targets": targets(figures),
        "setup": {
            "server": "edgekube server, default settings, scheduler and controllers on, --disable-agent",
            "simulator": f"edgekube simulate --nodes {sizes.nodes} --lease-interval {sizes.lease_interval:g} "
            f"--start-delay {sizes.start_delay:g} --ready-delay {sizes.ready_delay:g} (own process)",
            "pod_requests": "cpu 100m, memory 128Mi; nodes cpu 4, memory 8Gi, 110 pods",
            "watcher": f"one pod watch in this process, aiohttp {aiohttp.__version__} on {event_loop_name()}",
            "t0": "just before the first Deployment POST",
            "created_at": "first sighting of the pod on the watch",
            "timeout_seconds": sizes.timeout,
        },
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "kernel": platform.release(),
            "loadavg_before": [round(x, 2) for x in load_before],
        },
        "bench_seconds": round(elapsed, 1),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark scheduling end to end; prints one JSON object.")
    parser.add_argument("--quick", action="store_true", help="100 nodes, 10 x 50 pods: a ~20 s smoke test")
    parser.add_argument("--nodes", type=int, help="simulated nodes (default 1000)")
    parser.add_argument("--deployments", type=int, help="Deployments to create (default 100)")
    parser.add_argument("--replicas", type=int, help="replicas of each Deployment (default 100)")
    parser.add_argument("--timeout", type=float, help="seconds after t0 before giving up (default 300)")
    return parser.parse_args(argv)


def sizes_from(args: argparse.Namespace) -> Sizes:
    sizes = QUICK if args.quick else Sizes()
    overrides = {
        "nodes": args.nodes,
        "deployments": args.deployments,
        "replicas": args.replicas,
        "timeout": args.timeout,
    }
    sizes = replace(sizes, **{k: v for k, v in overrides.items() if v is not None})
    for name in ("nodes", "deployments", "replicas", "timeout"):
        if getattr(sizes, name) <= 0:
            raise SystemExit(f"--{name} must be positive")
    return sizes


def _terminate(signum: int, _frame: object) -> None:
    # Outside the event loop (server start-up): unwind through the `finally` that stops the children.
    raise SystemExit(128 + signum)


def main() -> int:
    sizes = sizes_from(parse_args())
    signal.signal(signal.SIGTERM, _terminate)
    load_before = os.getloadavg()
    started = time.monotonic()
    server = ServerUnderTest()
    sim = SimulatorUnderTest(
        kubeconfig=server.data_dir / "admin.yaml", log_path=server.data_dir / "simulator.log", sizes=sizes
    )
    try:
        server.start()
        print(f"server pid {server.pid} on {server.url}", file=sys.stderr, flush=True)
        figures = run(measure_until_stopped(server, sim, sizes))
    except (asyncio.CancelledError, KeyboardInterrupt):
        print("benchmark interrupted; processes stopped and data dir removed", file=sys.stderr)
        return 130
    except Exception:
        print(
            f"benchmark failed; server log tail:\n{server.log_tail()}\nsimulator log tail:\n{sim.log_tail()}",
            file=sys.stderr,
        )
        raise
    finally:
        with contextlib.suppress(Exception):
            sim.stop()
        server.stop()
    print(
        orjson.dumps(
            report(figures, sizes, load_before, time.monotonic() - started), option=orjson.OPT_INDENT_2
        ).decode()
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
