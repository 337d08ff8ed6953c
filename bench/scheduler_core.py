"""Scheduler core benchmark: the decision algorithm alone, in-process, no store, no HTTP.

Builds N synthetic nodes (default 1,000: mixed sizes, zones, a few tainted or cordoned)
and P pods (default 10,000: mostly ReplicaSet pods with requests, some best-effort, some
with a nodeSelector, tolerations, host ports or pod anti-affinity), then schedules the
pods one by one exactly as the scheduler loop does (PodInfo parse -> Algorithm.schedule ->
assume in the cache), and prints one JSON object: decisions per second and per-decision
latency. Binding writes are not part of this figure (see bench/scheduler.py, later).

Run: .venv/bin/python bench/scheduler_core.py [--nodes N] [--pods P] [--seed S] [--plain]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from collections import Counter
from typing import Any

from edgekube.scheduler.algorithm import Algorithm, ScheduleResult, nodes_to_find
from edgekube.scheduler.caching import SchedulerCache
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.profiles import build_profile

SIZES = [("4", "8Gi"), ("8", "16Gi"), ("16", "64Gi"), ("32", "128Gi")]
ZONES = ["zone-a", "zone-b", "zone-c"]
RS_COUNT = 200


def make_node(i: int, rng: random.Random) -> dict[str, Any]:
    cpu, memory = rng.choice(SIZES)
    name = f"node-{i:05d}"
    spec: dict[str, Any] = {}
    if i % 50 == 0:
        spec["taints"] = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    if i % 97 == 0:
        spec["unschedulable"] = True
    if i % 40 == 1:
        spec.setdefault("taints", []).append({"key": "spot", "value": "true", "effect": "PreferNoSchedule"})
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "arm64" if i % 3 else "amd64",
                "topology.kubernetes.io/zone": ZONES[i % len(ZONES)],
                "disk": "ssd" if i % 4 == 0 else "sd",
            },
        },
        "spec": spec,
        "status": {
            "capacity": {"cpu": cpu, "memory": memory, "pods": "110"},
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def make_pod(i: int, rng: random.Random, plain: bool) -> dict[str, Any]:
    rs = i % RS_COUNT
    name = f"rs-{rs}-{i:06d}"
    labels = {"app": f"app-{rs}", "pod-template-hash": f"h{rs}"}
    container: dict[str, Any] = {"name": "main", "image": "busybox"}
    kind = "plain" if plain else rng.choices(
        ["requests", "besteffort", "selector", "toleration", "hostport", "antiaffinity"],
        weights=[70, 10, 8, 5, 4, 3],
    )[0]
    spec: dict[str, Any] = {"containers": [container], "schedulerName": "default-scheduler", "priority": 0}
    if kind != "besteffort":
        container["resources"] = {"requests": {"cpu": rng.choice(["50m", "100m", "250m"]),
                                               "memory": rng.choice(["64Mi", "128Mi", "256Mi"])}}
    if kind == "selector":
        spec["nodeSelector"] = {"disk": "ssd"}
    elif kind == "toleration":
        spec["tolerations"] = [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}]
    elif kind == "hostport":
        container["ports"] = [{"containerPort": 9100, "hostPort": 9100, "protocol": "TCP"}]
    elif kind == "antiaffinity":
        spec["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": labels["app"]}}, "topologyKey": "kubernetes.io/hostname"}
        ]}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "bench",
            "uid": f"uid-{name}",
            "labels": labels,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"rs-{rs}",
                                 "uid": f"rs-uid-{rs}", "controller": True}],
        },
        "spec": spec,
        "status": {"phase": "Pending"},
        "_kind": kind,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plain", action="store_true", help="only ReplicaSet pods with requests (no special cases)")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    cache = SchedulerCache()
    for i in range(args.nodes):
        cache.set_node(make_node(i, rng))
    pods = [make_pod(i, rng, args.plain) for i in range(args.pods)]
    algorithm = Algorithm(build_profile(), cache, rng=random.Random(args.seed))

    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    by_kind: dict[str, list[float]] = {}
    evaluated = 0
    started = time.perf_counter()
    for pod in pods:
        kind = pod.pop("_kind")
        t0 = time.perf_counter()
        info = PodInfo.of(pod)
        outcome = algorithm.schedule(info)
        if isinstance(outcome, ScheduleResult):
            cache.assume(info, outcome.node)
            evaluated += outcome.evaluated
            outcomes["scheduled"] += 1
        else:
            _ = outcome.message
            outcomes["unschedulable"] += 1
        elapsed = time.perf_counter() - t0
        latencies.append(elapsed)
        by_kind.setdefault(kind, []).append(elapsed)
    wall = time.perf_counter() - started

    latencies.sort()
    ms = [x * 1000 for x in latencies]
    result = {
        "nodes": args.nodes,
        "pods": args.pods,
        "mix": "plain" if args.plain else "mixed",
        "nodes_to_find": nodes_to_find(args.nodes),
        "decisions_per_second": round(args.pods / wall, 1),
        "wall_seconds": round(wall, 3),
        "decision_p50_ms": round(statistics.median(ms), 3),
        "decision_p99_ms": round(ms[int(len(ms) * 0.99) - 1], 3),
        "decision_max_ms": round(ms[-1], 3),
        "mean_nodes_evaluated": round(evaluated / max(outcomes["scheduled"], 1), 1),
        "outcomes": dict(outcomes),
        "mean_ms_by_pod_kind": {k: round(statistics.mean(v) * 1000, 3) for k, v in sorted(by_kind.items())},
        "target_decisions_per_second": 300,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
