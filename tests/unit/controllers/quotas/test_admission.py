"""Quota admission in the write path, with the controller running: limits hold under concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from edgekube.controllers.quotas import ResourceQuotaController
from edgekube.errors import Forbidden
from edgekube.resources.objects import Obj
from edgekube.service.options import WriteOptions
from edgekube.service.quotas import QuotaAdmission
from tests.unit.controllers.garbage.harness import Harness, poll
from tests.unit.controllers.quotas.objects import container, pod, quota


@asynccontextmanager
async def running(harness: Harness) -> AsyncIterator[None]:
    """The quota controller and its informers, running until the block ends."""
    controller = harness.build(ResourceQuotaController)
    tasks = [asyncio.create_task(i.run()) for i in harness.factory.all()]
    try:
        await asyncio.wait_for(harness.factory.wait_synced(), 5.0)
        tasks.append(asyncio.create_task(controller.run()))
        yield
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def used_is(harness: Harness, expected: dict[str, str]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        found = await harness.read("", "ResourceQuota", "team", "compute")
        return found is not None and (found.get("status") or {}).get("used") == expected

    return check


async def _create_pods(harness: Harness, names: list[str], body: Callable[[str], Obj] = pod) -> list[str]:
    """Create the pods at once; the names refused, each with Kubernetes' quota message."""
    strategy = harness.strategy("", "Pod")
    results = await asyncio.gather(
        *(harness.service.create(strategy, "team", body(n), WriteOptions()) for n in names), return_exceptions=True
    )
    refused = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, BaseException):
            assert isinstance(result, Forbidden), result
            assert result.message.startswith(f'pods "{name}" is forbidden: exceeded quota: compute,'), result
            refused.append(name)
    return refused


async def test_concurrent_creates_never_exceed_the_limit(harness: Harness, admission: QuotaAdmission) -> None:
    """Twenty pods created at once against pods: 10 leave exactly ten, and status agrees."""
    await harness.create("", "ResourceQuota", "team", quota(hard={"pods": "10"}))
    async with running(harness):
        await poll(used_is(harness, {"pods": "0"}), within=5.0, pause=0.01)
        refused = await _create_pods(harness, [f"web-{i}" for i in range(20)])
        assert len(refused) == 10
        assert len(await harness.names("", "Pod", "team")) == 10
        await poll(used_is(harness, {"pods": "10"}), within=5.0, pause=0.01)
        # Deletes free places once counted; each wave then fills them and no more.
        for wave in range(3):
            for name in sorted(await harness.names("", "Pod", "team"))[: wave + 1]:
                await harness.delete("", "Pod", "team", name)
            await poll(used_is(harness, {"pods": str(9 - wave)}), within=5.0, pause=0.01)
            refused = await _create_pods(harness, [f"wave{wave}-{i}" for i in range(5)])
            assert len(refused) == 4 - wave and len(await harness.names("", "Pod", "team")) == 10


async def test_eleventh_pod_message(harness: Harness, admission: QuotaAdmission) -> None:
    """The refusal names the pod and the quota, with what was requested, used and limited."""
    await harness.create("", "ResourceQuota", "team", quota(hard={"pods": "1"}))
    async with running(harness):
        await poll(used_is(harness, {"pods": "0"}), within=5.0, pause=0.01)
        await harness.create("", "Pod", "team", pod("web-0"))
        with pytest.raises(Forbidden) as caught:
            await harness.create("", "Pod", "team", pod("web-1"))
    assert caught.value.message == (
        'pods "web-1" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=1, limited: pods=1'
    )
    assert caught.value.status()["details"] == {"name": "web-1", "kind": "pods"}


async def test_pod_without_requests_is_refused(harness: Harness, admission: QuotaAdmission) -> None:
    """Under a quota on requests.cpu, a pod that states no cpu request gets `must specify`."""
    await harness.create("", "ResourceQuota", "team", quota(hard={"requests.cpu": "2"}))
    async with running(harness):
        await poll(used_is(harness, {"requests.cpu": "0"}), within=5.0, pause=0.01)
        with pytest.raises(Forbidden) as caught:
            await harness.create("", "Pod", "team", pod("web"))
        await harness.create("", "Pod", "team", pod("sized", container(requests={"cpu": "1500m"})))
        with pytest.raises(Forbidden, match=r"exceeded quota: compute, requested: requests\.cpu=1,"):
            await harness.create("", "Pod", "team", pod("more", container(requests={"cpu": "1"})))
        await poll(used_is(harness, {"requests.cpu": "1500m"}), within=5.0, pause=0.01)
    assert caught.value.message == 'pods "web" is forbidden: failed quota: compute: must specify requests.cpu for: app'


async def test_dry_run_and_delete_free_their_charge(harness: Harness, admission: QuotaAdmission) -> None:
    """A dry run holds its charge only briefly; a delete frees the pod's place once counted."""
    admission.ledger.unwritten_seconds = 0.2
    await harness.create("", "ResourceQuota", "team", quota(hard={"pods": "1"}))
    strategy = harness.strategy("", "Pod")
    async with running(harness):
        await poll(used_is(harness, {"pods": "0"}), within=5.0, pause=0.01)
        await harness.service.create(strategy, "team", pod("trial"), WriteOptions(dry_run=True))
        await asyncio.sleep(0.3)
        await harness.create("", "Pod", "team", pod("web-0"))
        await poll(used_is(harness, {"pods": "1"}), within=5.0, pause=0.01)
        await harness.delete("", "Pod", "team", "web-0")
        await poll(used_is(harness, {"pods": "0"}), within=5.0, pause=0.01)
        await harness.create("", "Pod", "team", pod("web-1"))
        await poll(used_is(harness, {"pods": "1"}), within=5.0, pause=0.01)


async def test_counts_of_other_kinds(harness: Harness, admission: QuotaAdmission) -> None:
    """count/configmaps holds for concurrent creates of a kind the controller lists from the store."""
    await harness.create("", "ResourceQuota", "team", quota(hard={"count/configmaps": "3"}))
    strategy = harness.strategy("", "ConfigMap")
    async with running(harness):
        await poll(used_is(harness, {"count/configmaps": "0"}), within=5.0, pause=0.01)
        results = await asyncio.gather(
            *(harness.service.create(strategy, "team", {"metadata": {"name": f"c{i}"}}, WriteOptions())
              for i in range(6)),
            return_exceptions=True,
        )
        assert sum(isinstance(r, Forbidden) for r in results) == 3
        await poll(used_is(harness, {"count/configmaps": "3"}), within=5.0, pause=0.01)


async def test_namespaces_without_quotas_are_untouched(harness: Harness, admission: QuotaAdmission) -> None:
    """A quota in one namespace limits nothing in another."""
    await harness.create("", "ResourceQuota", "team", quota(hard={"pods": "0"}))
    async with running(harness):
        await poll(used_is(harness, {"pods": "0"}), within=5.0, pause=0.01)
        other = pod("free")
        other["metadata"]["namespace"] = "default"
        await harness.create("", "Pod", "default", other)
