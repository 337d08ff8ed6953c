"""API benchmark: starts a real `edgekube server` and prints one JSON object of figures.

Phases, in order, against one server in a throwaway data dir:
  idle RSS -> durable pod creates (C concurrent clients) -> RSS after the pods -> GETs of
  single pods -> LIST of every pod (whole, and paged by 500) -> watch delivery latency to
  W concurrent watchers -> peak RSS.
The load comes from separate worker processes (this same script with `--worker`, on uvloop)
so the client's CPU is not charged to the coordinator's event loop; the coordinator only
orchestrates, LISTs, and writes the watch phase's few stamped updates. Every loop is
bounded in count and time; the server and its data dir are removed however the run ends.

Run: .venv/bin/python bench/api.py [--quick] [--pods N] [--clients C] [--watchers W]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import resource
import signal
import statistics
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from _support import (
    MERGE_PATCH,
    Endpoint,
    ServerUnderTest,
    event_loop_name,
    ms,
    percentile,
    pod_body,
    run,
    session,
    warm_up,
)

BENCH_NS = "bench"
WATCH_NS = "bench-watch"
STAMP = "bench.edgekube.io/sent-ns"  # monotonic_ns just before the write was sent
JSON_HEADERS = {"Content-Type": "application/json"}
WORKER_LINE_LIMIT = 1 << 26  # a worker's result line holds every latency it measured
WORKER_SCRIPT = str(Path(__file__).resolve())


@dataclass(frozen=True)
class Sizes:
    """How much load each phase applies."""

    pods: int = 10_000
    clients: int = 64
    load_procs: int = 2
    """Worker processes sharing the create clients (the machine has 2 cores)."""
    gets: int = 2_000
    get_clients: int = 16
    list_runs: int = 5
    page_size: int = 500
    watchers: int = 100
    watch_writes: int = 200
    watch_rate: float = 20.0
    """Stamped updates per second during the watch phase."""
    watch_objects: int = 10
    """Pods the watch phase updates in turn (in their own namespace, so LISTs stay clean)."""


QUICK = Sizes(pods=1_000, gets=300, list_runs=3, watchers=20, watch_writes=40)

TARGETS: dict[str, tuple[str, float]] = {
    "creates_per_second": (">=", 1000.0),
    "create_p99_ms": ("<", 50.0),
    "list_10k_seconds": ("<", 1.0),
    "watch_p99_ms": ("<", 100.0),
    "rss_after_pods_mb": ("<", 250.0),
}


def pod_name(index: int) -> str:
    return f"pod-{index:06d}"


def pods_path(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/pods"


def cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- worker side: one process, one job, read from stdin --------------------------------------
#
# Protocol over the pipes: the coordinator writes the job as one JSON line; the worker opens
# its connections and answers {"ready": true}; the coordinator writes "go"; the worker runs
# the timed part and answers with its result as one JSON line, then exits.


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.buffer.write(orjson.dumps(obj) + b"\n")
    sys.stdout.buffer.flush()


async def wait_go() -> None:
    line = await asyncio.to_thread(sys.stdin.readline)
    if line.strip() != "go":
        raise SystemExit("the coordinator went away")


async def request_loop(
    client: aiohttp.ClientSession,
    work: Any,
    send: Callable[[Any], Any],
    latencies: list[float],
    statuses: Counter[str],
    ok: int,
) -> None:
    """Take items from the shared iterator `work` until it is empty; time each request."""
    for item in work:
        t0 = time.monotonic()
        try:
            async with send(item) as resp:
                await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as err:
            statuses[type(err).__name__] += 1
            continue
        statuses[str(status)] += 1
        if status == ok:
            latencies.append(time.monotonic() - t0)


async def timed_requests(
    endpoint: Endpoint, connections: int, items: Sequence[Any], send_with: Callable[..., Any], ok: int
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    async with session(endpoint, connections) as client:
        await warm_up(client, connections)
        emit({"ready": True})
        await wait_go()
        work = iter(items)
        cpu0, start = cpu_now(), time.monotonic()
        await asyncio.gather(
            *(request_loop(client, work, send_with(client), latencies, statuses, ok) for _ in range(connections))
        )
        end, cpu1 = time.monotonic(), cpu_now()
    return {"latencies": latencies, "statuses": statuses, "start": start, "end": end, "cpu_seconds": cpu1 - cpu0}


async def create_worker(endpoint: Endpoint, job: dict[str, Any]) -> dict[str, Any]:
    ns = job["namespace"]
    path = pods_path(ns)
    first, stop, step = job["indices"]
    # Bodies are encoded before the clock starts: the figure is the server's, not orjson's.
    bodies = [orjson.dumps(pod_body(ns, pod_name(i), i)) for i in range(first, stop, step)]

    def send_with(client: aiohttp.ClientSession) -> Callable[[bytes], Any]:
        return lambda body: client.post(path, data=body, headers=JSON_HEADERS)

    return await timed_requests(endpoint, job["connections"], bodies, send_with, ok=201)


async def get_worker(endpoint: Endpoint, job: dict[str, Any]) -> dict[str, Any]:
    path = pods_path(job["namespace"])
    rng = random.Random(job["seed"])
    names = [pod_name(rng.randrange(job["pods"])) for _ in range(job["requests"])]

    def send_with(client: aiohttp.ClientSession) -> Callable[[str], Any]:
        return lambda name: client.get(f"{path}/{name}")

    return await timed_requests(endpoint, job["connections"], names, send_with, ok=200)


async def watch_worker(endpoint: Endpoint, job: dict[str, Any]) -> dict[str, Any]:
    """Open the watches, say ready, and record (watcher, name, rv, arrival, stamp) per event."""
    count, expected, budget = job["watchers"], job["expected"], float(job["budget"])
    path = pods_path(job["namespace"])
    params = {"watch": "true", "resourceVersion": job["resource_version"], "timeoutSeconds": str(int(budget))}
    events: list[tuple[int, str, str, int, int]] = []
    received = [0] * count
    statuses: Counter[str] = Counter()
    connected = asyncio.Event()

    async def watch(k: int, client: aiohttp.ClientSession) -> None:
        timeout = aiohttp.ClientTimeout(total=budget + 10)
        async with client.get(path, params=params, timeout=timeout) as resp:
            statuses[str(resp.status)] += 1
            if sum(statuses.values()) == count:
                connected.set()
            if resp.status != 200:
                return
            async for line in resp.content:
                arrival = time.monotonic_ns()
                event = orjson.loads(line)
                meta = event["object"].get("metadata", {})
                stamp = meta.get("annotations", {}).get(STAMP)
                if event["type"] != "MODIFIED" or stamp is None:
                    continue
                events.append((k, meta["name"], meta["resourceVersion"], arrival, int(stamp)))
                received[k] += 1
                if received[k] >= expected:
                    return

    async with session(endpoint, count) as client:
        tasks = [asyncio.create_task(watch(k, client), name=f"watcher-{k}") for k in range(count)]
        try:
            # The server subscribes before it answers the headers, so from here on no event is missed.
            await asyncio.wait_for(connected.wait(), 60)
            emit({"ready": True})
            await wait_go()
            _done, pending = await asyncio.wait(tasks, timeout=budget)
        finally:
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    failures = Counter(type(o).__name__ for o in outcomes if isinstance(o, BaseException))
    return {"events": events, "received": received, "statuses": statuses,
            "unfinished": len(pending), "failures": failures}


WORKERS = {"create": create_worker, "get": get_worker, "watch": watch_worker}


async def worker_main() -> None:
    job = orjson.loads(await asyncio.to_thread(sys.stdin.readline))
    endpoint = Endpoint(**job["endpoint"])
    emit(await WORKERS[job["kind"]](endpoint, job))


# -- coordinator side --------------------------------------------------------------------------


class Worker:
    """A load-generating child process (this script with --worker)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def spawn(cls, job: dict[str, Any]) -> Worker:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, WORKER_SCRIPT, "--worker",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=WORKER_LINE_LIMIT,
        )
        worker = cls(proc)
        worker._send(orjson.dumps(job))
        return worker

    def _send(self, line: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + b"\n")

    async def _receive(self, within: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), within)
        if not line:
            raise RuntimeError(f"a load worker exited with {await self.proc.wait()} (its stderr is above)")
        answer: dict[str, Any] = orjson.loads(line)
        return answer

    async def ready(self, within: float = 60.0) -> None:
        await self._receive(within)

    def go(self) -> None:
        self._send(b"go")

    async def result(self, within: float) -> dict[str, Any]:
        answer = await self._receive(within)
        await asyncio.wait_for(self.proc.wait(), 10)
        return answer

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@contextlib.asynccontextmanager
async def workers(jobs: list[dict[str, Any]]) -> AsyncIterator[list[Worker]]:
    """Spawned workers, all ready to go; any still running on the way out are killed."""
    started: list[Worker] = []
    try:
        for job in jobs:
            started.append(await Worker.spawn(job))
        for w in started:
            await w.ready()
        yield started
    finally:
        for w in started:
            await w.kill()


