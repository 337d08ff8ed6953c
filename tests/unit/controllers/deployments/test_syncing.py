"""The Deployment controller, one sync at a time: preload, sync once, check the writes in order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from edgekube.controllers.deployments import DeploymentController
from edgekube.controllers.deployments.hashing import HASH_LABEL, template_hash
from edgekube.controllers.deployments.revisions import DESIRED_REPLICAS, MAX_REPLICAS, REVISION, REVISION_HISTORY
from edgekube.controllers.running import Requeue
from edgekube.errors import AlreadyExists
from edgekube.resources.objects import Obj
from edgekube.resources.times import format_time
from tests.unit.controllers.deployments.objects import deployment, owned_replicaset, rs_status
from tests.unit.controllers.replicasets.harness import Harness, Write
from tests.unit.controllers.replicasets.objects import controller_ref, replicaset

KEY = "default/web"


def shorts(writes: list[Write]) -> list[tuple[str, str, str]]:
    return [(w.type, w.resource.split("/")[1], w.name) for w in writes]


def condition(obj: Obj, type_: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in obj["status"].get("conditions", []) if c["type"] == type_]
    assert len(found) == 1, obj["status"]
    return found[0]


def cond(type_: str, status: str, reason: str, message: str, when: str) -> Obj:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": when,
        "lastTransitionTime": when,
    }


def scaled(harness: Harness) -> list[str]:
    return [msg for _, reason, msg in harness.recorder.events if reason == "ScalingReplicaSet"]


async def sync(harness: Harness, *, requeue: bool = True) -> float | None:
    """One sync of `KEY`; the requeue delay when it asked for one (as rollouts in progress do)."""
    controller = harness.build(DeploymentController)
    await harness.prime()
    if not requeue:
        await controller.sync(KEY)
        return None
    with pytest.raises(Requeue) as again:
        await controller.sync(KEY)
    return again.value.delay


COMPLETE_V1 = {
    "observedGeneration": 1,
    "replicas": 3,
    "updatedReplicas": 3,
    "readyReplicas": 3,
    "availableReplicas": 3,
}


async def test_first_replica_set(harness: Harness) -> None:
    """A new Deployment: its ReplicaSet `web-<hash>` at full size, revision 1 on both, then status."""
    d = await harness.create("Deployment", deployment(replicas=3))
    pod_hash = template_hash(d["spec"]["template"])

    delay = await sync(harness)

    writes = await harness.writes()
    assert shorts(writes) == [
        ("ADDED", "replicasets", f"web-{pod_hash}"),
        ("MODIFIED", "deployments", "web"),
        ("MODIFIED", "deployments", "web"),
    ]
    rs = writes[0].obj
    assert rs["spec"]["replicas"] == 3
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", HASH_LABEL: pod_hash}}
    assert rs["spec"]["template"]["metadata"]["labels"] == {"app": "web", HASH_LABEL: pod_hash}
    assert rs["metadata"]["labels"] == {"app": "web", HASH_LABEL: pod_hash}
    assert rs["metadata"]["ownerReferences"] == [controller_ref(d)]
    # 25% of 3: surge rounds up to 1, so max-replicas is 4.
    assert rs["metadata"]["annotations"] == {REVISION: "1", DESIRED_REPLICAS: "3", MAX_REPLICAS: "4"}
    assert writes[1].obj["metadata"]["annotations"] == {REVISION: "1"}
    status = writes[2].obj["status"]
    assert (status["observedGeneration"], status["unavailableReplicas"]) == (1, 3)
    progressing = condition(writes[2].obj, "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "True",
        "NewReplicaSetCreated",
        f'Created new replica set "web-{pod_hash}"',
    )
    assert condition(writes[2].obj, "Available")["reason"] == "MinimumReplicasUnavailable"
    assert scaled(harness) == [f"Scaled up replica set web-{pod_hash} from 0 to 3"]
    assert delay == pytest.approx(600.05)  # back at the progress deadline


async def test_template_change_starts_a_rolling_update(harness: Harness) -> None:
    """maxSurge 1: the new ReplicaSet starts at 1 (3 + 1 - 3) as revision 2; no old pod goes yet."""
    d = await harness.create("Deployment", deployment(replicas=3, version=2, surge=1, unavailable=0))
    await harness.create("ReplicaSet", owned_replicaset(d, "web-old", 3, 1, version=1, desired=3), rs_status(3))

    await sync(harness)

    writes = await harness.writes()
    assert [w.short for w in writes] == [
        ("ADDED", "replicasets"),
        ("MODIFIED", "deployments"),
        ("MODIFIED", "deployments"),
    ]
    new = writes[0].obj
    assert new["spec"]["replicas"] == 1
    assert new["metadata"]["annotations"][REVISION] == "2"
    assert writes[1].obj["metadata"]["annotations"][REVISION] == "2"
    assert scaled(harness) == [f"Scaled up replica set {new['metadata']['name']} from 0 to 1"]


async def test_old_pods_go_as_new_ones_become_available(harness: Harness) -> None:
    """New RS 1 available of 1: one old pod may go (maxUnavailable 0 keeps 3 available)."""
    d = await harness.create(
        "Deployment",
        deployment(replicas=3, version=2, surge=1, unavailable=0, annotations={REVISION: "2"}),
        {"observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "availableReplicas": 3},
    )
    await harness.create("ReplicaSet", owned_replicaset(d, "web-old", 3, 1, version=1, desired=3), rs_status(3))
    await harness.create("ReplicaSet", owned_replicaset(d, "web-new", 1, 2, desired=3, maximum=4), rs_status(1))

    await sync(harness)

    writes = await harness.writes()
    assert shorts(writes) == [("MODIFIED", "replicasets", "web-old"), ("MODIFIED", "deployments", "web")]
    assert writes[0].obj["spec"]["replicas"] == 2
    progressing = condition(writes[1].obj, "Progressing")
    assert (progressing["reason"], progressing["message"]) == (
        "ReplicaSetUpdated",
        'ReplicaSet "web-new" is progressing.',
    )
    assert writes[1].obj["status"]["updatedReplicas"] == 1
    assert scaled(harness) == ["Scaled down replica set web-old from 3 to 2"]


async def test_undo_reuses_the_old_replica_set(harness: Harness) -> None:
    """Template back to revision 1's: that ReplicaSet becomes revision 3 (history "1") and grows."""
    d = await harness.create("Deployment", deployment(replicas=3, version=1, surge=1, unavailable=0))
    await harness.create("ReplicaSet", owned_replicaset(d, "web-a", 0, 1, desired=3), rs_status(0))
    await harness.create("ReplicaSet", owned_replicaset(d, "web-b", 3, 2, version=2, desired=3), rs_status(3))

    await sync(harness)

    writes = await harness.writes()
    assert shorts(writes) == [
        ("MODIFIED", "replicasets", "web-a"),
        ("MODIFIED", "deployments", "web"),
        ("MODIFIED", "replicasets", "web-a"),
        ("MODIFIED", "deployments", "web"),
    ]
    annotations = writes[0].obj["metadata"]["annotations"]
    assert (annotations[REVISION], annotations[REVISION_HISTORY]) == ("3", "1")
    assert writes[1].obj["metadata"]["annotations"][REVISION] == "3"
    assert writes[2].obj["spec"]["replicas"] == 1
    assert scaled(harness) == ["Scaled up replica set web-a from 0 to 1"]


