"""DaemonSets: defaults, checks of the update strategy, status and columns."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.resources.kinds.daemonsets import STRATEGY

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def _daemonset(**spec: Any) -> dict[str, Any]:
    spec.setdefault("selector", {"matchLabels": {"app": "agent"}})
    spec.setdefault(
        "template",
        {
            "metadata": {"labels": {"app": "agent"}},
            "spec": {
                "nodeSelector": {"kubernetes.io/os": "linux", "edge": "true"},
                "containers": [{"name": "agent", "image": "agent:1"}],
            },
        },
    )
    obj = {
        "metadata": {"name": "agent", "namespace": "kube-system", "creationTimestamp": "2024-04-30T12:00:00Z"},
        "spec": spec,
    }
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    return obj


def test_defaults_and_initial_status() -> None:
    """RollingUpdate with maxUnavailable 1 / maxSurge 0, ten revisions, zeroed status."""
    obj = _daemonset()
    assert obj["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert obj["spec"]["revisionHistoryLimit"] == 10
    assert obj["status"] == {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    }


def test_on_delete_gets_no_rolling_block() -> None:
    """An OnDelete strategy is kept as given."""
    obj = _daemonset(updateStrategy={"type": "OnDelete"})
    assert obj["spec"]["updateStrategy"] == {"type": "OnDelete"}
    assert STRATEGY.validate(obj) == []


def test_typical_daemonset_is_valid() -> None:
    """A defaulted DaemonSet with matching labels validates cleanly."""
    assert STRATEGY.validate(_daemonset()) == []


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"selector": {}}, "spec.selector", "empty selector is invalid for daemonset"),
        ({"selector": {"matchLabels": {"app": "x"}}}, "spec.template.metadata.labels", "`selector` does not match"),
        (
            {"updateStrategy": {"type": "Sometimes"}},
            "spec.updateStrategy.type",
            'Unsupported value: "Sometimes": supported values: "RollingUpdate", "OnDelete"',
        ),
        (
            {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}}},
            "spec.updateStrategy.rollingUpdate.maxSurge",
            "may not be set when maxUnavailable is non-zero",
        ),
        (
            {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}}},
            "spec.updateStrategy.rollingUpdate.maxUnavailable",
            "Required value: cannot be 0 when maxSurge is 0",
        ),
        (
            {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": "200%"}}},
            "spec.updateStrategy.rollingUpdate.maxSurge",
            "must not be greater than 100%",
        ),
        ({"revisionHistoryLimit": -1}, "spec.revisionHistoryLimit", "must be greater than or equal to 0"),
        (
            {
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "a", "image": "x"}]},
                }
            },
            "spec.template.spec.restartPolicy",
            'Unsupported value: "Never"',
        ),
    ],
)
def test_daemonset_problem(spec: dict[str, Any], field: str, message: str) -> None:
    """Each invalid DaemonSet yields a cause at the expected path."""
    causes = [(c.field, c.message) for c in STRATEGY.validate(_daemonset(**spec))]
    assert any(f == field and message in m for f, m in causes), causes


def test_selector_is_immutable() -> None:
    """Changing the selector on update is refused."""
    old = _daemonset()
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "Exists"}]}
    assert [c.field for c in STRATEGY.validate_update(new, old)] == ["spec.selector"]


def test_status_counters_are_non_negative() -> None:
    """A negative counter in a status write is refused."""
    old = _daemonset()
    new = copy.deepcopy(old)
    new["status"] = {"numberReady": -1}
    assert [c.field for c in STRATEGY.validate_status_update(new, old)] == ["status.numberReady"]


def test_row() -> None:
    """NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE (+ wide)."""
    obj = _daemonset()
    obj["status"] = {
        "desiredNumberScheduled": 3,
        "currentNumberScheduled": 3,
        "numberReady": 2,
        "updatedNumberScheduled": 3,
        "numberAvailable": 2,
    }
    assert STRATEGY.row(obj, NOW) == [
        "agent",
        3,
        3,
        2,
        3,
        2,
        "edge=true,kubernetes.io/os=linux",
        "24h",
        "agent",
        "agent:1",
        "app=agent",
    ]
    obj["spec"]["template"]["spec"].pop("nodeSelector")
    assert STRATEGY.row(obj, NOW)[6] == "<none>"
