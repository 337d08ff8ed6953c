"""The DaemonSet controller: one pod per admitting node as nodes come, go and change; rolling updates."""

from __future__ import annotations

from typing import Any

from edgekube.controllers.daemonsets import DaemonSetController
from edgekube.controllers.daemonsets.pods import HASH_ANNOTATION, HASH_LABEL, target_node
from edgekube.controllers.nodes.podgc import PodGCController
from edgekube.resources.objects import Obj
from edgekube.service import subresources
from edgekube.service.options import ListOptions, WriteOptions
from tests.unit.controllers.nodes.harness import Bench

NS = "kube-system"
KEY = f"{NS}/agent"


async def create_daemonset(bench: Bench, *, strategy: dict[str, Any] | None = None, **template_spec: Any) -> Obj:
    template_spec.setdefault("containers", [{"name": "agent", "image": "agent:1"}])
    body = {
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": template_spec},
            "updateStrategy": strategy or {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        },
    }
    return await bench.service.create(bench.kind("apps", "DaemonSet"), NS, body, WriteOptions())


async def change_daemonset(bench: Bench, change: Any) -> Obj:
    async def mutate(current: Obj) -> Obj:
        change(current)
        return current

    return await bench.service.guaranteed_update(bench.kind("apps", "DaemonSet"), NS, "agent", mutate, WriteOptions())


async def pods(bench: Bench) -> list[Obj]:
    page = await bench.service.list(bench.kind("", "Pod"), NS, ListOptions())
    return page.decoded if page.decoded is not None else [i.decode() for i in page.items]


async def by_node(bench: Bench) -> dict[str, list[str]]:
    """Target node -> the names of the daemon pods there (Terminating ones marked with `~`)."""
    found: dict[str, list[str]] = {}
    for pod in await pods(bench):
        mark = "~" if pod["metadata"].get("deletionTimestamp") else ""
        found.setdefault(target_node(pod) or "?", []).append(mark + pod["metadata"]["name"])
    return {k: sorted(v) for k, v in sorted(found.items())}


async def agents_act(bench: Bench) -> None:
    """What scheduler and agents would do: bind pending pods, run them Ready, finish Terminating ones."""
    strategy = bench.kind("", "Pod")
    for pod in await pods(bench):
        name = pod["metadata"]["name"]
        if pod["metadata"].get("deletionTimestamp"):
            await bench.delete("", "Pod", NS, name, grace=0)
            continue
        if not pod["spec"].get("nodeName"):
            await subresources.bind(
                bench.service, strategy, NS, name, {"target": {"name": target_node(pod)}}, WriteOptions()
            )
        if pod["status"].get("phase") != "Running":
            await bench.pod_ready(NS, name)


async def step(bench: Bench, controller: DaemonSetController) -> list[tuple[str, str]]:
    """Prime the caches, sync the DaemonSet once; the writes as (type, resource)."""
    await bench.prime()
    await bench.sync(controller, KEY)
    return [(kind, resource) for kind, resource, _ in await bench.writes()]


async def status(bench: Bench) -> dict[str, Any]:
    ds = await bench.get("apps", "DaemonSet", NS, "agent")
    assert ds is not None
    return dict(ds["status"])


async def test_one_pod_per_matching_node(bench: Bench) -> None:
    """Nodes whose labels match get one pod each, pinned by affinity; a second sync changes nothing."""
    await bench.node("a", labels={"edge": "true"})
    await bench.node("b", labels={"edge": "true"})
    await bench.node("c")
    await create_daemonset(bench, nodeSelector={"edge": "true"})
    controller: DaemonSetController = bench.build(DaemonSetController)
    assert await step(bench, controller) == [
        ("MODIFIED", "apps/daemonsets"),  # the template hash annotation
        ("ADDED", "core/pods"),
        ("ADDED", "core/pods"),
        ("MODIFIED", "apps/daemonsets"),  # status
    ]
    placed = await by_node(bench)
    assert list(placed) == ["a", "b"] and all(len(v) == 1 for v in placed.values())
    ds = await bench.get("apps", "DaemonSet", NS, "agent")
    assert ds is not None
    revision = ds["metadata"]["annotations"][HASH_ANNOTATION]
    for pod in await pods(bench):
        assert pod["metadata"]["labels"][HASH_LABEL] == revision
        assert pod["metadata"]["ownerReferences"][0]["uid"] == ds["metadata"]["uid"]
        assert "nodeName" not in pod["spec"]
        keys = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
        assert ("node.kubernetes.io/unreachable", "NoExecute") in keys
    assert [reason for reason, _, _ in bench.events.seen] == ["SuccessfulCreate", "SuccessfulCreate"]
    # Status is counted from the snapshot the sync began with: no pods yet.
    assert ds["status"] == {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 2,
        "numberReady": 0,
        "observedGeneration": 1,
        "numberUnavailable": 2,
    }
    assert await step(bench, controller) == [("MODIFIED", "apps/daemonsets")]
    assert await status(bench) == {
        "currentNumberScheduled": 2,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 2,
        "numberReady": 0,
        "observedGeneration": 1,
        "updatedNumberScheduled": 2,
        "numberUnavailable": 2,
    }
    assert await step(bench, controller) == []


