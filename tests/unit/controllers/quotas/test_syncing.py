"""The quota controller counts what each quota tracks and writes status only when it changes."""

from __future__ import annotations

from edgekube.controllers.quotas import ResourceQuotaController
from edgekube.resources.objects import Obj
from edgekube.service.options import WriteOptions
from tests.unit.controllers.garbage.harness import Harness
from tests.unit.controllers.quotas.objects import container, pod, quota

HARD = {"pods": "10", "requests.cpu": "2", "limits.memory": "1Gi", "count/configmaps": "5", "services": "3"}


async def _status(harness: Harness, name: str = "compute") -> Obj:
    found = await harness.read("", "ResourceQuota", "team", name)
    assert found is not None
    status: Obj = found.get("status") or {}
    return status


async def test_sync_counts_what_charges(harness: Harness) -> None:
    """Running pods, configmaps and services are counted; finished and deleting pods are not."""
    controller: ResourceQuotaController = harness.build(ResourceQuotaController)
    await harness.create("", "ResourceQuota", "team", quota(hard=HARD))
    for name in ("a", "b"):
        await harness.create("", "Pod", "team", pod(name, container(requests={"cpu": "500m"},
                                                                    limits={"memory": "256Mi"})))
    done = pod("done", container(requests={"cpu": "1"}))
    await harness.create("", "Pod", "team", done, status={"phase": "Succeeded"})
    going = pod("going", container(requests={"cpu": "1"}))
    going["metadata"]["finalizers"] = ["example.com/hold"]
    await harness.create("", "Pod", "team", going)
    await harness.delete("", "Pod", "team", "going")
    for name in ("one", "two"):
        await harness.create("", "ConfigMap", "team", {"metadata": {"name": name}})
    await harness.create("", "Service", "team", {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}})
    await harness.create("", "ConfigMap", "default", {"metadata": {"name": "elsewhere"}})
    await harness.prime()

    await controller.sync("team")

    assert await harness.writes() == [("MODIFIED", "core/resourcequotas", "team/compute")]
    assert await _status(harness) == {
        "hard": {"pods": "10", "requests.cpu": "2", "limits.memory": "1Gi", "count/configmaps": "5", "services": "3"},
        "used": {"pods": "2", "requests.cpu": "1", "limits.memory": "512Mi", "count/configmaps": "2", "services": "1"},
    }


async def test_unchanged_count_writes_nothing(harness: Harness) -> None:
    """A second sync over the same objects leaves the quota alone."""
    controller: ResourceQuotaController = harness.build(ResourceQuotaController)
    await harness.create("", "ResourceQuota", "team", quota(hard={"pods": "3"}))
    await harness.create("", "Pod", "team", pod("a"))
    await harness.prime()
    await controller.sync("team")
    await harness.prime()
    await controller.sync("team")
    assert await harness.writes() == []
    assert await _status(harness) == {"hard": {"pods": "3"}, "used": {"pods": "1"}}


async def test_scoped_quota_counts_its_pods_only(harness: Harness) -> None:
    """A BestEffort quota counts the pods without requests; the other quota counts both."""
    controller: ResourceQuotaController = harness.build(ResourceQuotaController)
    await harness.create("", "ResourceQuota", "team", quota("besteffort", {"pods": "5"}, scopes=["BestEffort"]))
    await harness.create("", "ResourceQuota", "team", quota("all", {"pods": "5"}))
    await harness.create("", "Pod", "team", pod("plain"))
    await harness.create("", "Pod", "team", pod("sized", container(requests={"cpu": "1"})))
    await harness.prime()
    await controller.sync("team")
    assert (await _status(harness, "besteffort"))["used"] == {"pods": "1"}
    assert (await _status(harness, "all"))["used"] == {"pods": "2"}


async def test_limits_follow_the_spec(harness: Harness) -> None:
    """Raising a limit shows in status.hard at the next sync, in canonical text."""
    controller: ResourceQuotaController = harness.build(ResourceQuotaController)
    created = await harness.create("", "ResourceQuota", "team", quota(hard={"requests.memory": "512Mi"}))
    await harness.prime()
    await controller.sync("team")
    created = await harness.read("", "ResourceQuota", "team", "compute") or created
    created["spec"]["hard"]["requests.memory"] = "2048Mi"
    await harness.service.update(harness.strategy("", "ResourceQuota"), "team", "compute", created, WriteOptions())
    await harness.prime()
    await controller.sync("team")
    assert await _status(harness) == {"hard": {"requests.memory": "2Gi"}, "used": {"requests.memory": "0"}}


async def test_controller_keeps_status_current(harness: Harness) -> None:
    """Run for real: pods, deletes and configmaps (a kind without an informer) all show in `used`."""
    controller: ResourceQuotaController = harness.build(ResourceQuotaController)
    await harness.create("", "ResourceQuota", "team", quota(hard={"pods": "5", "count/configmaps": "5"}))

    async def used(expected: dict[str, str]) -> bool:
        return (await _status(harness)).get("used") == expected

    async def scenario() -> bool:
        if await used({"pods": "0", "count/configmaps": "0"}) and not await harness.names("", "Pod", "team"):
            await harness.create("", "Pod", "team", pod("a"))
            await harness.create("", "Pod", "team", pod("b"))
            await harness.create("", "ConfigMap", "team", {"metadata": {"name": "settings"}})
        if await used({"pods": "2", "count/configmaps": "1"}) and "a" in await harness.names("", "Pod", "team"):
            await harness.delete("", "Pod", "team", "a")
        return await used({"pods": "1", "count/configmaps": "1"})

    await harness.run_until(controller, scenario)