def latency_figures(prefix: str, seconds: list[float]) -> dict[str, float]:
    return {f"{prefix}_p50_ms": ms(percentile(seconds, 50)), f"{prefix}_p99_ms": ms(percentile(seconds, 99))}


async def phase_creates(server: ServerUnderTest, endpoint: Endpoint, sizes: Sizes) -> dict[str, Any]:
    procs = max(1, min(sizes.load_procs, sizes.clients))
    jobs = [
        {
            "kind": "create", "endpoint": asdict(endpoint), "namespace": BENCH_NS,
            "indices": [k, sizes.pods, procs],
            "connections": sizes.clients // procs + (1 if k < sizes.clients % procs else 0),
        }
        for k in range(procs)
    ]
    async with workers(jobs) as ws:
        cpu0, t0 = server.cpu_seconds(), time.monotonic()
        for w in ws:
            w.go()
        results = [await w.result(within=max(120.0, sizes.pods / 20)) for w in ws]
        cpu1, t1 = server.cpu_seconds(), time.monotonic()
    latencies = [x for r in results for x in r["latencies"]]
    statuses = sum((Counter(r["statuses"]) for r in results), Counter[str]())
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    return {
        "creates_per_second": round(len(latencies) / wall, 1),
        **latency_figures("create", latencies),
        "create_seconds": round(wall, 2),
        "create_statuses": dict(statuses),
        "create_server_cpu_cores": round((cpu1 - cpu0) / (t1 - t0), 2),
        "create_client_cpu_cores": round(sum(r["cpu_seconds"] for r in results) / wall, 2),
    }


