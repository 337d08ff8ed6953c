"""The garbage collector: background, foreground and orphan deletion, owners known by uid."""

from __future__ import annotations

import pytest

from edgekube.controllers.garbage import GarbageCollector
from edgekube.controllers.garbage.owners import Action, OwnerState, Verdict, judge
from edgekube.resources.objects import Obj
from tests.unit.controllers.garbage.harness import Harness
from tests.unit.controllers.garbage.objects import configmap, deployment, pod, ref, replicaset

NS = "team"
APPS = "apps"


@pytest.fixture
async def gc(harness: Harness) -> GarbageCollector:
    await harness.create("", "Namespace", None, {"metadata": {"name": NS}})
    collector: GarbageCollector = harness.build(GarbageCollector)
    return collector


async def chain(h: Harness, *, block: bool = True) -> tuple[Obj, Obj, list[Obj]]:
    """deployment web -> replicaset web-1 -> pods web-1-a, web-1-b."""
    deploy = await h.create(APPS, "Deployment", NS, deployment("web"))
    rs = await h.create(APPS, "ReplicaSet", NS, replicaset("web-1", [ref(deploy, block=block)]))
    pods = [await h.create("", "Pod", NS, pod(f"web-1-{x}", [ref(rs, block=block)])) for x in "ab"]
    return deploy, rs, pods


# -- judging ---------------------------------------------------------------------------------

P, W, A, U = OwnerState.PRESENT, OwnerState.WAITING, OwnerState.ABSENT, OwnerState.UNRESOLVED


@pytest.mark.parametrize(
    ("states", "verdict"),
    [
        ([P], Verdict(Action.KEEP)),
        ([U], Verdict(Action.KEEP)),
        ([A], Verdict(Action.DELETE)),
        ([W], Verdict(Action.DELETE, owner_waiting=True)),
        ([A, W], Verdict(Action.DELETE, owner_waiting=True)),
        ([P, A], Verdict(Action.UNLINK, drop=frozenset({"1"}))),
        ([U, W], Verdict(Action.UNLINK, drop=frozenset({"1"}))),
        ([P, A, W], Verdict(Action.UNLINK, drop=frozenset({"1", "2"}))),
    ],
)
def test_judge(states: list[OwnerState], verdict: Verdict) -> None:
    """A live (or unknowable) owner keeps a dependent; otherwise dead owners mean deletion."""
    assert judge([({"uid": str(i)}, s) for i, s in enumerate(states)]) == verdict


# -- background ------------------------------------------------------------------------------


async def test_dependent_of_a_deleted_owner_is_deleted(harness: Harness, gc: GarbageCollector) -> None:
    """Background: the owner is gone, so its only dependent is deleted."""
    await chain(harness)
    await harness.delete(APPS, "Deployment", NS, "web")
    await harness.prime()
    await gc.sync(f"apps/replicasets|{NS}/web-1")
    assert await harness.writes() == [("DELETED", "apps/replicasets", f"{NS}/web-1")]


async def test_dependent_with_a_live_owner_only_loses_the_dead_reference(
    harness: Harness, gc: GarbageCollector
) -> None:
    """A dependent with another live owner stays, without the reference to the dead one."""
    dead = await harness.create("", "ConfigMap", NS, configmap("dead"))
    live = await harness.create("", "ConfigMap", NS, configmap("live"))
    await harness.create("", "ConfigMap", NS, configmap("shared", [ref(dead), ref(live, controller=False)]))
    await harness.delete("", "ConfigMap", NS, "dead")
    await harness.prime()
    await gc.sync(f"core/configmaps|{NS}/shared")
    assert await harness.writes() == [("MODIFIED", "core/configmaps", f"{NS}/shared")]
    shared = await harness.read("", "ConfigMap", NS, "shared")
    assert shared is not None
    assert [r["name"] for r in shared["metadata"]["ownerReferences"]] == ["live"]


async def test_recreated_owner_is_a_different_owner(harness: Harness, gc: GarbageCollector) -> None:
    """An owner deleted and created again under the same name has a new uid: the dependent goes."""
    await chain(harness)
    await harness.delete(APPS, "Deployment", NS, "web")
    await harness.create(APPS, "Deployment", NS, deployment("web"))
    await harness.prime()
    await gc.sync(f"apps/replicasets|{NS}/web-1")
    assert await harness.writes() == [("DELETED", "apps/replicasets", f"{NS}/web-1")]


