"""Quota admission decisions: what a write charges, and the words it is refused with."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.resources.objects import Obj
from edgekube.service.quota_checking import QuotaState, check
from tests.unit.controllers.quotas.objects import container, pod, state


def _charges(resource: str, obj: Obj, quotas: list[QuotaState], old: Obj | None = None) -> dict[str, str]:
    outcome = check(resource, "UPDATE" if old is not None else "CREATE", obj, old, quotas)
    assert outcome.refusal == ""
    return {
        f"{charge.quota.name}/{name}": str(amount)
        for charge in outcome.charges
        for name, amount in sorted(charge.amounts.items())
    }


def _refusal(resource: str, obj: Obj, quotas: list[QuotaState]) -> str:
    return check(resource, "CREATE", obj, None, quotas).refusal


def test_eleventh_pod_is_refused_with_kubernetes_words() -> None:
    """At pods: 10 with 10 used, one more is `exceeded quota` naming requested, used and limited."""
    quotas = [state(hard={"pods": "10"}, used={"pods": "10"})]
    expected = "exceeded quota: compute, requested: pods=1, used: pods=10, limited: pods=10"
    assert _refusal("pods", pod(), quotas) == expected


def test_only_exceeded_names_are_named() -> None:
    """The message lists only what would go over, sorted, amounts in canonical text."""
    quotas = [state(
        hard={"pods": "10", "requests.cpu": "1", "requests.memory": "1Gi"},
        used={"pods": "1", "requests.cpu": "700m", "requests.memory": "512Mi"},
    )]
    web = pod("web", container(requests={"cpu": "500m", "memory": "256Mi"}))
    assert _refusal("pods", web, quotas) == (
        "exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=700m, limited: requests.cpu=1"
    )


@pytest.mark.parametrize(
    ("containers", "init", "hard", "expected"),
    [
        # Two app containers add up; the bare `cpu` is the request as well.
        ([container(requests={"cpu": "250m"}), container("b", requests={"cpu": "500m"})], None,
         {"cpu": "4", "requests.cpu": "4"}, {"compute/cpu": "0.750", "compute/requests.cpu": "0.750"}),
        # Limits go to limits.*, and requests default from limits upstream (here given explicitly).
        ([container(requests={"memory": "64Mi"}, limits={"memory": "128Mi"})], None,
         {"requests.memory": "1Gi", "limits.memory": "2Gi"},
         {"compute/limits.memory": "134217728", "compute/requests.memory": "67108864"}),
        # A larger init container sets the pod's request: max(init 2, app 500m) = 2.
        ([container(requests={"cpu": "500m"})], [container("init", requests={"cpu": "2"})],
         {"requests.cpu": "4"}, {"compute/requests.cpu": "2"}),
        # A smaller one does not: max(init 100m, app 300m + 200m) = 500m.
        ([container(requests={"cpu": "300m"}), container("b", requests={"cpu": "200m"})],
         [container("init", requests={"cpu": "100m"})], {"requests.cpu": "4"}, {"compute/requests.cpu": "0.500"}),
        # A sidecar runs beside the app containers: 500m + 250m.
        ([container(requests={"cpu": "500m"})],
         [container("proxy", requests={"cpu": "250m"}, restartPolicy="Always")],
         {"requests.cpu": "4"}, {"compute/requests.cpu": "0.750"}),
        # Only limited names are charged; pods counts too.
        ([container(requests={"cpu": "1", "memory": "1Gi"})], None, {"pods": "5"}, {"compute/pods": "1"}),
        # Device resources are charged as requests.<name> only.
        ([container(requests={"example.com/gpu": "1"}, limits={"example.com/gpu": "1"})], None,
         {"requests.example.com/gpu": "2"}, {"compute/requests.example.com/gpu": "1"}),
    ],
)
def test_pod_charges(
    containers: list[dict[str, Any]], init: list[dict[str, Any]] | None, hard: dict[str, str],
    expected: dict[str, str],
) -> None:
    """A pod charges its effective requests and limits, init containers counted as Kubernetes does."""
    assert _charges("pods", pod("web", *containers, init=init), [state(hard=hard)]) == expected


def test_count_of_any_kind() -> None:
    """`count/deployments.apps` charges a Deployment; a pod quota does not."""
    deployment = {"metadata": {"name": "web", "namespace": "team"}, "spec": {}}
    quotas = [state("objects", hard={"count/deployments.apps": "2"}), state("compute", hard={"pods": "1"})]
    assert _charges("deployments.apps", deployment, quotas) == {"objects/count/deployments.apps": "1"}
    full = [state("objects", hard={"count/deployments.apps": "2"}, used={"count/deployments.apps": "2"})]
    assert _refusal("deployments.apps", deployment, full) == (
        "exceeded quota: objects, requested: count/deployments.apps=1, "
        "used: count/deployments.apps=2, limited: count/deployments.apps=2"
    )


def test_services_and_claims() -> None:
    """Services charge node ports by type; claims charge storage, per class as well."""
    svc = {"metadata": {"name": "web"}, "spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 443}]}}
    hard = {"services": "5", "services.nodeports": "4", "services.loadbalancers": "0"}
    assert _charges("services", svc, [state(hard=hard)]) == {"compute/services": "1", "compute/services.nodeports": "2"}
    claim = {
        "metadata": {"name": "data"},
        "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "10Gi"}}},
    }
    hard = {"persistentvolumeclaims": "2", "fast.storageclass.storage.k8s.io/requests.storage": "5Gi"}
    assert _refusal("persistentvolumeclaims", claim, [state(hard=hard)]) == (
        "exceeded quota: compute, requested: fast.storageclass.storage.k8s.io/requests.storage=10Gi, "
        "used: fast.storageclass.storage.k8s.io/requests.storage=0, "
        "limited: fast.storageclass.storage.k8s.io/requests.storage=5Gi"
    )


def test_update_charges_only_growth() -> None:
    """Expanding a claim charges the difference; an update that charges nothing more passes at the limit."""
    def claim(size: str) -> Obj:
        return {"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": size}}}}

    quotas = [state(hard={"requests.storage": "10Gi", "persistentvolumeclaims": "1"},
                    used={"requests.storage": "4Gi", "persistentvolumeclaims": "1"})]
    assert _charges("persistentvolumeclaims", claim("6Gi"), quotas, old=claim("4Gi")) == {
        "compute/requests.storage": "2147483648"
    }
    assert _charges("persistentvolumeclaims", claim("4Gi"), quotas, old=claim("4Gi")) == {}


@pytest.mark.parametrize(
    ("hard", "containers", "init", "missing"),
    [
        ({"requests.cpu": "2"}, [container()], None, "requests.cpu for: app"),
        ({"cpu": "2", "memory": "1Gi"}, [container(requests={"cpu": "1"})], None, "memory for: app"),
        ({"limits.cpu": "2", "limits.memory": "1Gi"}, [container(), container("b", limits={"cpu": "1"})], None,
         "limits.cpu for: app; limits.memory for: app,b"),
        ({"requests.cpu": "2"}, [container(requests={"cpu": "1"})], [container("setup")], "requests.cpu for: setup"),
    ],
)
def test_pods_must_state_limited_compute(
    hard: dict[str, str], containers: list[dict[str, Any]], init: list[dict[str, Any]] | None, missing: str,
) -> None:
    """A quota on cpu or memory refuses a pod whose containers do not all state it."""
    refusal = _refusal("pods", pod("web", *containers, init=init), [state(hard=hard)])
    assert refusal == f"failed quota: compute: must specify {missing}"


def test_quota_not_yet_counted() -> None:
    """Limits in force without usage reported refuse, naming the quota; no status at all enforces nothing."""
    half = state(hard={"pods": "10", "count/pods": "10"}, used={"pods": "0"})
    assert _refusal("pods", pod(), [half]) == "status unknown for quota: compute, resources: count/pods"
    fresh = QuotaState(half.quota, {}, {}, frozenset())
    assert check("pods", "CREATE", pod(), None, [fresh]).refusal == ""


@pytest.mark.parametrize(
    ("scopes", "obj", "charged"),
    [
        (["BestEffort"], pod("be"), True),
        (["BestEffort"], pod("burst", container(requests={"cpu": "1"})), False),
        (["NotBestEffort"], pod("burst", container(requests={"cpu": "1"})), True),
        (["Terminating"], pod("job", activeDeadlineSeconds=60), True),
        (["Terminating"], pod("web"), False),
        (["NotTerminating"], pod("web"), True),
    ],
)
def test_scoped_quotas_track_only_their_pods(scopes: list[str], obj: Obj, charged: bool) -> None:
    """A quota with scopes charges only the pods the scopes describe."""
    quotas = [state(hard={"pods": "1"}, used={"pods": "1"}, scopes=scopes)]
    refused = _refusal("pods", obj, quotas) != ""
    assert refused is charged


def test_priority_class_selector() -> None:
    """A PriorityClass `In` requirement charges pods of those classes only."""
    selector = {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}
    quotas = [state(hard={"pods": "1"}, used={"pods": "1"}, scopeSelector=selector)]
    assert _refusal("pods", pod("a", priorityClassName="high"), quotas).startswith("exceeded quota")
    assert _refusal("pods", pod("b", priorityClassName="low"), quotas) == ""


def test_scoped_quotas_ignore_other_kinds() -> None:
    """A scoped quota tracks pods only, even for names other kinds charge."""
    quotas = [state(hard={"count/configmaps": "0"}, scopes=["NotTerminating"])]
    assert _refusal("configmaps", {"metadata": {"name": "c"}}, quotas) == ""


def test_every_quota_must_allow() -> None:
    """The first quota (by name) that would go over refuses; none charges when one refuses."""
    quotas = [state("b-small", hard={"pods": "1"}, used={"pods": "1"}), state("a-big", hard={"pods": "100"})]
    outcome = check("pods", "CREATE", pod(), None, quotas)
    assert outcome.refusal.startswith("exceeded quota: b-small,") and outcome.charges == ()


def test_updates_that_charge_nothing_are_not_checked() -> None:
    """A pod's status update passes even where its quota is full or not yet counted."""
    running = pod()
    running["status"] = {"phase": "Running"}
    for quota in (state(hard={"pods": "1"}, used={"pods": "1"}), state(hard={"pods": "1"}, used={})):
        outcome = check("pods", "UPDATE", running, pod(), [quota])
        assert (outcome.refusal, outcome.charges) == ("", ())
