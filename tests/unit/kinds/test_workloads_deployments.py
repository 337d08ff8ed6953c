"""Deployments: defaults, checks, the immutable selector, status writes and columns."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.resources.kinds.deployments import STRATEGY
from edgekube.resources.objects import get_path

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def _deployment(**spec: Any) -> dict[str, Any]:
    spec.setdefault("selector", {"matchLabels": {"app": "web"}})
    spec.setdefault(
        "template",
        {
            "metadata": {"labels": {"app": "web", "tier": "front"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
        },
    )
    obj = {
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2024-05-01T11:58:00Z"},
        "spec": spec,
    }
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    return obj


def _causes(obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c.field, c.message) for c in STRATEGY.validate(obj)]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("spec", "replicas"), 1),
        (
            ("spec", "strategy"),
            {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        ),
        (("spec", "revisionHistoryLimit"), 10),
        (("spec", "progressDeadlineSeconds"), 600),
        (("spec", "template", "spec", "restartPolicy"), "Always"),
        (("spec", "template", "spec", "containers", 0, "imagePullPolicy"), "IfNotPresent"),
        (("status",), {}),
    ],
)
def test_defaults(path: tuple[str | int, ...], expected: Any) -> None:
    """A minimal Deployment gets the apps/v1 defaults and a defaulted template."""
    assert get_path(_deployment(), *path) == expected


@pytest.mark.parametrize(
    ("spec", "path", "kept"),
    [
        ({"replicas": 0}, ("replicas",), 0),
        ({"revisionHistoryLimit": 0}, ("revisionHistoryLimit",), 0),
        ({"strategy": {"type": "Recreate"}}, ("strategy",), {"type": "Recreate"}),
        (
            {"strategy": {"rollingUpdate": {"maxSurge": 1}}},
            ("strategy",),
            {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
        ),
    ],
)
def test_defaults_keep_user_values(spec: dict[str, Any], path: tuple[str, ...], kept: Any) -> None:
    """User values stay; Recreate gets no rollingUpdate block."""
    assert get_path(_deployment(**spec)["spec"], *path) == kept


def test_typical_deployment_is_valid() -> None:
    """A defaulted Deployment with matching labels validates cleanly."""
    assert _causes(_deployment()) == []


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"selector": None}, "spec.selector", "Required value"),
        ({"selector": {}}, "spec.selector", "empty selector is invalid for deployment"),
        (
            {"selector": {"matchLabels": {"app": "api"}}},
            "spec.template.metadata.labels",
            '{"app":"web","tier":"front"}: `selector` does not match template `labels`',
        ),
        (
            {"selector": {"matchExpressions": [{"key": "app", "operator": "In"}]}},
            "spec.selector.matchExpressions[0].values",
            "must be specified when `operator` is 'In' or 'NotIn'",
        ),
        ({"replicas": -1}, "spec.replicas", "must be greater than or equal to 0"),
        ({"minReadySeconds": -5}, "spec.minReadySeconds", "must be greater than or equal to 0"),
        ({"revisionHistoryLimit": -1}, "spec.revisionHistoryLimit", "must be greater than or equal to 0"),
        (
            {"minReadySeconds": 700},
            "spec.progressDeadlineSeconds",
            "Invalid value: 600: must be greater than minReadySeconds",
        ),
        (
            {"strategy": {"type": "BlueGreen"}},
            "spec.strategy.type",
            'Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"',
        ),
        (
            {"strategy": {"type": "Recreate", "rollingUpdate": {"maxSurge": 1}}},
            "spec.strategy.rollingUpdate",
            "Forbidden: may not be specified when strategy `type` is 'Recreate'",
        ),
        (
            {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}},
            "spec.strategy.rollingUpdate.maxUnavailable",
            "may not be 0 when `maxSurge` is 0",
        ),
        (
            {"strategy": {"rollingUpdate": {"maxUnavailable": "150%"}}},
            "spec.strategy.rollingUpdate.maxUnavailable",
            "must not be greater than 100%",
        ),
        (
            {"strategy": {"rollingUpdate": {"maxSurge": "lots"}}},
            "spec.strategy.rollingUpdate.maxSurge",
            "a valid percent string must be a numeric string followed by an ending '%'",
        ),
        (
            {"strategy": {"rollingUpdate": {"maxSurge": -1}}},
            "spec.strategy.rollingUpdate.maxSurge",
            "must be greater than or equal to 0",
        ),
        (
            {
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]},
                }
            },
            "spec.template.spec.restartPolicy",
            'Unsupported value: "Never": supported values: "Always"',
        ),
        (
            {
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"activeDeadlineSeconds": 5, "containers": [{"name": "c", "image": "x"}]},
                }
            },
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in ReplicaSet is not Supported",
        ),
        (
            {
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "C", "image": "x"}]},
                }
            },
            "spec.template.spec.containers[0].name",
            "RFC 1123 label",
        ),
        (
            {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}},
            "spec.template.spec.containers",
            "Required value",
        ),
    ],
)
def test_deployment_problem(spec: dict[str, Any], field: str, message: str) -> None:
    """Each invalid Deployment yields a cause at the expected path."""
    causes = _causes(_deployment(**spec))
    assert any(f == field and message in m for f, m in causes), causes


def test_template_may_leave_image_empty() -> None:
    """A template image may be empty (tooling fills it), unlike a pod's."""
    obj = _deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    assert _causes(obj) == []


def test_selector_is_immutable() -> None:
    """Changing the selector on update is refused; other spec changes pass."""
    old = _deployment()
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    assert STRATEGY.validate_update(new, old) == []
    new["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "front"}}
    causes = STRATEGY.validate_update(new, old)
    assert [(c.field, c.message.endswith("field is immutable")) for c in causes] == [("spec.selector", True)]


@pytest.mark.parametrize(
    ("status", "field"),
    [
        ({"replicas": -1}, "status.replicas"),
        ({"replicas": 1, "readyReplicas": 2}, "status.readyReplicas"),
        ({"replicas": 3, "readyReplicas": 1, "availableReplicas": 2}, "status.availableReplicas"),
        ({"replicas": 1, "updatedReplicas": 2}, "status.updatedReplicas"),
    ],
)
def test_status_counter_problems(status: dict[str, Any], field: str) -> None:
    """Status writes with negative or out-of-order counters are refused."""
    old = _deployment()
    new = copy.deepcopy(old)
    new["status"] = status
    STRATEGY.prepare_for_status_update(new, old)
    assert field in [c.field for c in STRATEGY.validate_status_update(new, old)]


def test_row() -> None:
    """NAME READY UP-TO-DATE AVAILABLE AGE, then CONTAINERS IMAGES SELECTOR when wide."""
    obj = _deployment(replicas=3)
    obj["status"] = {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
    assert STRATEGY.row(obj, NOW) == ["web", "2/3", 3, 2, "2m", "nginx", "nginx:1.27", "app=web"]
    assert [c.name for c in STRATEGY.columns] == [
        "Name",
        "Ready",
        "Up-to-date",
        "Available",
        "Age",
        "Containers",
        "Images",
        "Selector",
    ]


def test_row_of_new_deployment() -> None:
    """A Deployment with no status yet shows zeros."""
    assert STRATEGY.row(_deployment(), NOW)[1:4] == ["0/1", 0, 0]
