"""Which nodes a daemon belongs on, and what its pods look like."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from edgekube.controllers.daemonsets.placing import fits_node, should_run
from edgekube.controllers.daemonsets.pods import daemon_pod_spec, new_pod, pin_to_node, target_node, template_hash
from edgekube.controllers.daemonsets.rolling import max_unavailable, rolling_deletes

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def node(name: str = "n1", labels: dict[str, str] | None = None, taints: list[Any] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}}


def daemonset(**template_spec: Any) -> dict[str, Any]:
    template_spec.setdefault("containers", [{"name": "c", "image": "agent:1"}])
    return {
        "metadata": {"name": "agent", "namespace": "kube-system", "uid": "u1"},
        "spec": {"template": {"metadata": {"labels": {"app": "agent"}}, "spec": template_spec}},
    }


def term(*expressions: dict[str, Any], fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"matchExpressions": list(expressions)}
    if fields:
        found["matchFields"] = fields
    return found


def affinity(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


@pytest.mark.parametrize(
    ("spec", "labels", "expected"),
    [
        ({}, {}, True),
        ({"nodeSelector": {"edge": "true"}}, {"edge": "true"}, True),
        ({"nodeSelector": {"edge": "true"}}, {"edge": "false"}, False),
        (
            {"affinity": affinity(term({"key": "arch", "operator": "In", "values": ["arm64", "arm"]}))},
            {"arch": "arm"},
            True,
        ),
        ({"affinity": affinity(term({"key": "arch", "operator": "NotIn", "values": ["arm"]}))}, {}, True),
        ({"affinity": affinity(term({"key": "gpu", "operator": "Exists"}))}, {}, False),
        ({"affinity": affinity(term({"key": "gpu", "operator": "DoesNotExist"}))}, {}, True),
        ({"affinity": affinity(term({"key": "cores", "operator": "Gt", "values": ["2"]}))}, {"cores": "4"}, True),
        ({"affinity": affinity(term({"key": "cores", "operator": "Lt", "values": ["2"]}))}, {"cores": "4"}, False),
        ({"affinity": affinity(term({"key": "cores", "operator": "Gt", "values": ["2"]}))}, {"cores": "x"}, False),
        (
            {"affinity": affinity(term({"key": "a", "operator": "Exists"}), term({"key": "b", "operator": "Exists"}))},
            {"b": ""},
            True,
        ),
        ({"affinity": affinity(term())}, {}, False),  # an empty term matches nothing
        ({"affinity": affinity()}, {}, False),
        ({"affinity": affinity(term(fields=[{"key": "metadata.name", "operator": "In", "values": ["n1"]}]))}, {}, True),
        (
            {"affinity": affinity(term(fields=[{"key": "metadata.name", "operator": "NotIn", "values": ["n1"]}]))},
            {},
            False,
        ),
    ],
)
def test_fits_node(spec: dict[str, Any], labels: dict[str, str], expected: bool) -> None:
    """nodeSelector ANDed with required affinity: terms ORed, requirements ANDed."""
    assert fits_node(spec, node(labels=labels)) is expected


@pytest.mark.parametrize(
    ("taints", "tolerations", "expected"),
    [
        ([], [], (True, True)),
        ([{"key": "dedicated", "effect": "NoSchedule"}], [], (False, True)),
        ([{"key": "dedicated", "effect": "NoExecute"}], [], (False, False)),
        ([{"key": "dedicated", "effect": "NoExecute"}], [{"key": "dedicated", "operator": "Exists"}], (True, True)),
        ([{"key": "dedicated", "effect": "PreferNoSchedule"}], [], (True, True)),
        ([{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}], [], (True, True)),
        ([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}], [], (True, True)),
        ([{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}], [], (False, True)),
    ],
)
def test_should_run_by_taints(taints: list[Any], tolerations: list[Any], expected: tuple[bool, bool]) -> None:
    """NoSchedule keeps new daemons off, NoExecute removes running ones; the daemon tolerations apply."""
    assert should_run(daemonset(tolerations=tolerations), node(taints=taints)) == expected


def test_host_network_daemon_tolerates_network_unavailable() -> None:
    """hostNetwork daemons (CNI, proxies) run before the pod network is up."""
    taints = [{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]
    assert should_run(daemonset(hostNetwork=True), node(taints=taints)) == (True, True)


def test_template_node_name_limits_to_that_node() -> None:
    """A template with nodeName runs only there."""
    assert should_run(daemonset(nodeName="n2"), node("n1")) == (False, False)
    assert should_run(daemonset(nodeName="n2"), node("n2")) == (True, True)


def test_daemon_tolerations_replace_same_ones_and_keep_others() -> None:
    """A template's not-ready toleration with seconds becomes a forever one; unrelated ones stay."""
    mine = {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}
    other = {"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}
    spec = daemon_pod_spec({"tolerations": [mine, other]})
    assert spec["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
        other,
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
    ]


def test_new_pod_is_pinned_by_affinity_not_node_name() -> None:
    """Required affinity on metadata.name (the scheduler binds); labels, owner, generateName."""
    ds = daemonset(affinity=affinity(term({"key": "edge", "operator": "Exists"})))
    pod = new_pod(ds, "n7", "hash1")
    assert "nodeName" not in pod["spec"]
    assert pod["spec"]["affinity"] == affinity(
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n7"]}]}
    )
    assert target_node(pod) == "n7"
    assert pod["metadata"]["generateName"] == "agent-"
    assert pod["metadata"]["labels"] == {"app": "agent", "controller-revision-hash": "hash1"}
    assert pod["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "name": "agent",
            "uid": "u1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert ds["spec"]["template"]["spec"]["affinity"] == affinity(term({"key": "edge", "operator": "Exists"}))


def test_pin_keeps_preferred_terms() -> None:
    """Only the required terms are replaced."""
    preferred = [{"weight": 1, "preference": term({"key": "x", "operator": "Exists"})}]
    found = pin_to_node({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": preferred}}, "n1")
    assert found["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] == preferred


def test_template_hash_is_stable_and_sensitive() -> None:
    """Same template (any key order), same hash; any change, a new one; label-safe characters."""
    a = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}
    b = {"spec": {"containers": [{"image": "i:1", "name": "c"}]}, "metadata": {"labels": {"app": "x"}}}
    c = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i:2"}]}}
    assert template_hash(a) == template_hash(b) != template_hash(c)
    assert template_hash(a).isalnum() and len(template_hash(a)) <= 12


def pod(name: str, revision: str, *, ready: bool = True, since: float = 600, deleting: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {
        "metadata": {"name": name, "labels": {"controller-revision-hash": revision}},
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "lastTransitionTime": (NOW - timedelta(seconds=since)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            ]
        },
    }
    if deleting:
        found["metadata"]["deletionTimestamp"] = "2024-05-01T11:59:00Z"
    return found


@pytest.mark.parametrize(
    ("by_node", "limit", "expected"),
    [
        # all old and available, one may go: the first node by name
        ({"a": [pod("a1", "old")], "b": [pod("b1", "old")], "c": [pod("c1", "old")]}, 1, ["a1"]),
        ({"a": [pod("a1", "old")], "b": [pod("b1", "old")], "c": [pod("c1", "old")]}, 2, ["a1", "b1"]),
        # a is being replaced (no pod yet): b must wait
        ({"a": [], "b": [pod("b1", "old")]}, 1, []),
        # a's old pod is still terminating: that counts as unavailable too
        ({"a": [pod("a1", "old", deleting=True)], "b": [pod("b1", "old")]}, 1, []),
        # a's new pod is not ready yet
        ({"a": [pod("a2", "new", ready=False)], "b": [pod("b1", "old")]}, 1, []),
        # a's new pod is available: b goes
        ({"a": [pod("a2", "new")], "b": [pod("b1", "old")]}, 1, ["b1"]),
        # an unavailable old pod is replaced regardless of the budget
        ({"a": [pod("a2", "new", ready=False)], "b": [pod("b1", "old", ready=False)]}, 1, ["b1"]),
        # minReadySeconds 60: a new pod ready for 30 s is not available yet
        ({"a": [pod("a2", "new", since=30)], "b": [pod("b1", "old")]}, 1, []),
    ],
)
def test_rolling_deletes(by_node: dict[str, list[dict[str, Any]]], limit: int, expected: list[str]) -> None:
    """Old pods go while fewer than maxUnavailable nodes are down."""
    doomed = rolling_deletes(sorted(by_node), by_node, "new", limit, 60, NOW)
    assert [p["metadata"]["name"] for p in doomed] == expected


@pytest.mark.parametrize(
    ("rolling", "desired", "expected"),
    [
        ({}, 5, 1),
        ({"maxUnavailable": 2}, 5, 2),
        ({"maxUnavailable": "25%"}, 10, 3),
        ({"maxUnavailable": 0, "maxSurge": 1}, 5, 1),
        ({"maxUnavailable": "10%"}, 0, 0),
    ],
)
def test_max_unavailable(rolling: dict[str, Any], desired: int, expected: int) -> None:
    """Percentages round up; a surge we do not do falls back to one node at a time."""
    ds = {"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": rolling}}}
    assert max_unavailable(ds, desired) == expected
