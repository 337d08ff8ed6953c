"""Deployments on three simulated nodes, driven with the real kubectl."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from edgekube.client import PODS, ApiClient
from edgekube.simulating import Fleet
from tests.cluster.conftest import Kubectl, eventually


def deployment(name: str, replicas: int, image: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
            **spec,
        },
    }


REVISION = "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}"


def is_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def pods_of(api: ApiClient, app: str) -> list[dict[str, Any]]:
    return (await api.list(PODS, "default", label_selector=f"app={app}")).items


async def test_rolling_update_keeps_capacity_and_undo_returns(
    api: ApiClient, fleet: Fleet, kubectl: Kubectl, tmp_path: Path
) -> None:
    """6 replicas spread 2/2/2; set image never drops below 6 ready nor exceeds 7; undo goes back."""
    manifest = tmp_path / "web.yaml"
    manifest.write_text(yaml.safe_dump(deployment("web", 6, "localhost/web:1")))
    await kubectl.run("apply", "-f", str(manifest))
    await kubectl.run("rollout", "status", "deployment/web", "--timeout=60s")

    async def all_ready() -> bool:
        pods = await pods_of(api, "web")
        return len(pods) == 6 and all(is_ready(p) for p in pods)

    await eventually(all_ready, 30, "6 ready pods")
    spread = Counter(p["spec"]["nodeName"] for p in await pods_of(api, "web"))
    assert sorted(spread.values()) == [2, 2, 2], spread

    # Follow every pod event during the rollout. Terminating pods no longer count (they are
    # on their way out, as Kubernetes counts them for surge): ready pods must stay within
    # 6..7, and live pods must never exceed 6 + maxSurge.
    listed = await api.list(PODS, "default", label_selector="app=web")
    state = {p["metadata"]["name"]: p for p in listed.items}
    lowest_ready, highest_ready, highest_live = 6, 6, 6

    async def follow() -> None:
        nonlocal lowest_ready, highest_ready, highest_live
        async with api.watch(PODS, "default", label_selector="app=web", resource_version=listed.resource_version) as w:
            async for kind, pod in w:
                name = pod["metadata"]["name"]
                if kind == "DELETED":
                    state.pop(name, None)
                else:
                    state[name] = pod
                live = [p for p in state.values() if not p["metadata"].get("deletionTimestamp")]
                ready = sum(1 for p in live if is_ready(p))
                lowest_ready, highest_ready = min(lowest_ready, ready), max(highest_ready, ready)
                highest_live = max(highest_live, len(live))

    watcher = asyncio.create_task(follow())
    try:
        await kubectl.run("set", "image", "deployment/web", "app=localhost/web:2")
        await kubectl.run("rollout", "status", "deployment/web", "--timeout=90s")

        async def rolled() -> bool:
            pods = await pods_of(api, "web")
            images = {p["spec"]["containers"][0]["image"] for p in pods}
            return len(pods) == 6 and images == {"localhost/web:2"} and all(is_ready(p) for p in pods)

        await eventually(rolled, 30, "all pods on the new image")
    finally:
        watcher.cancel()
    assert lowest_ready >= 6, f"ready pods dropped to {lowest_ready}"
    assert highest_ready <= 7, f"ready pods rose to {highest_ready}"
    assert highest_live <= 7, f"live pods rose to {highest_live}"

    revision = await kubectl.out("get", "deploy", "web", "-o", REVISION)
    assert revision == "2"
    await kubectl.run("rollout", "undo", "deployment/web")
    await kubectl.run("rollout", "status", "deployment/web", "--timeout=90s")
    image = await kubectl.out("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert image == "localhost/web:1"
    revision = await kubectl.out("get", "deploy", "web", "-o", REVISION)
    assert revision == "3"
    history = await kubectl.out("rollout", "history", "deployment/web")
    assert "2" in history and "3" in history


async def test_rollout_status_fails_after_the_progress_deadline(
    api: ApiClient, fleet: Fleet, kubectl: Kubectl, tmp_path: Path
) -> None:
    """Pods that never become ready: `kubectl rollout status` exits non-zero naming the deadline."""
    body = deployment("stuck", 2, "localhost/stuck:1", progressDeadlineSeconds=3)
    body["spec"]["template"]["metadata"]["annotations"] = {"simulate.edgekube.io/fail": "true"}
    manifest = tmp_path / "stuck.yaml"
    manifest.write_text(yaml.safe_dump(body))
    await kubectl.run("apply", "-f", str(manifest))
    code, out, err = await kubectl.run("rollout", "status", "deployment/stuck", "--timeout=60s", check=False)
    assert code != 0
    assert "exceeded its progress deadline" in (out + err)