async def test_paused_scales_but_does_not_roll(harness: Harness) -> None:
    """Paused with a new template and 5 replicas: no new ReplicaSet; the old one grows; DeploymentPaused."""
    d = await harness.create("Deployment", deployment(replicas=5, version=2, paused=True))
    await harness.create("ReplicaSet", owned_replicaset(d, "web-a", 3, 1, version=1, desired=3), rs_status(3))

    await sync(harness, requeue=False)

    writes = await harness.writes()
    assert shorts(writes) == [("MODIFIED", "replicasets", "web-a"), ("MODIFIED", "deployments", "web")]
    assert writes[0].obj["spec"]["replicas"] == 5
    # 25% of 5 rounds up to 2 extra pods.
    assert writes[0].obj["metadata"]["annotations"][DESIRED_REPLICAS] == "5"
    assert writes[0].obj["metadata"]["annotations"][MAX_REPLICAS] == "7"
    progressing = condition(writes[1].obj, "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "Unknown",
        "DeploymentPaused",
        "Deployment is paused",
    )
    assert scaled(harness) == ["Scaled up replica set web-a from 3 to 5"]


async def test_resume_shows_in_progressing(harness: Harness) -> None:
    """Unpaused after a pause: Progressing becomes DeploymentResumed, then the rollout goes on."""
    paused = {
        "type": "Progressing",
        "status": "Unknown",
        "reason": "DeploymentPaused",
        "message": "Deployment is paused",
    }
    d = await harness.create(
        "Deployment", deployment(replicas=3, version=1, annotations={REVISION: "1"}), {"conditions": [paused]}
    )
    await harness.create("ReplicaSet", owned_replicaset(d, "web-a", 3, 1, desired=3), rs_status(3, 0))

    await sync(harness)

    [write] = await harness.writes()
    progressing = condition(write.obj, "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("True", "ReplicaSetUpdated")


async def test_proportional_scaling_mid_rollout(harness: Harness) -> None:
    """10 -> 20 with old 8 and new 5 (both sized for 13): old 15, new 10, largest first."""
    d = await harness.create("Deployment", deployment(replicas=20, version=2, annotations={REVISION: "2"}))
    await harness.create("ReplicaSet", owned_replicaset(d, "web-old", 8, 1, 1, desired=10, maximum=13), rs_status(8))
    await harness.create("ReplicaSet", owned_replicaset(d, "web-new", 5, 2, desired=10, maximum=13), rs_status(5))

    await sync(harness, requeue=False)

    writes = await harness.writes()
    assert shorts(writes) == [
        ("MODIFIED", "replicasets", "web-old"),
        ("MODIFIED", "replicasets", "web-new"),
        ("MODIFIED", "deployments", "web"),
    ]
    assert [w.obj["spec"]["replicas"] for w in writes[:2]] == [15, 10]
    assert all(w.obj["metadata"]["annotations"][DESIRED_REPLICAS] == "20" for w in writes[:2])
    assert scaled(harness) == [
        "Scaled up replica set web-old from 8 to 15",
        "Scaled up replica set web-new from 5 to 10",
    ]


async def test_scaling_a_settled_deployment(harness: Harness) -> None:
    """One ReplicaSet, replicas 3 -> 5: it takes the new size."""
    d = await harness.create("Deployment", deployment(replicas=5, annotations={REVISION: "1"}))
    await harness.create("ReplicaSet", owned_replicaset(d, "web-a", 3, 1, desired=3), rs_status(3))

    await sync(harness, requeue=False)

    writes = await harness.writes()
    assert shorts(writes) == [("MODIFIED", "replicasets", "web-a"), ("MODIFIED", "deployments", "web")]
    assert writes[0].obj["spec"]["replicas"] == 5
    assert scaled(harness) == ["Scaled up replica set web-a from 3 to 5"]


async def test_revision_history_limit(harness: Harness) -> None:
    """Limit 1 after a finished rollout: of three idle old ReplicaSets the two lowest revisions go."""
    conditions = [
        cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", "t"),
        cond("Progressing", "True", "NewReplicaSetAvailable", 'ReplicaSet "web-d" has successfully progressed.', "t"),
    ]
    d = await harness.create(
        "Deployment",
        deployment(replicas=3, version=4, revisionHistoryLimit=1, annotations={REVISION: "4"}),
        {**COMPLETE_V1, "conditions": conditions},
    )
    for name, revision in (("web-b", 2), ("web-a", 1), ("web-c", 3)):
        await harness.create("ReplicaSet", owned_replicaset(d, name, 0, revision, revision), rs_status(0))
    await harness.create("ReplicaSet", owned_replicaset(d, "web-d", 3, 4, desired=3), rs_status(3))

    await sync(harness, requeue=False)

    assert shorts(await harness.writes()) == [
        ("DELETED", "replicasets", "web-a"),
        ("DELETED", "replicasets", "web-b"),
    ]


async def test_history_keeps_replica_sets_still_running_pods(harness: Harness) -> None:
    """An old ReplicaSet whose pods are not gone yet is kept, even past the limit."""
    d = await harness.create(
        "Deployment",
        deployment(replicas=3, version=2, revisionHistoryLimit=0, annotations={REVISION: "2"}),
        COMPLETE_V1,
    )
    await harness.create("ReplicaSet", owned_replicaset(d, "web-a", 0, 1, 1), rs_status(1))
    await harness.create("ReplicaSet", owned_replicaset(d, "web-b", 3, 2, desired=3), rs_status(3))

    await sync(harness)

    assert not [w for w in await harness.writes() if w.type == "DELETED"]


async def test_recreate_scales_old_down_first(harness: Harness) -> None:
    """Recreate: the old ReplicaSet goes to 0; no new ReplicaSet yet."""
    d = await harness.create("Deployment", deployment(replicas=3, version=2, recreate=True))
    await harness.create("ReplicaSet", owned_replicaset(d, "web-a", 3, 1, 1, desired=3), rs_status(3))

    await sync(harness)

    writes = await harness.writes()
    assert shorts(writes) == [("MODIFIED", "replicasets", "web-a"), ("MODIFIED", "deployments", "web")]
    assert writes[0].obj["spec"]["replicas"] == 0
    assert scaled(harness) == ["Scaled down replica set web-a from 3 to 0"]


async def test_recreate_waits_for_old_pods(harness: Harness) -> None:
    """Recreate: an old pod still running holds the new ReplicaSet back."""
    d = await harness.create("Deployment", deployment(replicas=3, version=2, recreate=True))
    old = await harness.create("ReplicaSet", owned_replicaset(d, "web-a", 0, 1, 1, desired=3), rs_status(0))
    labels = old["spec"]["template"]["metadata"]["labels"]
    await harness.create(
        "Pod",
        {
            "metadata": {"name": "web-a-x", "labels": labels, "ownerReferences": [controller_ref(old)]},
            "spec": old["spec"]["template"]["spec"],
        },
        {"phase": "Running"},
    )

    await sync(harness, requeue=False)  # no new ReplicaSet yet, so no Progressing clock either

    assert not [w for w in await harness.writes() if w.resource == "apps/replicasets"]


async def test_recreate_creates_new_at_full_size_once_old_pods_are_gone(harness: Harness) -> None:
    d = await harness.create("Deployment", deployment(replicas=3, version=2, recreate=True))
    await harness.create("ReplicaSet", owned_replicaset(d, "web-a", 0, 1, 1, desired=3), rs_status(0))

    await sync(harness)

    writes = await harness.writes()
    assert [w.short for w in writes] == [
        ("ADDED", "replicasets"),
        ("MODIFIED", "deployments"),
        ("MODIFIED", "deployments"),
    ]
    new = writes[0].obj
    assert new["spec"]["replicas"] == 3
    assert new["metadata"]["annotations"] == {REVISION: "2", DESIRED_REPLICAS: "3", MAX_REPLICAS: "3"}


def stuck_status(seconds_since_progress: int, now: Any) -> Obj:
    when = format_time(now - timedelta(seconds=seconds_since_progress))
    return {
        "observedGeneration": 1,
        "replicas": 3,
        "updatedReplicas": 3,
        "unavailableReplicas": 3,
        "conditions": [
            cond(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                when,
            ),
            cond("Progressing", "True", "ReplicaSetUpdated", 'ReplicaSet "web-a" is progressing.', when),
        ],
    }


async def test_progress_deadline_exceeded(harness: Harness) -> None:
    """No progress for more than progressDeadlineSeconds: Progressing False, ProgressDeadlineExceeded."""
    d = await harness.create(
        "Deployment",
        deployment(replicas=3, progressDeadlineSeconds=60, annotations={REVISION: "1"}),
        stuck_status(61, harness.now),
    )
    await harness.create("ReplicaSet", owned_replicaset(d, "web-a", 3, 1, desired=3), rs_status(3, 0))

    await sync(harness, requeue=False)

    [write] = await harness.writes()
    progressing = condition(write.obj, "Progressing")
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "False",
        "ProgressDeadlineExceeded",
        'ReplicaSet "web-a" has timed out progressing.',
    )


