"""ReplicaSets: defaults, checks, the immutable selector, field selectors and columns."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.resources.kinds.replicasets import STRATEGY

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def _replicaset(**spec: Any) -> dict[str, Any]:
    spec.setdefault("selector", {"matchLabels": {"app": "web"}})
    spec.setdefault(
        "template",
        {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:2"}]},
        },
    )
    obj = {
        "metadata": {"name": "web-abc", "namespace": "default", "creationTimestamp": "2024-05-01T11:00:00Z"},
        "spec": spec,
    }
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    return obj


def test_defaults_and_initial_status() -> None:
    """Replicas default to 1, the template is defaulted, status starts at zero replicas."""
    obj = _replicaset()
    assert obj["spec"]["replicas"] == 1
    assert obj["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert obj["status"] == {"replicas": 0}
    assert _replicaset(replicas=0)["spec"]["replicas"] == 0


def test_typical_replicaset_is_valid() -> None:
    """A defaulted ReplicaSet with matching labels validates cleanly."""
    assert STRATEGY.validate(_replicaset()) == []


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"selector": None}, "spec.selector", "Required value"),
        ({"selector": {"matchLabels": {}}}, "spec.selector", "empty selector is invalid for deployment"),
        (
            {"selector": {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}},
            "spec.template.metadata.labels",
            "`selector` does not match template `labels`",
        ),
        ({"replicas": -2}, "spec.replicas", "must be greater than or equal to 0"),
        (
            {
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "a", "image": "x"}]},
                }
            },
            "spec.template.spec.restartPolicy",
            'Unsupported value: "OnFailure"',
        ),
    ],
)
def test_replicaset_problem(spec: dict[str, Any], field: str, message: str) -> None:
    """Each invalid ReplicaSet yields a cause at the expected path."""
    causes = [(c.field, c.message) for c in STRATEGY.validate(_replicaset(**spec))]
    assert any(f == field and message in m for f, m in causes), causes


def test_selector_is_immutable() -> None:
    """Changing the selector on update is refused."""
    old = _replicaset()
    new = copy.deepcopy(old)
    new["spec"]["selector"]["matchLabels"]["app"] = "api"
    new["spec"]["template"]["metadata"]["labels"]["app"] = "api"
    assert [c.field for c in STRATEGY.validate_update(new, old)] == ["spec.selector"]


def test_status_counter_problem() -> None:
    """Available replicas may not exceed ready ones."""
    old = _replicaset()
    new = copy.deepcopy(old)
    new["status"] = {"replicas": 2, "readyReplicas": 1, "availableReplicas": 2}
    messages = [c.message for c in STRATEGY.validate_status_update(new, old)]
    assert messages == ["Invalid value: 2: cannot be greater than readyReplicas"]


def test_row_and_field_values() -> None:
    """NAME DESIRED CURRENT READY AGE (+ wide), and the `status.replicas` field selector."""
    obj = _replicaset(replicas=3)
    obj["status"] = {"replicas": 2, "readyReplicas": 1}
    assert STRATEGY.row(obj, NOW) == ["web-abc", 3, 2, 1, "60m", "a,b", "x:1,y:2", "app=web"]
    assert STRATEGY.field_values(obj)["status.replicas"] == "2"
