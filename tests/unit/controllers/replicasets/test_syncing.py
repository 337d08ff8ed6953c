"""The ReplicaSet controller, one sync at a time: preload, sync once, check the writes in order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from edgekube.controllers.replicasets import ReplicaSetController
from edgekube.controllers.running import Requeue
from edgekube.errors import Forbidden
from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy
from edgekube.service import deleting
from edgekube.service.options import DeleteOptions
from tests.unit.controllers.replicasets.harness import Harness
from tests.unit.controllers.replicasets.objects import controller_ref, pod, replicaset, running

KEY = "default/web"


async def test_creates_missing_pods_from_the_template(harness: Harness) -> None:
    """3 wanted, 1 there: two pods from the template, owned by the ReplicaSet, then the status."""
    rs = await harness.create("ReplicaSet", replicaset("web", 3))
    await harness.create("Pod", pod("web-existing", owner=rs))
    controller = harness.build(ReplicaSetController)
    await harness.prime()

    await controller.sync(KEY)

    writes = await harness.writes()
    assert [w.short for w in writes] == [("ADDED", "pods"), ("ADDED", "pods"), ("MODIFIED", "replicasets")]
    for created in (w.obj for w in writes[:2]):
        md = created["metadata"]
        assert md["name"].startswith("web-") and len(md["name"]) == len("web-") + 5
        assert md["generateName"] == "web-"
        assert md["labels"] == {"app": "web"}
        assert md["ownerReferences"] == [controller_ref(rs)]
        assert created["spec"]["containers"][0]["image"] == rs["spec"]["template"]["spec"]["containers"][0]["image"]
    # The status counts the pods the sync started from; the new ones arrive with their events.
    assert writes[2].obj["status"] == {"replicas": 1, "fullyLabeledReplicas": 1, "observedGeneration": 1}
    assert [e[1] for e in harness.recorder.events] == ["SuccessfulCreate", "SuccessfulCreate"]


async def test_never_creates_twice_while_its_pods_are_on_the_way(harness: Harness) -> None:
    """A second sync before the informer delivered the new pods writes nothing."""
    await harness.create("ReplicaSet", replicaset("web", 2))
    controller = harness.build(ReplicaSetController)
    await harness.prime()
    await controller.sync(KEY)
    assert len([w for w in await harness.writes() if w.resource == "core/pods"]) == 2
    assert controller.expectations.outstanding(KEY) == (2, 0)

    await harness.prime()  # the caches now hold the pods; the handlers ticked them off
    assert controller.expectations.satisfied(KEY)
    await controller.sync(KEY)
    assert [w.short for w in await harness.writes()] == [("MODIFIED", "replicasets")]


async def test_stale_cache_does_not_double_create(harness: Harness) -> None:
    """Expectations hold while the cache lags: syncing again on the same snapshot creates nothing."""
    await harness.create("ReplicaSet", replicaset("web", 2))
    controller = harness.build(ReplicaSetController)
    await harness.prime()
    await controller.sync(KEY)
    mark = harness.service.store.revision
    await controller.sync(KEY)
    rows, _ = await harness.service.store.reader.events_after("core/pods", None, mark, 100)
    assert rows == []


async def test_slow_start_stops_at_the_first_failure(harness: Harness) -> None:
    """10 wanted, every create after the first refused: 1 + 2 tried, 1 made; ReplicaFailure; retried."""
    await harness.create("ReplicaSet", replicaset("web", 10))
    controller = harness.build(ReplicaSetController)
    await harness.prime()
    tried = 0

    async def quota(operation: str, strategy: Strategy, obj: Obj, old: Obj | None) -> None:
        nonlocal tried
        if strategy.kind.kind == "Pod" and operation == "CREATE":
            tried += 1
            if tried > 1:
                raise Forbidden("exceeded quota: pods=1")

    harness.service.admission.append(quota)
    with pytest.raises(Forbidden):
        await controller.sync(KEY)

    writes = await harness.writes()
    assert tried == 3
    assert [w.short for w in writes] == [("ADDED", "pods"), ("MODIFIED", "replicasets")]
    cond = writes[1].obj["status"]["conditions"][0]
    assert (cond["type"], cond["reason"], cond["message"]) == (
        "ReplicaFailure",
        "FailedCreate",
        "exceeded quota: pods=1",
    )
    assert controller.expectations.outstanding(KEY) == (1, 0)  # only the one that was made
    assert ("Warning", "FailedCreate", "Error creating: exceeded quota: pods=1") in harness.recorder.events


async def test_deletes_the_least_valuable_pods(harness: Harness) -> None:
    """2 wanted of 4: the Pending pod and the not-ready one go; the ready ones stay."""
    rs = await harness.create("ReplicaSet", replicaset("web", 2))
    await harness.create("Pod", pod("pending", owner=rs))
    await harness.create("Pod", pod("unready", owner=rs), running(None))
    await harness.create("Pod", pod("ready-long", owner=rs), running(harness.now - timedelta(hours=1)))
    await harness.create("Pod", pod("ready-new", owner=rs), running(harness.now - timedelta(seconds=5)))
    controller = harness.build(ReplicaSetController)
    await harness.prime()

    await controller.sync(KEY)

    writes = await harness.writes()
    assert [w.short for w in writes] == [("DELETED", "pods"), ("DELETED", "pods"), ("MODIFIED", "replicasets")]
    assert {w.name for w in writes[:2]} == {"pending", "unready"}
    assert controller.expectations.outstanding(KEY) == (0, 2)
    assert sorted(e[2] for e in harness.recorder.events) == ["Deleted pod: pending", "Deleted pod: unready"]


async def test_adopts_orphans_and_releases_pods_that_stopped_matching(harness: Harness) -> None:
    """A matching orphan gets the reference; an owned pod with other labels loses it; others are left."""
    rs = await harness.create("ReplicaSet", replicaset("web", 1))
    other = await harness.create("ReplicaSet", replicaset("api", 1, labels={"app": "api"}))
    await harness.create("Pod", pod("orphan"), running(harness.now))
    await harness.create("Pod", pod("relabeled", labels={"app": "db"}, owner=rs))
    await harness.create("Pod", pod("someone-elses", owner=other))
    controller = harness.build(ReplicaSetController)
    await harness.prime()

    await controller.sync(KEY)

    writes = await harness.writes()
    assert [(w.type, w.name) for w in writes] == [
        ("MODIFIED", "orphan"),
        ("MODIFIED", "relabeled"),
        ("MODIFIED", "web"),
    ]
    assert writes[0].obj["metadata"]["ownerReferences"] == [controller_ref(rs)]
    assert "ownerReferences" not in writes[1].obj["metadata"]
    assert writes[2].obj["status"]["readyReplicas"] == 1  # the adopted pod counts


async def test_pods_being_deleted_do_not_count(harness: Harness) -> None:
    """A pod on its way out (deletionTimestamp) is replaced."""
    rs = await harness.create("ReplicaSet", replicaset("web", 1))
    await harness.create("Pod", pod("leaving", owner=rs, finalizers=["test/hold"]))
    await deleting.delete(harness.service, harness.strategy("Pod"), "default", "leaving", DeleteOptions())
    controller = harness.build(ReplicaSetController)
    await harness.prime()

    await controller.sync(KEY)

    assert [w.short for w in await harness.writes()] == [("ADDED", "pods"), ("MODIFIED", "replicasets")]


async def test_requeues_when_a_pod_will_become_available(harness: Harness) -> None:
    """minReadySeconds 10 and a pod ready for 4 s: ready but not available; sync again in ~6 s."""
    rs = await harness.create("ReplicaSet", replicaset("web", 1, minReadySeconds=10))
    await harness.create("Pod", pod("p", owner=rs), running(harness.now - timedelta(seconds=4)))
    controller = harness.build(ReplicaSetController)
    await harness.prime()

    with pytest.raises(Requeue) as again:
        await controller.sync(KEY)

    assert 6.0 <= again.value.delay < 6.5
    [write] = await harness.writes()
    assert write.obj["status"]["readyReplicas"] == 1 and "availableReplicas" not in write.obj["status"]


async def test_unchanged_status_is_not_written(harness: Harness) -> None:
    """A sync that finds everything in place writes nothing."""
    rs = await harness.create("ReplicaSet", replicaset("web", 1))
    await harness.create("Pod", pod("p", owner=rs), running(harness.now))
    controller = harness.build(ReplicaSetController)
    await harness.prime()
    await controller.sync(KEY)
    assert len(await harness.writes()) == 1

    await harness.prime()
    await controller.sync(KEY)
    assert await harness.writes() == []


async def test_deleting_replicaset_only_updates_status(harness: Harness) -> None:
    """A ReplicaSet being deleted neither creates nor adopts."""
    await harness.create("ReplicaSet", {**replicaset("web", 3), "metadata": {"name": "web", "finalizers": ["t/x"]}})
    await harness.create("Pod", pod("orphan"))
    await deleting.delete(harness.service, harness.strategy("ReplicaSet"), "default", "web", DeleteOptions())
    controller = harness.build(ReplicaSetController)
    await harness.prime()

    await controller.sync(KEY)

    assert [w.short for w in await harness.writes()] == [("MODIFIED", "replicasets")]