async def test_live_owner_keeps_its_dependents(harness: Harness, gc: GarbageCollector) -> None:
    """Nothing is written for a dependent whose owner exists."""
    await chain(harness)
    await harness.prime()
    await gc.sync(f"apps/replicasets|{NS}/web-1")
    await gc.sync(f"core/pods|{NS}/web-1-a")
    assert await harness.writes() == []


async def test_owner_missing_from_the_cache_is_read_from_the_store(harness: Harness, gc: GarbageCollector) -> None:
    """An owner created after the cache was filled is found by a live read, so the dependent stays."""
    await harness.prime()
    owner = await harness.create("", "ConfigMap", NS, configmap("late-owner"))
    await harness.create("", "ConfigMap", NS, configmap("dependent", [ref(owner)]))
    # The dependent reaches the cache, the owner does not (the order informers may deliver them).
    informer = harness.factory.informer("", "v1", "ConfigMap")
    dependent = await harness.read("", "ConfigMap", NS, "dependent")
    assert dependent is not None
    informer._upsert(f"{NS}/dependent", dependent)  # private on purpose: the cache lag under test
    harness.mark = harness.service.store.revision
    await gc.sync(f"core/configmaps|{NS}/dependent")
    assert await harness.writes() == []


async def test_owner_of_an_unknown_kind_keeps_the_dependent(harness: Harness, gc: GarbageCollector) -> None:
    """A reference to a kind this server does not serve cannot be judged: the dependent stays."""
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "name": "w", "uid": "0000-1111"}
    await harness.create("", "ConfigMap", NS, configmap("held", [widget]))
    await harness.prime()
    await gc.sync(f"core/configmaps|{NS}/held")
    assert await harness.writes() == []


async def test_cluster_scoped_owner(harness: Harness, gc: GarbageCollector) -> None:
    """A namespaced dependent of a cluster-scoped owner (a Node) goes when the Node does."""
    node = await harness.create("", "Node", None, {"metadata": {"name": "pi-1"}})
    await harness.create(
        "coordination.k8s.io", "Lease", NS, {"metadata": {"name": "pi-1", "ownerReferences": [ref(node)]}, "spec": {}}
    )
    await harness.delete("", "Node", None, "pi-1")
    await harness.prime()
    await gc.sync(f"coordination.k8s.io/leases|{NS}/pi-1")
    assert await harness.writes() == [("DELETED", "coordination.k8s.io/leases", f"{NS}/pi-1")]


# -- foreground ------------------------------------------------------------------------------


