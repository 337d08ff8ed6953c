"""The FailedScheduling message: reasons counted over nodes, in Kubernetes' words and order."""

from __future__ import annotations

import pytest

from edgekube.scheduler.diagnoses import FitError
from edgekube.scheduler.statuses import Status, unresolvable, unschedulable

TAINT = "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"


@pytest.mark.parametrize(
    ("num_nodes", "statuses", "message"),
    [
        pytest.param(
            3,
            {"w": unschedulable("Insufficient memory"), "c1": unresolvable(TAINT), "c2": unresolvable(TAINT)},
            f"0/3 nodes are available: 1 Insufficient memory, 2 {TAINT}.",
            id="kubernetes-example",
        ),
        pytest.param(
            2,
            {"a": unschedulable("Insufficient cpu", "Insufficient memory"), "b": unschedulable("Insufficient cpu")},
            "0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu.",
            id="several-reasons-per-node",
        ),
        pytest.param(
            12,
            {**{f"n{i}": unschedulable("Insufficient cpu") for i in range(10)},
             "x": unschedulable("Too many pods"), "y": unschedulable("Too many pods")},
            "0/12 nodes are available: 10 Insufficient cpu, 2 Too many pods.",
            id="sorted-as-text-like-kubernetes",
        ),
        pytest.param(0, {}, "no nodes available to schedule pods", id="no-nodes"),
    ],
)
def test_message(num_nodes: int, statuses: dict[str, Status], message: str) -> None:
    """"0/N nodes are available: <count> <reason>, ..." with the '<count> <reason>' strings sorted."""
    assert FitError(num_nodes, statuses).message == message


def test_pre_filter_message_replaces_the_node_list() -> None:
    """A pre-filter that rejects the pod itself speaks for every node."""
    error = FitError(3, pre_filter=unresolvable("pod has unbound immediate PersistentVolumeClaims", plugin="X"))
    assert error.message == "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims."
    assert error.plugins == frozenset({"X"})


def test_plugins_that_rejected() -> None:
    """The rejecting plugins decide which cluster events may help."""
    error = FitError(2, {"a": unschedulable("x", plugin="NodeResourcesFit"), "b": unresolvable("y", plugin="Taint")})
    assert error.plugins == frozenset({"NodeResourcesFit", "Taint"})
    assert error.resolvable