async def test_requeue_at_the_deadline(harness: Harness) -> None:
    """30 s without progress of 60 allowed: nothing to write; come back in 30 s."""
    d = await harness.create(
        "Deployment",
        deployment(replicas=3, progressDeadlineSeconds=60, annotations={REVISION: "1"}),
        stuck_status(30, harness.now),
    )
    await harness.create("ReplicaSet", owned_replicaset(d, "web-a", 3, 1, desired=3), rs_status(3, 0))

    delay = await sync(harness)

    assert await harness.writes() == []
    assert delay == pytest.approx(30.05)


async def test_hash_collision_bumps_collision_count(harness: Harness) -> None:
    """`web-<hash>` taken by a stranger: collisionCount 1 and a retry, which picks another name."""
    d = await harness.create("Deployment", deployment(replicas=1))
    first = template_hash(d["spec"]["template"])
    stranger = replicaset(f"web-{first}", 0, labels={"app": "other"})
    await harness.create("ReplicaSet", stranger)
    controller = harness.build(DeploymentController)
    await harness.prime()

    with pytest.raises(AlreadyExists):
        await controller.sync(KEY)
    [write] = await harness.writes()
    assert write.obj["status"]["collisionCount"] == 1

    await harness.prime()
    with pytest.raises(Requeue):
        await controller.sync(KEY)
    second = template_hash(d["spec"]["template"], 1)
    assert shorts(await harness.writes())[0] == ("ADDED", "replicasets", f"web-{second}")


async def test_adopts_a_matching_orphan_replica_set(harness: Harness) -> None:
    """An orphan ReplicaSet with the Deployment's template is adopted and used, not duplicated."""
    d = await harness.create("Deployment", deployment(replicas=2))
    orphan = owned_replicaset(d, "web-orphan", 2, 1, desired=2)
    del orphan["metadata"]["ownerReferences"]
    await harness.create("ReplicaSet", orphan, rs_status(2))

    await sync(harness, requeue=False)

    writes = await harness.writes()
    assert shorts(writes)[0] == ("MODIFIED", "replicasets", "web-orphan")
    assert writes[0].obj["metadata"]["ownerReferences"] == [controller_ref(d)]
    assert not [w for w in writes if w.type == "ADDED"]
