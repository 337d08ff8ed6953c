"""NodeUnschedulable: cordoned nodes take no pods, unless the pod tolerates the cordon taint."""

from __future__ import annotations

import pytest

from edgekube.scheduler.plugins.node_unschedulable import REASON, NodeUnschedulable
from edgekube.scheduler.statuses import Code
from tests.unit.scheduler.builders import cache_of, node, pod, run_filter

CORDON = {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}


@pytest.mark.parametrize(
    ("cordoned", "tolerations", "code"),
    [
        pytest.param(False, [], Code.SUCCESS, id="schedulable"),
        pytest.param(True, [], Code.UNRESOLVABLE, id="cordoned"),
        pytest.param(True, [CORDON], Code.SUCCESS, id="cordoned-but-tolerated"),
        pytest.param(True, [{"operator": "Exists"}], Code.SUCCESS, id="tolerates-everything"),
        pytest.param(True, [{**CORDON, "effect": "NoExecute"}], Code.UNRESOLVABLE, id="wrong-effect"),
    ],
)
def test_filter(cordoned: bool, tolerations: list[dict[str, str]], code: Code) -> None:
    """A cordoned node rejects pods that do not tolerate node.kubernetes.io/unschedulable:NoSchedule."""
    cache = cache_of([node("n1", unschedulable=cordoned)])
    status = run_filter(NodeUnschedulable(), pod(tolerations=tolerations), cache, "n1")
    assert status.code is code
    if code is not Code.SUCCESS:
        assert status.reasons == (REASON,) == ("node(s) were unschedulable",)
