"""Service NAT sync speed: a full resync of 1,000 services, and API change to live rule.

    .venv/bin/python bench/netsync.py               # 1,000 services x 3 endpoints, 100 changes
    .venv/bin/python bench/netsync.py --services 200 --changes 20

Runs itself again inside a network namespace it creates (default route into a sink
namespace, so nothing it does reaches the host's network), prints one JSON object, and
removes the namespaces at the end (also on error). Needs root and nft. See README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import structlog  # noqa: E402
from _support import ServerUnderTest, percentile, run  # noqa: E402

from agent.network.local import LocalNode  # noqa: E402
from agent.network.nat_applying import NatApplier  # noqa: E402
from agent.network.nat_drift import differences, read_actual  # noqa: E402
from agent.network.nat_model import ServiceNat, service_nat  # noqa: E402
from agent.network.nat_rendering import NatContext, full_ruleset, render_service  # noqa: E402
from agent.network.proxying import run_service_proxy  # noqa: E402
from agent.settings import NetworkSettings  # noqa: E402
from agent.watches import SharedWatches  # noqa: E402
from edgekube.client import ENDPOINT_SLICES, NAMESPACES, SERVICES, ApiClient, Config  # noqa: E402

NAMESPACE = "netsync"
TABLE = "edgekube"  # inside our own namespace: the real name, as an agent would use it
FULL_RUNS = 5
TARGET_FULL_S = 1.0
TARGET_CHANGE_P99_MS = 200.0
CHANGE_TIMEOUT = 5.0  # seconds one change may take to show up before it counts as lost
Obj = dict[str, Any]


# -- objects ------------------------------------------------------------------------------


def cluster_ip(i: int) -> str:
    return str(ipaddress.IPv4Address("10.43.1.0") + i)


def pod_ip(i: int) -> str:
    return str(ipaddress.IPv4Address("10.42.0.2") + i)


def service(i: int) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"namespace": NAMESPACE, "name": f"svc-{i}"},
        "spec": {
            "type": "NodePort" if i % 2 else "ClusterIP",  # half also get a node port
            "clusterIP": cluster_ip(i),
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
        },
    }


def endpoint_slice(i: int, endpoints: int, ips: list[str] | None = None) -> Obj:
    ips = ips or [pod_ip(i * endpoints + j) for j in range(endpoints)]
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "namespace": NAMESPACE,
            "name": f"svc-{i}-bench",
            "labels": {"kubernetes.io/service-name": f"svc-{i}", "endpointslice.kubernetes.io/managed-by": "bench"},
        },
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": [ip], "nodeName": "bench-node", "conditions": {"ready": True}} for ip in ips],
    }


def models(count: int, endpoints: int) -> list[ServiceNat]:
    found = []
    for i in range(count):
        svc = service(i)
        svc["spec"]["ports"][0]["nodePort"] = 30000 + i if i % 2 else None
        m = service_nat(svc, [endpoint_slice(i, endpoints)], node_name="bench-node", cluster_dns="10.43.0.10")
        assert m is not None
        found.append(m)
    return found


async def nft(*args: str, check: bool = True) -> bytes:
    """`nft ARGS` (this process runs inside the benchmark's namespace); its stdout."""
    proc = await asyncio.create_subprocess_exec(
        "nft", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    if check and proc.returncode != 0:
        raise RuntimeError(f"nft {' '.join(args)}: {err.decode().strip()}")
    return out


# -- phase 1: full resync, ours against nft -f by hand -------------------------------------------


async def full_phase(count: int, endpoints: int, work: Path) -> dict[str, Any]:
    settings = NetworkSettings(nft_table=TABLE)
    ctx = NatContext(TABLE, settings.cluster_cidr, settings.service_cidr)
    ours: list[float] = []
    by_hand: list[float] = []
    ruleset = ""
    for _ in range(FULL_RUNS):
        started = time.perf_counter()
        applier = NatApplier(ctx)
        await applier.full_sync(models(count, endpoints))  # model values -> render -> nft -f -
        ours.append(time.perf_counter() - started)
        ruleset = full_ruleset((render_service(m, ctx) for m in models(count, endpoints)), ctx)
        path = work / "ruleset.nft"
        path.write_text(ruleset)
        started = time.perf_counter()
        await nft("-f", str(path))
        by_hand.append(time.perf_counter() - started)
    started = time.perf_counter()
    drift = differences(applier.expected(), await read_actual(TABLE))
    drift_s = time.perf_counter() - started
    started = time.perf_counter()
    await nft("-j", "list", "table", "ip", TABLE)
    list_s = time.perf_counter() - started
    single: list[float] = []
    for k in range(20):
        changed = service(k)
        m = service_nat(changed, [endpoint_slice(k, endpoints - 1)], node_name="bench-node", cluster_dns="10.43.0.10")
        started = time.perf_counter()
        await applier.update({m.key if m else "": m})
        single.append(time.perf_counter() - started)
    ours_med, hand_med = statistics.median(ours), statistics.median(by_hand)
    return {
        "services": count,
        "endpoints_per_service": endpoints,
        "ruleset_lines": ruleset.count("\n"),
        "ruleset_bytes": len(ruleset),
        "full_resync_seconds": round(ours_med, 3),
        "full_resync_seconds_runs": [round(x, 3) for x in ours],
        "nft_f_by_hand_seconds": round(hand_med, 3),
        "nft_f_by_hand_seconds_runs": [round(x, 3) for x in by_hand],
        "ratio_ours_to_by_hand": round(ours_med / hand_med, 2),
        "drift_check_seconds": round(drift_s, 3),
        "drift_found_after_full_sync": drift,
        "nft_list_table_json_seconds": round(list_s, 3),
        "incremental_update_p50_ms": round(statistics.median(single) * 1000, 1),
        "incremental_update_max_ms": round(max(single) * 1000, 1),
    }


# -- phase 2: endpoint change in the API to rule in the kernel -----------------------------------


class Monitor:
    """`nft monitor` in the background: when each line arrived (monotonic), for waiters to match."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[tuple[float, str]] = []
        self.changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            "nft", "monitor", "rules", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        self._task = asyncio.create_task(self._read())
        await asyncio.sleep(0.2)  # let it subscribe before anything is measured

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.lines.append((time.monotonic(), line.decode(errors="replace")))
            self.changed.set()

    async def wait_for(self, text: str, since: int) -> float:
        """Monotonic time of the first line from index `since` on that contains `text`."""
        deadline = time.monotonic() + CHANGE_TIMEOUT
        i = since
        while True:
            while i < len(self.lines):
                if text in self.lines[i][1]:
                    return self.lines[i][0]
                i += 1
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(text)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self.changed.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def wait_map_size(size: int, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        out = await nft("-j", "list", "map", "ip", TABLE, "service-ips", check=False)
        if out:
            items = json.loads(out)["nftables"]
            if any(len(item["map"].get("elem") or ()) >= size for item in items if "map" in item):
                return
        await asyncio.sleep(0.05)
    listed = (await nft("list", "chains", "ip", check=False)).decode().count("chain ")
    raise TimeoutError(f"service-ips never reached {size} elements ({listed} chains in the namespace)")


async def change_phase(count: int, endpoints: int, changes: int) -> dict[str, Any]:
    await nft("delete", "table", "ip", TABLE, check=False)
    server = ServerUnderTest(extra_args=["--disable-controllers"])
    server.start()
    try:
        config = Config(server=server.url, token=server.token, ca_pem=server.ca_file.read_bytes())
        async with ApiClient(config) as api:
            await api.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
            started = time.perf_counter()
            gate = asyncio.Semaphore(32)

            async def put(i: int) -> None:
                async with gate:
                    await api.create(SERVICES, service(i), NAMESPACE)
                    await api.create(ENDPOINT_SLICES, endpoint_slice(i, endpoints), NAMESPACE)

            await asyncio.gather(*(put(i) for i in range(count)))
            create_s = time.perf_counter() - started

            watches = SharedWatches(api)
            node = LocalNode(
                name="bench-node",
                ip=ipaddress.IPv4Address("192.0.2.1"),
                pod_cidr=ipaddress.IPv4Network("10.42.0.0/24"),
                interface="sink0",
                mtu=1500,
            )
            started = time.perf_counter()
            proxy = asyncio.create_task(
                run_service_proxy(settings=NetworkSettings(nft_table=TABLE), watches=watches, node=node)
            )
            monitor = Monitor()
            try:
                await wait_map_size(count, 60)
                cold_s = time.perf_counter() - started
                await monitor.start()
                latencies: list[float] = []
                write_ms: list[float] = []
                lost = 0
                for n in range(changes):
                    i = (n * 7919) % count  # spread over the services
                    fresh = f"10.42.{200 + n // 250}.{n % 250 + 1}"
                    ips = [pod_ip(i * endpoints + j) for j in range(endpoints - 1)] + [fresh]
                    since = len(monitor.lines)
                    sent = time.monotonic()
                    await api.patch(
                        ENDPOINT_SLICES,
                        f"svc-{i}-bench",
                        {"endpoints": endpoint_slice(i, endpoints, ips)["endpoints"]},
                        NAMESPACE,
                    )
                    write_ms.append((time.monotonic() - sent) * 1000)
                    try:
                        live = await monitor.wait_for(f"dnat to {fresh}:8080", since)
                    except TimeoutError:
                        lost += 1
                        continue
                    latencies.append((live - sent) * 1000)
                    await asyncio.sleep(0.02)  # one change at a time: this measures latency, not throughput
            finally:
                await monitor.stop()
                proxy.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await proxy
                await watches.stop()
    finally:
        server.stop()
    return {
        "api_objects_created": 2 * count,
        "api_create_seconds": round(create_s, 2),
        "cold_start_to_synced_seconds": round(cold_s, 3),
        "changes": changes,
        "changes_lost": lost,
        "change_to_rule_p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
        "change_to_rule_p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "change_to_rule_max_ms": round(max(latencies), 1) if latencies else None,
        "patch_p50_ms": round(percentile(write_ms, 50), 1),
    }


async def inside(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="netsync-") as work:
        full = await full_phase(args.services, args.endpoints, Path(work))
    change = await change_phase(args.services, args.endpoints, args.changes)
    return {
        "benchmark": "netsync",
        "full": full,
        "change": change,
        "targets": {
            "full_resync_under_1s": full["full_resync_seconds"] < TARGET_FULL_S,
            "change_to_rule_p99_under_200ms": change["change_to_rule_p99_ms"] is not None
            and change["change_to_rule_p99_ms"] < TARGET_CHANGE_P99_MS
            and change["changes_lost"] == 0,
        },
    }


# -- outside: the namespaces ----------------------------------------------------------------


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--endpoints", type=int, default=3)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--verbose", action="store_true", help="the proxy's logs on stderr, debug level")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        # Our stdout is the JSON; the proxy's logs (warnings and up) go to stderr.
        structlog.configure(
            wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG if args.verbose else logging.WARNING),
            logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        )
        print(json.dumps(run(inside(args)), indent=2))
        return 0
    load_before = os.getloadavg()[0]
    if os.geteuid() != 0:
        print("netsync needs root (network namespaces, nft)", file=sys.stderr)
        return 2
    prefix = f"h4-netsync-{secrets.token_hex(3)}"
    node, sink = f"{prefix}-node", f"{prefix}-sink"
    try:
        for ns in (node, sink):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        # Default route into a namespace that forwards nothing: no packet can leave the machine.
        sh("ip", "-n", node, "link", "add", "sink0", "type", "veth", "peer", "name", "sink1", "netns", sink)
        sh("ip", "-n", node, "addr", "add", "192.0.2.1/24", "dev", "sink0")
        sh("ip", "-n", node, "link", "set", "sink0", "up")
        sh("ip", "-n", sink, "link", "set", "sink1", "up")
        sh("ip", "-n", node, "route", "add", "default", "dev", "sink0")
        child = [sys.executable, __file__, "--inside", *sys.argv[1:]]
        done = subprocess.run(["ip", "netns", "exec", node, *child], stdout=subprocess.PIPE)
        if done.returncode != 0:
            return done.returncode
        result = json.loads(done.stdout)
        result["machine"] = {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "kernel": platform.release(),
            "loadavg_1m_before": load_before,
        }
        print(json.dumps(result, indent=2))
        return 0
    finally:
        for ns in (node, sink):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