async def test_no_second_create_before_the_cache_shows_the_first(bench: Bench) -> None:
    """Expectations: a sync on a cache that has not seen the new pods yet creates nothing."""
    await bench.node("a")
    await create_daemonset(bench)
    controller: DaemonSetController = bench.build(DaemonSetController)
    await step(bench, controller)
    await bench.sync(controller, KEY)  # same frozen cache: the pod is not in it
    assert len(await pods(bench)) == 1


async def test_nodes_joining_and_leaving(bench: Bench) -> None:
    """A new node gets a pod; a pending pod of a removed node is deleted; a bound one goes by pod GC."""
    for name in ("a", "b"):
        await bench.node(name)
    await create_daemonset(bench)
    controller: DaemonSetController = bench.build(DaemonSetController)
    gc: PodGCController = bench.build(PodGCController)
    await step(bench, controller)
    await agents_act(bench)
    await step(bench, controller)
    await bench.node("d")
    assert await step(bench, controller) == [("ADDED", "core/pods"), ("MODIFIED", "apps/daemonsets")]
    assert list(await by_node(bench)) == ["a", "b", "d"]
    await bench.delete("", "Node", None, "d")
    assert await step(bench, controller) == [("DELETED", "core/pods"), ("MODIFIED", "apps/daemonsets")]
    await bench.delete("", "Node", None, "b")
    assert await step(bench, controller) == [("MODIFIED", "apps/daemonsets")]
    assert (await status(bench))["desiredNumberScheduled"] == 1
    (on_b,) = (await by_node(bench))["b"]
    await bench.sync(gc, f"{NS}/{on_b}")  # starts the pod GC's quarantine for the vanished node
    bench.clock.advance(bench.settings.node_monitor_grace_period)
    await bench.sync(gc, f"{NS}/{on_b}")
    assert list(await by_node(bench)) == ["a"]


async def test_relabelled_nodes_gain_and_lose_the_daemon(bench: Bench) -> None:
    """A node that stops matching loses its pod (gracefully); one that starts matching gains one."""
    await bench.node("a", labels={"edge": "true"})
    await bench.node("b", labels={"edge": "true"})
    await bench.node("c")
    await create_daemonset(bench, nodeSelector={"edge": "true"})
    controller: DaemonSetController = bench.build(DaemonSetController)
    await step(bench, controller)
    await agents_act(bench)
    await step(bench, controller)
    await bench.set_node("b", lambda n: n["metadata"]["labels"].pop("edge"))
    await bench.set_node("c", lambda n: n["metadata"]["labels"].update(edge="true"))
    assert await step(bench, controller) == [
        ("ADDED", "core/pods"),
        ("MODIFIED", "core/pods"),  # b's pod is Terminating: its agent stops it
        ("MODIFIED", "apps/daemonsets"),
    ]
    placed = await by_node(bench)
    assert placed["b"][0].startswith("~") and list(placed) == ["a", "b", "c"]
    assert [reason for reason, _, _ in bench.events.seen] == ["SuccessfulCreate", "SuccessfulDelete"]
    await agents_act(bench)
    await step(bench, controller)
    assert list(await by_node(bench)) == ["a", "c"]


async def test_taints_and_tolerations(bench: Bench) -> None:
    """Untolerated NoSchedule keeps daemons off; cordoned and unreachable nodes still run them; NoExecute evicts."""
    await bench.node("plain")
    await bench.node("dedicated", taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}])
    await bench.node(
        "cordoned", unschedulable=True, taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
    )
    await bench.node("dead", ready="Unknown", taints=[{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}])
    await create_daemonset(bench)
    controller: DaemonSetController = bench.build(DaemonSetController)
    await step(bench, controller)
    assert list(await by_node(bench)) == ["cordoned", "dead", "plain"]
    await agents_act(bench)
    await step(bench, controller)
    await bench.set_node("cordoned", lambda n: n["spec"]["taints"].append({"key": "late", "effect": "NoSchedule"}))
    await bench.set_node("plain", lambda n: n["spec"].update(taints=[{"key": "evict", "effect": "NoExecute"}]))
    assert await step(bench, controller) == [("MODIFIED", "core/pods"), ("MODIFIED", "apps/daemonsets")]
    placed = await by_node(bench)
    assert placed["plain"][0].startswith("~") and not placed["cordoned"][0].startswith("~")
    # Both run where a new daemon would not be placed: Kubernetes counts them misscheduled.
    assert (await status(bench))["numberMisscheduled"] == 2


