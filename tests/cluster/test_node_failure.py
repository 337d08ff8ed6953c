"""A node that stops renewing its lease: NotReady, tainted, its pods replaced; back, untainted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from edgekube.client import NODES, PODS, ApiClient
from edgekube.simulating import Fleet
from tests.cluster.conftest import Kubectl, eventually
from tests.cluster.test_rollouts import deployment, is_ready

UNREACHABLE = "node.kubernetes.io/unreachable"


def taint_keys(node: dict[str, Any]) -> set[str]:
    return {t["key"] for t in (node.get("spec") or {}).get("taints") or []}


async def test_dead_node_pods_move_and_taint_lifts_on_return(
    api: ApiClient, fleet: Fleet, kubectl: Kubectl, tmp_path: Path
) -> None:
    """Stop one node's heartbeat: NotReady + unreachable taint, pods evicted and replaced elsewhere."""
    manifest = tmp_path / "app.yaml"
    manifest.write_text(yaml.safe_dump(deployment("app", 3, "localhost/app:1")))
    await kubectl.run("apply", "-f", str(manifest))
    await kubectl.run("rollout", "status", "deployment/app", "--timeout=60s")
    pods = (await api.list(PODS, "default", label_selector="app=app")).items
    victim = pods[0]["spec"]["nodeName"]

    fleet.stop_heartbeat(victim)

    async def tainted() -> bool:
        node = await api.get(NODES, victim)
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        return ready["status"] == "Unknown" and UNREACHABLE in taint_keys(node)

    await eventually(tainted, 20, f"{victim} NotReady and tainted")
    nodes_table = await kubectl.out("get", "nodes")
    assert any(line.split()[:2] == [victim, "NotReady"] for line in nodes_table.splitlines()), nodes_table

    async def moved() -> bool:
        live = [
            p
            for p in (await api.list(PODS, "default", label_selector="app=app")).items
            if not p["metadata"].get("deletionTimestamp")
        ]
        return len(live) == 3 and all(is_ready(p) and p["spec"]["nodeName"] != victim for p in live)

    await eventually(moved, 30, "3 ready pods on the other nodes")

    fleet.resume_heartbeat(victim)

    async def healed() -> bool:
        node = await api.get(NODES, victim)
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        return ready["status"] == "True" and UNREACHABLE not in taint_keys(node)

    await eventually(healed, 20, f"{victim} Ready and untainted")
