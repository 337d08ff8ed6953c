"""Rollouts end to end, in process: both controllers, the test as kubelet, real store and watches.

Each test drives a Deployment the way kubectl does (create, patch the template, pause,
scale, undo by patching the template back) and waits for what `kubectl rollout status`
waits for.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from edgekube.controllers.deployments.hashing import HASH_LABEL
from edgekube.controllers.deployments.revisions import REVISION, REVISION_HISTORY, revision_of
from edgekube.resources.objects import Obj
from edgekube.service.resources import ResourceService
from tests.unit.controllers.deployments.cluster import Cluster, cluster
from tests.unit.controllers.deployments.objects import deployment, image

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


class RolloutFailed(AssertionError):
    pass


def rolled_out(d: Obj) -> bool:
    """`kubectl rollout status`'s test: this generation seen, every replica updated and available."""
    status = d.get("status") or {}
    if d["metadata"].get("generation", 0) > status.get("observedGeneration", 0):
        return False
    for cond in status.get("conditions", []):
        if cond["type"] == "Progressing" and cond["reason"] == "ProgressDeadlineExceeded":
            raise RolloutFailed(cond["message"])
    updated = status.get("updatedReplicas", 0)
    return bool(
        updated >= d["spec"]["replicas"]
        and status.get("replicas", 0) <= updated
        and status.get("availableReplicas", 0) >= updated
    )


def progressing(d: Obj) -> dict[str, Any]:
    return next(c for c in d["status"].get("conditions", []) if c["type"] == "Progressing")


async def wait_rolled_out(c: Cluster, within: float = 15.0) -> Obj:
    async def check() -> bool:
        return rolled_out(await c.get("Deployment", "web"))

    await c.until(check, within)
    return await c.get("Deployment", "web")


async def set_image(c: Cluster, version: int) -> None:
    """As `kubectl set image deployment/web web=...`."""
    body = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": image(version)}]}}}}
    await c.patch("Deployment", "web", MERGE, orjson.dumps(body))


async def replica_sets(c: Cluster) -> dict[int, Obj]:
    """The Deployment's ReplicaSets by revision."""
    return {revision_of(rs): rs for rs in await c.objects("ReplicaSet")}


async def test_rolling_update_keeps_six_ready_and_never_more_than_seven(service: ResourceService) -> None:
    """6 replicas, maxSurge 1, maxUnavailable 0: over the whole rollout >= 6 ready pods and <= 7 pods."""
    async with cluster(service) as c:
        await c.create("Deployment", deployment(replicas=6, surge=1, unavailable=0))
        first = await wait_rolled_out(c)
        assert first["metadata"]["annotations"][REVISION] == "1"
        assert len(c.census.pods) == 6

        c.census.counting = True
        await set_image(c, 2)
        done = await wait_rolled_out(c)
        c.census.counting = False

        assert c.census.min_ready is not None and c.census.min_ready >= 6
        assert c.census.max_total <= 7
        by_revision = await replica_sets(c)
        assert sorted(by_revision) == [1, 2]
        assert [by_revision[r]["spec"]["replicas"] for r in (1, 2)] == [0, 6]
        assert done["metadata"]["annotations"][REVISION] == "2"
        new_name = by_revision[2]["metadata"]["name"]
        assert progressing(done)["message"] == f'ReplicaSet "{new_name}" has successfully progressed.'
        events = [e["message"] for e in await c.events() if e["reason"] == "ScalingReplicaSet"]
        assert f"Scaled up replica set {new_name} from 0 to 1" in events


async def test_undo_reuses_the_old_replica_set(service: ResourceService) -> None:
    """Revisions 1 and 2, then undo: revision 1's ReplicaSet runs again as revision 3; no third one."""
    async with cluster(service) as c:
        await c.create("Deployment", deployment(replicas=3, surge=1, unavailable=0))
        await wait_rolled_out(c)
        await set_image(c, 2)
        await wait_rolled_out(c)
        old = (await replica_sets(c))[1]

        # What `kubectl rollout undo` sends: the old template without its hash label.
        template = copy.deepcopy(old["spec"]["template"])
        del template["metadata"]["labels"][HASH_LABEL]
        patch = [
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": {}},
        ]
        await c.patch("Deployment", "web", JSON_PATCH, orjson.dumps(patch))
        done = await wait_rolled_out(c)

        by_revision = await replica_sets(c)
        assert sorted(by_revision) == [2, 3]
        reused = by_revision[3]
        assert reused["metadata"]["uid"] == old["metadata"]["uid"]
        assert reused["metadata"]["annotations"][REVISION_HISTORY] == "1"
        assert reused["spec"]["replicas"] == 3 and by_revision[2]["spec"]["replicas"] == 0
        assert done["metadata"]["annotations"][REVISION] == "3"
        assert done["spec"]["template"]["spec"]["containers"][0]["image"] == image(1)