async def phase_gets(endpoint: Endpoint, sizes: Sizes) -> dict[str, Any]:
    job = {"kind": "get", "endpoint": asdict(endpoint), "namespace": BENCH_NS, "pods": sizes.pods,
           "requests": sizes.gets, "connections": sizes.get_clients, "seed": 1}
    async with workers([job]) as (w,):
        w.go()
        result = await w.result(within=120.0)
    return {**latency_figures("get", result["latencies"]), "get_statuses": result["statuses"]}


async def fetch(client: aiohttp.ClientSession, path: str, params: dict[str, str] | None = None) -> bytes:
    async with client.get(path, params=params) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"GET {path} answered {resp.status}: {body[:300]!r}")
        return body


async def phase_lists(client: aiohttp.ClientSession, sizes: Sizes) -> dict[str, Any]:
    """Whole LIST: request to last byte. Paged: every page, parsed for its continue token."""
    path = pods_path(BENCH_NS)
    whole: list[float] = []
    body = b""
    for _ in range(sizes.list_runs):
        t0 = time.monotonic()
        body = await fetch(client, path)
        whole.append(time.monotonic() - t0)
    items = len(orjson.loads(body)["items"])
    paged: list[float] = []
    max_pages = sizes.pods // sizes.page_size + 10
    for _ in range(sizes.list_runs):
        t0, token, paged_items = time.monotonic(), "", 0
        for _page in range(max_pages):
            params = {"limit": str(sizes.page_size), **({"continue": token} if token else {})}
            doc = orjson.loads(await fetch(client, path, params))
            paged_items += len(doc["items"])
            token = doc["metadata"].get("continue", "")
            if not token:
                break
        paged.append(time.monotonic() - t0)
    return {
        "list_10k_seconds": round(statistics.median(whole), 3),
        "list_10k_paginated_500_seconds": round(statistics.median(paged), 3),
        "list_items": items,
        "list_paginated_items": paged_items,
        "list_bytes": len(body),
    }


