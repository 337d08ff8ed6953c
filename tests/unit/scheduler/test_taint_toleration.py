"""TaintToleration: hard taints filter, PreferNoSchedule taints score; conditions imply taints."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.scheduler.plugins.taint_toleration import TaintToleration
from edgekube.scheduler.statuses import Code
from edgekube.scheduler.taints import Taint, Toleration, implied_taint_keys, tolerates
from tests.unit.scheduler.builders import cache_of, node, pod, run_filter, run_score

GPU = ("dedicated", "gpu", "NoSchedule")


@pytest.mark.parametrize(
    ("toleration", "taint", "expected"),
    [
        pytest.param(("dedicated", "Equal", "gpu", "NoSchedule"), GPU, True, id="equal-same"),
        pytest.param(("dedicated", "Equal", "tpu", "NoSchedule"), GPU, False, id="equal-other-value"),
        pytest.param(("dedicated", "", "gpu", "NoSchedule"), GPU, True, id="empty-operator-is-equal"),
        pytest.param(("dedicated", "Exists", "", "NoSchedule"), GPU, True, id="exists"),
        pytest.param(("dedicated", "Exists", "", ""), GPU, True, id="any-effect"),
        pytest.param(("dedicated", "Exists", "", "NoExecute"), GPU, False, id="other-effect"),
        pytest.param(("other", "Exists", "", ""), GPU, False, id="other-key"),
        pytest.param(("", "Exists", "", ""), GPU, True, id="tolerates-all"),
        pytest.param(("dedicated", "Bogus", "gpu", ""), GPU, False, id="unknown-operator"),
    ],
)
def test_tolerates(toleration: tuple[str, str, str, str], taint: tuple[str, str, str], expected: bool) -> None:
    """Toleration matching follows Kubernetes' ToleratesTaint."""
    assert tolerates(Toleration(*toleration), Taint(*taint)) is expected


@pytest.mark.parametrize(
    ("conditions", "keys"),
    [
        pytest.param([{"type": "Ready", "status": "True"}], [], id="ready"),
        pytest.param([{"type": "Ready", "status": "False"}], ["node.kubernetes.io/not-ready"], id="not-ready"),
        pytest.param([{"type": "Ready", "status": "Unknown"}], ["node.kubernetes.io/unreachable"], id="unknown"),
        pytest.param([], ["node.kubernetes.io/not-ready"], id="no-ready-condition"),
        pytest.param(
            [{"type": "Ready", "status": "True"}, {"type": "MemoryPressure", "status": "True"}],
            ["node.kubernetes.io/memory-pressure"],
            id="memory-pressure",
        ),
    ],
)
def test_condition_taints(conditions: list[dict[str, str]], keys: list[str]) -> None:
    """Bad conditions read as the NoSchedule taints the node lifecycle controller would set."""
    assert implied_taint_keys({"status": {"conditions": conditions}}) == keys


@pytest.mark.parametrize(
    ("taints", "ready", "tolerations", "reason"),
    [
        pytest.param([], "True", [], None, id="untainted"),
        pytest.param([GPU], "True", [], "node(s) had untolerated taint {dedicated: gpu}", id="no-schedule"),
        pytest.param(
            [("dedicated", "gpu", "NoExecute")], "True", [], "node(s) had untolerated taint {dedicated: gpu}",
            id="no-execute",
        ),
        pytest.param([("spot", "true", "PreferNoSchedule")], "True", [], None, id="prefer-is-not-a-filter"),
        pytest.param(
            [GPU], "True", [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}], None,
            id="tolerated",
        ),
        pytest.param(
            [("node-role.kubernetes.io/control-plane", "", "NoSchedule")], "True", [],
            "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }", id="empty-value",
        ),
        pytest.param([], "False", [], "node(s) had untolerated taint {node.kubernetes.io/not-ready: }", id="not-ready"),
        pytest.param(
            [], "Unknown", [], "node(s) had untolerated taint {node.kubernetes.io/unreachable: }", id="unreachable",
        ),
        pytest.param(
            [], "False", [{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}], None,
            id="not-ready-tolerated",
        ),
        pytest.param(
            [GPU, ("zone", "edge", "NoSchedule")],
            "True",
            [{"key": "dedicated", "operator": "Exists"}],
            "node(s) had untolerated taint {zone: edge}",
            id="first-untolerated-named",
        ),
    ],
)
def test_filter(taints: list[tuple[str, str, str]], ready: str, tolerations: list[Any], reason: str | None) -> None:
    """A NoSchedule/NoExecute taint the pod does not tolerate rejects the node, naming the taint."""
    cache = cache_of([node("n1", taints=taints, ready=ready)])
    status = run_filter(TaintToleration(), pod(tolerations=tolerations), cache, "n1")
    if reason is None:
        assert status.ok
    else:
        assert (status.code, status.reasons) == (Code.UNRESOLVABLE, (reason,))


SPOT = ("spot", "true", "PreferNoSchedule")
SLOW = ("slow", "yes", "PreferNoSchedule")


@pytest.mark.parametrize(
    ("tolerations", "expected"),
    [
        pytest.param([], {"clean": 100, "one": 50, "two": 0}, id="fewer-prefer-taints-win"),
        pytest.param([{"key": "spot", "operator": "Exists"}], {"clean": 100, "one": 100, "two": 0}, id="tolerated"),
        pytest.param(
            [{"key": "spot", "operator": "Exists", "effect": "NoSchedule"}],
            {"clean": 100, "one": 50, "two": 0},
            id="wrong-effect-does-not-count",
        ),
        pytest.param([{"operator": "Exists"}], {"clean": 100, "one": 100, "two": 100}, id="tolerates-all"),
    ],
)
def test_score(tolerations: list[Any], expected: dict[str, int]) -> None:
    """Score 100 - 100 * untolerated PreferNoSchedule taints / the most any node has."""
    cache = cache_of([node("clean"), node("one", taints=[SPOT]), node("two", taints=[SPOT, SLOW])])
    assert run_score(TaintToleration(), pod(tolerations=tolerations), cache) == expected