async def test_progress_deadline_exceeded_when_pods_never_get_ready(service: ResourceService) -> None:
    """Pods that never pass readiness: after progressDeadlineSeconds the rollout is reported failed."""
    async with cluster(service, ready=False) as c:
        await c.create("Deployment", deployment(replicas=2, progressDeadlineSeconds=1))
        with pytest.raises(RolloutFailed, match=r'ReplicaSet "web-\w+" has timed out progressing.'):
            await wait_rolled_out(c, within=10)
        d = await c.get("Deployment", "web")
        assert progressing(d)["status"] == "False"
        available = next(x for x in d["status"]["conditions"] if x["type"] == "Available")
        assert (available["status"], available["reason"]) == ("False", "MinimumReplicasUnavailable")


async def test_recreate_never_runs_two_templates_at_once(service: ResourceService) -> None:
    """Recreate: all old pods are gone before the first new one exists."""
    async with cluster(service) as c:
        await c.create("Deployment", deployment(replicas=3, recreate=True))
        await wait_rolled_out(c)
        c.census.counting = True
        await set_image(c, 2)
        done = await wait_rolled_out(c)

        assert c.census.max_templates == 1
        assert done["metadata"]["annotations"][REVISION] == "2"
        assert [rs["spec"]["replicas"] for _, rs in sorted((await replica_sets(c)).items())] == [0, 3]


async def test_paused_scales_but_waits_to_roll_until_resumed(service: ResourceService) -> None:
    """Paused: a new image does nothing, a new size applies; resumed: the rollout happens."""
    async with cluster(service) as c:
        await c.create("Deployment", deployment(replicas=3))
        await wait_rolled_out(c)
        await c.patch("Deployment", "web", MERGE, b'{"spec": {"paused": true}}')
        await set_image(c, 2)
        await c.patch("Deployment", "web", MERGE, b'{"spec": {"replicas": 5}}')

        async def scaled_while_paused() -> bool:
            d = await c.get("Deployment", "web")
            status = d["status"]
            return bool(status.get("observedGeneration") == d["metadata"]["generation"]) and (
                status.get("availableReplicas") == 5
            )

        await c.until(scaled_while_paused)
        d = await c.get("Deployment", "web")
        assert (progressing(d)["status"], progressing(d)["reason"]) == ("Unknown", "DeploymentPaused")
        assert sorted(await replica_sets(c)) == [1]

        await c.patch("Deployment", "web", MERGE, b'{"spec": {"paused": false}}')
        done = await wait_rolled_out(c)
        by_revision = await replica_sets(c)
        assert [by_revision[r]["spec"]["replicas"] for r in (1, 2)] == [0, 5]
        assert done["metadata"]["annotations"][REVISION] == "2"


async def test_revision_history_limit_deletes_the_oldest(service: ResourceService) -> None:
    """revisionHistoryLimit 1 over three rollouts: revision 1's ReplicaSet is deleted."""
    async with cluster(service) as c:
        await c.create("Deployment", deployment(replicas=2, revisionHistoryLimit=1))
        await wait_rolled_out(c)
        for version in (2, 3):
            await set_image(c, version)
            await wait_rolled_out(c)

        async def trimmed() -> bool:
            return sorted(await replica_sets(c)) == [2, 3]

        await c.until(trimmed)


async def test_scaling_mid_rollout_is_proportional(service: ResourceService) -> None:
    """Scaled 4 -> 8 while old (3) and new (2) both run: each keeps its share of 8 + 1 surge.

    Both were sized for 5 (4 + maxSurge 1): old 3 * 9 / 5 = 5.4 -> 5, new 2 * 9 / 5 = 3.6 -> 4.
    """
    async with cluster(service) as c:
        await c.create("Deployment", deployment(replicas=4, surge=1, unavailable=1))
        await wait_rolled_out(c)
        c.kubelet.ready = False  # the new version never gets ready: the rollout stays half-way
        await set_image(c, 2)

        async def both_running() -> bool:
            sizes = {r: rs["spec"]["replicas"] for r, rs in (await replica_sets(c)).items()}
            return sizes.get(1) == 3 and sizes.get(2) == 2

        await c.until(both_running)
        await c.patch("Deployment", "web", MERGE, b'{"spec": {"replicas": 8}}')

        async def grown() -> bool:
            sizes = [rs["spec"]["replicas"] for _, rs in sorted((await replica_sets(c)).items())]
            return sizes == [5, 4]

        await c.until(grown)