async def stamped_writes(client: aiohttp.ClientSession, names: list[str], sizes: Sizes) -> dict[str, Any]:
    """Merge-patch the pods in turn at a steady rate, stamping the send time into each."""
    path = pods_path(WATCH_NS)
    acks: dict[tuple[str, str], int] = {}
    write_seconds: list[float] = []
    errors = 0
    t0 = time.monotonic()
    for i in range(sizes.watch_writes):
        delay = t0 + i / sizes.watch_rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        name = names[i % len(names)]
        sent = time.monotonic_ns()
        patch = orjson.dumps({"metadata": {"annotations": {STAMP: str(sent)}}})
        async with client.patch(f"{path}/{name}", data=patch, headers={"Content-Type": MERGE_PATCH}) as resp:
            body = await resp.read()
            status = resp.status
        acked = time.monotonic_ns()
        if status != 200:
            errors += 1
            continue
        acks[(name, orjson.loads(body)["metadata"]["resourceVersion"])] = acked
        write_seconds.append((acked - sent) / 1e9)
    return {"acks": acks, "write_seconds": write_seconds, "errors": errors}


async def phase_watch(client: aiohttp.ClientSession, endpoint: Endpoint, sizes: Sizes) -> dict[str, Any]:
    path = pods_path(WATCH_NS)
    names = [f"watched-{i:02d}" for i in range(sizes.watch_objects)]
    for i, name in enumerate(names):
        async with client.post(path, data=orjson.dumps(pod_body(WATCH_NS, name, i)), headers=JSON_HEADERS) as resp:
            if resp.status != 201:
                raise RuntimeError(f"creating {name} answered {resp.status}: {await resp.text()}")
    rv = orjson.loads(await fetch(client, path))["metadata"]["resourceVersion"]
    budget = sizes.watch_writes / sizes.watch_rate + 30
    job = {"kind": "watch", "endpoint": asdict(endpoint), "namespace": WATCH_NS, "resource_version": rv,
           "watchers": sizes.watchers, "expected": sizes.watch_writes, "budget": budget}
    async with workers([job]) as (w,):
        w.go()
        writes = await stamped_writes(client, names, sizes)
        result = await w.result(within=budget + 30)
    events = result["events"]
    from_send = [(arrival - stamp) / 1e9 for _k, _n, _rv, arrival, stamp in events]
    acks = writes["acks"]
    from_ack = [(arrival - acks[(n, rv)]) / 1e9 for _k, n, rv, arrival, _s in events if (n, rv) in acks]
    return {
        **latency_figures("watch", from_send),
        "watch_max_ms": ms(max(from_send, default=0.0)),
        **latency_figures("watch_after_ack", from_ack),
        "watchers": sizes.watchers,
        "watch_writes": sizes.watch_writes,
        "watch_events_received": len(events),
        "watch_events_expected": sizes.watchers * sizes.watch_writes,
        "watch_write_errors": writes["errors"],
        **latency_figures("watch_write", writes["write_seconds"]),
    }


async def create_namespace(client: aiohttp.ClientSession, name: str) -> None:
    body = orjson.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    async with client.post("/api/v1/namespaces", data=body, headers=JSON_HEADERS) as resp:
        if resp.status != 201:
            raise RuntimeError(f"creating namespace {name} answered {resp.status}: {await resp.text()}")


async def stored_pod_bytes(client: aiohttp.ClientSession) -> int:
    return len(await fetch(client, f"{pods_path(BENCH_NS)}/{pod_name(0)}"))