async def test_foreground_deletes_the_chain_bottom_up(harness: Harness, gc: GarbageCollector) -> None:
    """Foreground: the replicaset goes in the foreground, its pods first, the deployment last."""
    await chain(harness)
    await harness.delete(APPS, "Deployment", NS, "web", "Foreground")

    await harness.prime()
    await gc.sync(f"apps/deployments|{NS}/web")
    assert await harness.writes() == [("MODIFIED", "apps/replicasets", f"{NS}/web-1")]
    rs = await harness.read(APPS, "ReplicaSet", NS, "web-1")
    assert rs is not None and rs["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert rs["metadata"]["deletionTimestamp"]

    await harness.prime()
    await gc.sync(f"apps/replicasets|{NS}/web-1")
    assert await harness.writes() == [
        ("DELETED", "core/pods", f"{NS}/web-1-a"),
        ("DELETED", "core/pods", f"{NS}/web-1-b"),
        ("DELETED", "apps/replicasets", f"{NS}/web-1"),
    ]

    await harness.prime()
    await gc.sync(f"apps/deployments|{NS}/web")
    assert await harness.writes() == [("DELETED", "apps/deployments", f"{NS}/web")]


async def test_foreground_waits_for_blocking_dependents(harness: Harness, gc: GarbageCollector) -> None:
    """A blocking dependent held by a finalizer keeps its foreground-deleted owner."""
    owner = await harness.create("", "ConfigMap", NS, configmap("owner"))
    held = configmap("held", [ref(owner, block=True)], finalizers=["example.com/hold"])
    await harness.create("", "ConfigMap", NS, held)
    await harness.delete("", "ConfigMap", NS, "owner", "Foreground")
    await harness.prime()
    await gc.sync(f"core/configmaps|{NS}/owner")
    assert await harness.writes() == [("MODIFIED", "core/configmaps", f"{NS}/held")]
    assert await harness.read("", "ConfigMap", NS, "owner") is not None


async def test_foreground_does_not_wait_for_non_blocking_dependents(harness: Harness, gc: GarbageCollector) -> None:
    """A dependent without blockOwnerDeletion is deleted, but its owner does not wait for it."""
    owner = await harness.create("", "ConfigMap", NS, configmap("owner"))
    held = configmap("held", [ref(owner, block=False)], finalizers=["example.com/hold"])
    await harness.create("", "ConfigMap", NS, held)
    await harness.delete("", "ConfigMap", NS, "owner", "Foreground")
    await harness.prime()
    await gc.sync(f"core/configmaps|{NS}/owner")
    assert await harness.writes() == [
        ("MODIFIED", "core/configmaps", f"{NS}/held"),
        ("DELETED", "core/configmaps", f"{NS}/owner"),
    ]


async def test_foreground_unlinks_dependents_with_other_owners(harness: Harness, gc: GarbageCollector) -> None:
    """A dependent that another live owner keeps only loses the foreground owner's reference."""
    owner = await harness.create("", "ConfigMap", NS, configmap("owner"))
    other = await harness.create("", "ConfigMap", NS, configmap("other"))
    await harness.create("", "ConfigMap", NS, configmap("shared", [ref(owner), ref(other, controller=False)]))
    await harness.delete("", "ConfigMap", NS, "owner", "Foreground")
    await harness.prime()
    await gc.sync(f"core/configmaps|{NS}/owner")
    assert await harness.writes() == [
        ("MODIFIED", "core/configmaps", f"{NS}/shared"),
        ("DELETED", "core/configmaps", f"{NS}/owner"),
    ]


# -- orphan ----------------------------------------------------------------------------------


async def test_orphan_unlinks_dependents_then_lets_the_owner_go(harness: Harness, gc: GarbageCollector) -> None:
    """Orphan: each pod loses the reference to the replicaset, then the replicaset is removed."""
    await chain(harness)
    await harness.delete(APPS, "ReplicaSet", NS, "web-1", "Orphan")
    await harness.prime()
    await gc.sync(f"apps/replicasets|{NS}/web-1")
    assert await harness.writes() == [
        ("MODIFIED", "core/pods", f"{NS}/web-1-a"),
        ("MODIFIED", "core/pods", f"{NS}/web-1-b"),
        ("DELETED", "apps/replicasets", f"{NS}/web-1"),
    ]
    for name in ("web-1-a", "web-1-b"):
        left = await harness.read("", "Pod", NS, name)
        assert left is not None and "ownerReferences" not in left["metadata"]


async def test_orphan_keeps_other_finalizers(harness: Harness, gc: GarbageCollector) -> None:
    """Only the `orphan` finalizer is removed: an owner with another finalizer stays."""
    await harness.create("", "ConfigMap", NS, configmap("owner", finalizers=["example.com/hold"]))
    await harness.delete("", "ConfigMap", NS, "owner", "Orphan")
    await harness.prime()
    await gc.sync(f"core/configmaps|{NS}/owner")
    assert await harness.writes() == [("MODIFIED", "core/configmaps", f"{NS}/owner")]
    owner = await harness.read("", "ConfigMap", NS, "owner")
    assert owner is not None and owner["metadata"]["finalizers"] == ["example.com/hold"]


# -- running ---------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["Background", "Foreground"])
async def test_collector_removes_the_whole_chain(harness: Harness, gc: GarbageCollector, policy: str) -> None:
    """Run for real: deleting the deployment takes its replicaset and pods with it."""
    await chain(harness)
    await harness.delete(APPS, "Deployment", NS, "web", policy)

    async def empty() -> bool:
        left = [await harness.names(g, k, NS) for g, k in ((APPS, "Deployment"), (APPS, "ReplicaSet"), ("", "Pod"))]
        return left == [[], [], []]

    await harness.run_until(gc, empty)


async def test_collector_orphans_for_real(harness: Harness, gc: GarbageCollector) -> None:
    """Run for real: an Orphan delete of the deployment leaves the replicaset and pods, unowned."""
    await chain(harness)
    await harness.delete(APPS, "Deployment", NS, "web", "Orphan")

    async def orphaned() -> bool:
        rs = await harness.read(APPS, "ReplicaSet", NS, "web-1")
        return (
            await harness.names(APPS, "Deployment", NS) == []
            and rs is not None
            and not rs["metadata"].get("ownerReferences")
        )

    await harness.run_until(gc, orphaned)
    assert await harness.names("", "Pod", NS) == ["web-1-a", "web-1-b"]
