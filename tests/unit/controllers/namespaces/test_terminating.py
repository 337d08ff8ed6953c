"""The namespace controller empties a Terminating namespace, then lets it go; system namespaces stay."""

from __future__ import annotations

import pytest

from edgekube.controllers.namespaces import NamespaceController, protect_system_namespaces
from edgekube.controllers.running import Requeue
from edgekube.errors import Forbidden
from edgekube.resources.registry import default_registry
from edgekube.service.options import WriteOptions
from tests.unit.controllers.garbage.harness import Harness
from tests.unit.controllers.garbage.objects import configmap, deployment, pod, ref, replicaset

NS = "doomed"
NAMESPACES = default_registry().by_kind("", "v1", "Namespace")
CONFIGMAPS = default_registry().by_kind("", "v1", "ConfigMap")


async def fill(h: Harness) -> None:
    """One object of several kinds in NS (the `default` ServiceAccount is one more)."""
    await h.create("", "Namespace", None, {"metadata": {"name": NS}})
    await h.create("", "ServiceAccount", NS, {"metadata": {"name": "default"}})
    await h.create("", "ConfigMap", NS, configmap("settings"))
    await h.create("", "Secret", NS, {"metadata": {"name": "token"}, "stringData": {"t": "x"}})
    await h.create(
        "", "Service", NS, {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    )
    deploy = await h.create("apps", "Deployment", NS, deployment("web"))
    rs = await h.create("apps", "ReplicaSet", NS, replicaset("web-1", [ref(deploy)]))
    await h.create("", "Pod", NS, pod("web-1-a", [ref(rs)]))
    await h.create("coordination.k8s.io", "Lease", NS, {"metadata": {"name": "lock"}, "spec": {}})


async def leftovers(h: Harness) -> list[str]:
    found = []
    for strategy in h.service.registry:
        if strategy.kind.namespaced:
            found += [f"{strategy.kind.plural}/{n}" for n in await h.names(strategy.kind.group, strategy.kind.kind, NS)]
    return found


async def test_terminating_namespace_is_emptied_then_removed(harness: Harness) -> None:
    """One pass deletes everything inside (kind by kind); the next finds it empty and finalizes."""
    controller: NamespaceController = harness.build(NamespaceController)
    await fill(harness)
    await harness.delete("", "Namespace", None, NS)
    await harness.prime()
    with pytest.raises(Requeue):
        await controller.sync(NS)
    assert await harness.writes() == [
        ("DELETED", "core/pods", f"{NS}/web-1-a"),
        ("DELETED", "core/services", f"{NS}/web"),
        ("DELETED", "core/configmaps", f"{NS}/settings"),
        ("DELETED", "core/secrets", f"{NS}/token"),
        ("DELETED", "core/serviceaccounts", f"{NS}/default"),
        ("DELETED", "apps/deployments", f"{NS}/web"),
        ("DELETED", "apps/replicasets", f"{NS}/web-1"),
        ("DELETED", "coordination.k8s.io/leases", f"{NS}/lock"),
    ]
    assert (await harness.read("", "Namespace", None, NS) or {})["status"]["phase"] == "Terminating"

    await harness.prime()
    await controller.sync(NS)
    assert await harness.writes() == [("DELETED", "core/namespaces", NS)]
    assert await leftovers(harness) == []


async def test_objects_with_finalizers_hold_the_namespace(harness: Harness) -> None:
    """An object that waits on its finalizer keeps the namespace until it is gone."""
    controller: NamespaceController = harness.build(NamespaceController)
    await harness.create("", "Namespace", None, {"metadata": {"name": NS}})
    await harness.create("", "ConfigMap", NS, configmap("held", finalizers=["example.com/hold"]))
    await harness.delete("", "Namespace", None, NS)
    await harness.prime()
    with pytest.raises(Requeue):
        await controller.sync(NS)
    assert await harness.writes() == [("MODIFIED", "core/configmaps", f"{NS}/held")]

    await harness.prime()
    with pytest.raises(Requeue):
        await controller.sync(NS)
    assert await harness.writes() == []  # still waiting: nothing deleted twice

    held = await harness.read("", "ConfigMap", NS, "held")
    assert held is not None
    held["metadata"]["finalizers"] = []
    assert CONFIGMAPS is not None
    await harness.service.update(CONFIGMAPS, NS, "held", held, WriteOptions())
    await harness.prime()
    await controller.sync(NS)
    assert await harness.writes() == [("DELETED", "core/namespaces", NS)]


async def test_active_namespace_is_left_alone(harness: Harness) -> None:
    """A namespace that is not being deleted is not touched, nor is anything in it."""
    controller: NamespaceController = harness.build(NamespaceController)
    await fill(harness)
    await harness.prime()
    await controller.sync(NS)
    await controller.sync("no-such-namespace")
    assert await harness.writes() == []


async def test_controller_removes_a_namespace_for_real(harness: Harness) -> None:
    """Run for real: deleting the namespace leaves nothing behind."""
    controller: NamespaceController = harness.build(NamespaceController)
    await fill(harness)
    await harness.delete("", "Namespace", None, NS)

    async def gone() -> bool:
        return await harness.read("", "Namespace", None, NS) is None

    await harness.run_until(controller, gone)
    assert await leftovers(harness) == []


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public", "kube-node-lease"])
async def test_system_namespaces_may_not_be_deleted(name: str) -> None:
    """DELETE of a system namespace is refused with Kubernetes' 403 message."""
    assert NAMESPACES is not None
    with pytest.raises(Forbidden) as refused:
        await protect_system_namespaces("DELETE", NAMESPACES, {"metadata": {"name": name}}, None)
    assert refused.value.code == 403
    assert refused.value.message == f'namespaces "{name}" is forbidden: this namespace may not be deleted'


@pytest.mark.parametrize(
    ("operation", "strategy", "name"),
    [("DELETE", NAMESPACES, "team-a"), ("UPDATE", NAMESPACES, "default"), ("DELETE", CONFIGMAPS, "default")],
)
async def test_other_writes_pass(operation: str, strategy: object, name: str) -> None:
    """Other namespaces, other operations and other kinds named `default` pass."""
    await protect_system_namespaces(operation, strategy, {"metadata": {"name": name}}, None)  # type: ignore[arg-type]
