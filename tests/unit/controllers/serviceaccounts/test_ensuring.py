"""The service account controller gives every active namespace a `default` ServiceAccount."""

from __future__ import annotations

from edgekube.controllers.serviceaccounts import ServiceAccountController
from tests.unit.controllers.garbage.harness import Harness
from tests.unit.controllers.garbage.objects import configmap


async def test_new_namespace_gets_a_default_account(harness: Harness) -> None:
    """A namespace without `default` gets one."""
    controller: ServiceAccountController = harness.build(ServiceAccountController)
    await harness.create("", "Namespace", None, {"metadata": {"name": "team"}})
    await harness.prime()
    await controller.sync("team")
    assert await harness.writes() == [("ADDED", "core/serviceaccounts", "team/default")]


async def test_existing_account_is_left_alone(harness: Harness) -> None:
    """Nothing is written where `default` exists (the system namespaces have it from the start)."""
    controller: ServiceAccountController = harness.build(ServiceAccountController)
    await harness.prime()
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease", "no-such-namespace"):
        await controller.sync(ns)
    assert await harness.writes() == []


async def test_deleted_account_is_recreated(harness: Harness) -> None:
    """A deleted `default` account is created again."""
    controller: ServiceAccountController = harness.build(ServiceAccountController)
    await harness.prime()
    await harness.delete("", "ServiceAccount", "default", "default")
    await harness.prime()
    await controller.sync("default")
    assert await harness.writes() == [("ADDED", "core/serviceaccounts", "default/default")]


async def test_terminating_namespace_gets_none(harness: Harness) -> None:
    """A namespace being deleted is not given an account (admission would refuse it anyway)."""
    controller: ServiceAccountController = harness.build(ServiceAccountController)
    await harness.create("", "Namespace", None, {"metadata": {"name": "going"}})
    await harness.create("", "ConfigMap", "going", configmap("keep-it-terminating", finalizers=["example.com/x"]))
    await harness.delete("", "Namespace", None, "going")
    await harness.prime()
    await controller.sync("going")
    assert await harness.writes() == []


async def test_controller_creates_accounts_for_real(harness: Harness) -> None:
    """Run for real: a new namespace has its account moments later."""
    controller: ServiceAccountController = harness.build(ServiceAccountController)
    await harness.create("", "Namespace", None, {"metadata": {"name": "fresh"}})

    async def created() -> bool:
        return await harness.read("", "ServiceAccount", "fresh", "default") is not None

    await harness.run_until(controller, created)
