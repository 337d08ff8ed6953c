"""NodeAffinity: nodeSelector and required terms filter; preferred terms score."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.scheduler.plugins.node_affinity import REASON, NodeAffinity
from edgekube.scheduler.statuses import SKIP, Code
from tests.unit.scheduler.builders import cache_of, node, pod, run_filter, run_score

LABELS = {"disk": "ssd", "zone": "a", "cores": "8"}


def required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    found: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        found["values"] = list(values)
    return found


@pytest.mark.parametrize(
    ("selector", "affinity", "code"),
    [
        pytest.param(None, None, SKIP.code, id="nothing-asked"),
        pytest.param({"disk": "ssd"}, None, Code.SUCCESS, id="selector-match"),
        pytest.param({"disk": "hdd"}, None, Code.UNRESOLVABLE, id="selector-other-value"),
        pytest.param({"gpu": "yes"}, None, Code.UNRESOLVABLE, id="selector-missing-label"),
        pytest.param(None, required({"matchExpressions": [expr("disk", "In", "ssd", "nvme")]}), Code.SUCCESS, id="in"),
        pytest.param(None, required({"matchExpressions": [expr("disk", "NotIn", "ssd")]}), Code.UNRESOLVABLE,
                     id="notin"),
        pytest.param(None, required({"matchExpressions": [expr("gpu", "NotIn", "x")]}), Code.SUCCESS,
                     id="notin-missing-label"),
        pytest.param(None, required({"matchExpressions": [expr("zone", "Exists")]}), Code.SUCCESS, id="exists"),
        pytest.param(None, required({"matchExpressions": [expr("zone", "DoesNotExist")]}), Code.UNRESOLVABLE,
                     id="does-not-exist"),
        pytest.param(None, required({"matchExpressions": [expr("cores", "Gt", "4")]}), Code.SUCCESS, id="gt"),
        pytest.param(None, required({"matchExpressions": [expr("cores", "Lt", "4")]}), Code.UNRESOLVABLE, id="lt"),
        pytest.param(None, required({"matchExpressions": [expr("disk", "Gt", "4")]}), Code.UNRESOLVABLE,
                     id="gt-not-a-number"),
        pytest.param(
            None,
            required(
                {"matchExpressions": [expr("disk", "In", "hdd")]}, {"matchExpressions": [expr("zone", "In", "a")]}
            ),
            Code.SUCCESS,
            id="terms-are-ored",
        ),
        pytest.param(
            None,
            required({"matchExpressions": [expr("disk", "In", "ssd"), expr("zone", "In", "b")]}),
            Code.UNRESOLVABLE,
            id="expressions-are-anded",
        ),
        pytest.param(None, required({"matchFields": [expr("metadata.name", "In", "n1")]}), Code.SUCCESS,
                     id="match-fields-name"),
        pytest.param(None, required({"matchFields": [expr("metadata.name", "NotIn", "n1")]}), Code.UNRESOLVABLE,
                     id="match-fields-not-name"),
        pytest.param(None, required({}), Code.UNRESOLVABLE, id="empty-term-matches-nothing"),
        pytest.param(None, required({"matchExpressions": [expr("disk", "Near", "ssd")]}), Code.UNRESOLVABLE,
                     id="unknown-operator"),
        pytest.param({"disk": "ssd"}, required({"matchExpressions": [expr("zone", "In", "b")]}), Code.UNRESOLVABLE,
                     id="selector-and-affinity-both-needed"),
    ],
)
def test_filter(selector: dict[str, str] | None, affinity: dict[str, Any] | None, code: Code) -> None:
    """nodeSelector labels must all match, and so must one of the required terms."""
    cache = cache_of([node("n1", labels=LABELS)])
    status = run_filter(NodeAffinity(), pod(node_selector=selector, affinity=affinity), cache, "n1")
    assert status.code is code
    if code is Code.UNRESOLVABLE:
        assert status.reasons == (REASON,) == ("node(s) didn't match Pod's node affinity/selector",)


def preferred(*weighted: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": w, "preference": {"matchExpressions": [e]}} for w, e in weighted
            ]
        }
    }


@pytest.mark.parametrize(
    ("affinity", "expected"),
    [
        pytest.param(None, None, id="no-preference-skips"),
        pytest.param(preferred((10, expr("disk", "In", "ssd"))), {"ssd": 100, "hdd": 0, "both": 100}, id="one-term"),
        pytest.param(
            preferred((10, expr("disk", "In", "ssd")), (30, expr("gpu", "Exists"))),
            {"ssd": 25, "hdd": 75, "both": 100},
            id="weights-add-up-then-scale",
        ),
    ],
)
def test_score(affinity: dict[str, Any] | None, expected: dict[str, int] | None) -> None:
    """Sum of the weights of matching preferred terms, scaled so the best node gets 100."""
    cache = cache_of(
        [
            node("ssd", labels={"disk": "ssd"}),
            node("hdd", labels={"disk": "hdd", "gpu": "1"}),
            node("both", labels={"disk": "ssd", "gpu": "1"}),
        ]
    )
    assert run_score(NodeAffinity(), pod(affinity=affinity), cache) == expected