async def test_tolerating_template_runs_on_a_dedicated_node(bench: Bench) -> None:
    """A template toleration admits the tainted node."""
    await bench.node("dedicated", taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}])
    await create_daemonset(bench, tolerations=[{"key": "dedicated", "operator": "Equal", "value": "db"}])
    controller: DaemonSetController = bench.build(DaemonSetController)
    await step(bench, controller)
    assert list(await by_node(bench)) == ["dedicated"]


async def test_rolling_update_goes_node_by_node(bench: Bench) -> None:
    """maxUnavailable 1: each old pod goes only once the previous node's new pod is available."""
    for name in ("a", "b", "c"):
        await bench.node(name)
    await create_daemonset(bench)
    controller: DaemonSetController = bench.build(DaemonSetController)
    await step(bench, controller)
    await agents_act(bench)
    await step(bench, controller)
    old = {node: names[0] for node, names in (await by_node(bench)).items()}
    await change_daemonset(bench, lambda d: d["spec"]["template"]["spec"]["containers"][0].update(image="agent:2"))
    replaced: list[str] = []
    for _ in range(12):
        await step(bench, controller)
        placed = await by_node(bench)
        terminating = [node for node, names in placed.items() if any(n.startswith("~") for n in names)]
        missing = [node for node in ("a", "b", "c") if node not in placed]
        assert len(terminating) + len(missing) <= 1, placed  # never two nodes down at once
        replaced += [node for node in terminating if node not in replaced]
        await agents_act(bench)
        if all(old[node] not in names for node, names in placed.items()) and len(placed) == 3 and not terminating:
            break
    assert replaced == ["a", "b", "c"]
    await step(bench, controller)
    final = await status(bench)
    assert final["updatedNumberScheduled"] == 3 and final["numberAvailable"] == 3
    assert final["observedGeneration"] == 2


async def test_on_delete_leaves_old_pods(bench: Bench) -> None:
    """OnDelete: a new template replaces nothing until someone deletes a pod."""
    await bench.node("a")
    await create_daemonset(bench, strategy={"type": "OnDelete"})
    controller: DaemonSetController = bench.build(DaemonSetController)
    await step(bench, controller)
    await agents_act(bench)
    await step(bench, controller)
    await change_daemonset(bench, lambda d: d["spec"]["template"]["spec"]["containers"][0].update(image="agent:2"))
    assert await step(bench, controller) == [("MODIFIED", "apps/daemonsets"), ("MODIFIED", "apps/daemonsets")]
    assert (await status(bench)).get("updatedNumberScheduled", 0) == 0


async def test_failed_pod_is_replaced_with_backoff(bench: Bench) -> None:
    """A Failed daemon pod is deleted (and replaced); the next failure on that node waits 1 s."""
    await bench.node("a")
    await create_daemonset(bench)
    controller: DaemonSetController = bench.build(DaemonSetController)
    await step(bench, controller)
    await agents_act(bench)
    for pod in await pods(bench):
        await bench.pod_ready(NS, pod["metadata"]["name"], phase="Failed")
    assert await step(bench, controller) == [("DELETED", "core/pods"), ("MODIFIED", "apps/daemonsets")]
    assert bench.events.seen[0][0] == "FailedDaemonPod"
    assert await step(bench, controller) == [("ADDED", "core/pods"), ("MODIFIED", "apps/daemonsets")]
    await agents_act(bench)
    for pod in await pods(bench):
        await bench.pod_ready(NS, pod["metadata"]["name"], phase="Failed")
    await bench.prime()
    assert await bench.sync(controller, KEY) == 1.0
    assert [w for w in await bench.writes() if w[1] == "core/pods"] == []


async def test_min_ready_seconds_requeues_until_available(bench: Bench) -> None:
    """A pod ready for less than minReadySeconds is not available; the sync comes back when it will be."""
    await bench.node("a")
    await create_daemonset(bench)
    await change_daemonset(bench, lambda d: d["spec"].update(minReadySeconds=10))
    controller: DaemonSetController = bench.build(DaemonSetController)
    await step(bench, controller)
    await agents_act(bench)
    bench.clock.advance(4)
    await bench.prime()
    assert await bench.sync(controller, KEY) == 10.0 - 4
    assert (await status(bench)).get("numberAvailable", 0) == 0