async def measure(server: ServerUnderTest, sizes: Sizes) -> dict[str, Any]:
    endpoint = Endpoint(server.url, server.token, str(server.ca_file))
    figures: dict[str, Any] = {}
    rss: dict[str, float] = {}
    async with session(endpoint, 2) as client:
        for ns in (BENCH_NS, WATCH_NS):
            await create_namespace(client, ns)
        await asyncio.sleep(1.0)  # let start-up garbage settle before the idle reading
        rss["idle"] = server.memory_mb()["VmRSS"]
        figures.update(await phase_creates(server, endpoint, sizes))
        rss["after_creates"] = server.memory_mb()["VmRSS"]
        figures["pod_bytes_sent"] = len(orjson.dumps(pod_body(BENCH_NS, pod_name(0), 0)))
        figures["pod_bytes_stored"] = await stored_pod_bytes(client)
        figures.update(await phase_gets(endpoint, sizes))
        rss["after_gets"] = server.memory_mb()["VmRSS"]
        figures.update(await phase_lists(client, sizes))
        rss["after_lists"] = server.memory_mb()["VmRSS"]
        figures.update(await phase_watch(client, endpoint, sizes))
        end = server.memory_mb()
        rss["after_watch"] = end["VmRSS"]
    figures.update(
        rss_idle_mb=rss["idle"], rss_after_pods_mb=rss["after_creates"], rss_peak_mb=end["VmHWM"],
        rss_by_phase_mb=rss,
    )
    return figures


async def measure_until_stopped(server: ServerUnderTest, sizes: Sizes) -> dict[str, Any]:
    """`measure`, cancelled by SIGTERM so that every `finally` (workers, server) still runs."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await measure(server, sizes)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def targets(figures: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (op, bound) in TARGETS.items():
        value = figures.get(name)
        met = value is not None and (value >= bound if op == ">=" else value < bound)
        out[name] = {"target": f"{op} {bound:g}", "met": met}
    return out


def report(figures: dict[str, Any], sizes: Sizes, load_before: float, elapsed: float) -> dict[str, Any]:
    return {
        **figures,
        "pods": sizes.pods,
        "targets": targets(figures),
        "load": {
            "generator": f"aiohttp {aiohttp.__version__} on {event_loop_name()}, HTTPS keep-alive, bearer token",
            "create_processes": max(1, min(sizes.load_procs, sizes.clients)),
            "create_clients": sizes.clients,
            "get_processes": 1,
            "get_clients": sizes.get_clients,
            "gets": sizes.gets,
            "watch_processes": 1,
            "list_and_watch_writes": "coordinator process",
            "watch_rate_per_second": sizes.watch_rate,
            "watch_latency_from": "monotonic clock just before the PATCH is sent, stamped into an annotation",
            "watch_after_ack_from": "monotonic clock when the PATCH's 200 response was read",
            "same_machine": "server and load generators share the machine's cores",
        },
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "kernel": platform.release(),
            "loadavg_1m_before": round(load_before, 2),
        },
        "bench_seconds": round(elapsed, 1),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the EdgeKube API server; prints one JSON object.")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a ~20 s smoke test")
    parser.add_argument("--pods", type=int, help="pods to create (default 10000; quick 1000)")
    parser.add_argument("--clients", type=int, help="concurrent create clients (default 64)")
    parser.add_argument("--watchers", type=int, help="concurrent watchers (default 100; quick 20)")
    parser.add_argument("--load-procs", type=int, help="worker processes for the creates (default 2)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def sizes_from(args: argparse.Namespace) -> Sizes:
    sizes = QUICK if args.quick else Sizes()
    overrides = {"pods": args.pods, "clients": args.clients, "watchers": args.watchers, "load_procs": args.load_procs}
    sizes = replace(sizes, **{k: v for k, v in overrides.items() if v is not None})
    for name in ("pods", "clients", "watchers", "load_procs"):
        if getattr(sizes, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')} must be at least 1")
    return sizes


def _terminate(signum: int, _frame: object) -> None:
    # Outside the event loop (server start-up): unwind through the `finally` that stops it.
    raise SystemExit(128 + signum)


def main() -> int:
    args = parse_args()
    if args.worker:
        run(worker_main())
        return 0
    sizes = sizes_from(args)
    signal.signal(signal.SIGTERM, _terminate)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    # The API and the store alone: no scheduler or controllers reacting to the benchmark's
    # pods (bench/scheduler.py measures those).
    server = ServerUnderTest(extra_args=["--disable-controllers"])
    try:
        server.start()
        figures = run(measure_until_stopped(server, sizes))
    except (asyncio.CancelledError, KeyboardInterrupt):
        print("benchmark interrupted; server stopped and data dir removed", file=sys.stderr)
        return 130
    except Exception:
        print(f"benchmark failed; server log tail:\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        server.stop()
    print(orjson.dumps(report(figures, sizes, load_before, time.monotonic() - started),
                       option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
