"""Pod updates: the few spec changes allowed on a running pod, and the refusal of the rest."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from edgekube.resources.kinds.pod_updates import IMMUTABLE_SPEC_MESSAGE
from edgekube.resources.kinds.pods import STRATEGY

FORBIDDEN = (
    "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
    "set to 1 if it was previously negative)"
)


def _stored() -> dict[str, Any]:
    pod: dict[str, Any] = {
        "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
        "spec": {
            "containers": [{"name": "app", "image": "nginx:1.26", "ports": [{"containerPort": 80}]}],
            "initContainers": [{"name": "init", "image": "busybox:1"}],
            "tolerations": [{"key": "a", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}],
            "activeDeadlineSeconds": 600,
        },
    }
    STRATEGY.prepare_for_create(pod)
    STRATEGY.default(pod)
    return pod


def _update(change: Callable[[dict[str, Any]], None]) -> list[tuple[str, str]]:
    old = _stored()
    new = copy.deepcopy(old)
    change(new["spec"])
    STRATEGY.prepare_for_update(new, old)
    STRATEGY.default(new)
    return [(c.field, c.message) for c in STRATEGY.validate_update(new, old)]


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda spec: spec.__setitem__(key, value)


def _container(key: str, value: Any, kind: str = "containers") -> Callable[[dict[str, Any]], None]:
    return lambda spec: spec[kind][0].__setitem__(key, value)


@pytest.mark.parametrize(
    "change",
    [
        _container("image", "nginx:1.27"),
        _container("image", "busybox:2", kind="initContainers"),
        _set("activeDeadlineSeconds", 300),
        lambda spec: spec["tolerations"].append({"key": "b", "operator": "Exists"}),
        lambda spec: spec["tolerations"][0].__setitem__("tolerationSeconds", 30),
        _set("nodeName", "node-1"),
        lambda spec: spec.pop("priority"),  # defaulting puts it back
    ],
)
def test_allowed_changes(change: Callable[[dict[str, Any]], None]) -> None:
    """Image changes, a lower deadline, added tolerations and a first node binding pass."""
    assert _update(change) == []


@pytest.mark.parametrize(
    "change",
    [
        _set("restartPolicy", "Never"),
        _set("terminationGracePeriodSeconds", 10),
        _set("hostNetwork", True),
        _set("nodeSelector", {"disk": "ssd"}),
        _container("ports", [{"containerPort": 8080, "protocol": "TCP"}]),
        _container("env", [{"name": "A", "value": "1"}]),
        _container("name", "renamed"),
        _container("resources", {"limits": {"cpu": "1"}}),
    ],
)
def test_forbidden_changes(change: Callable[[dict[str, Any]], None]) -> None:
    """Any other spec change is refused at `spec` with Kubernetes' message."""
    assert _update(change) == [("spec", FORBIDDEN)]
    assert FORBIDDEN == f"Forbidden: {IMMUTABLE_SPEC_MESSAGE}"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda spec: spec["containers"].append({"name": "b", "image": "x"}),
            "spec.containers",
            "Forbidden: pod updates may not add or remove containers",
        ),
        (
            _set("activeDeadlineSeconds", 900),
            "spec.activeDeadlineSeconds",
            "Invalid value: 900: must be less than or equal to previous value",
        ),
        (
            lambda spec: spec.pop("activeDeadlineSeconds"),
            "spec.activeDeadlineSeconds",
            "must not update from a positive integer to nil value",
        ),
        (
            _set("tolerations", []),
            "spec.tolerations",
            "Forbidden: existing toleration can not be modified except its tolerationSeconds",
        ),
        (_container("image", ""), "spec.containers[0].image", "Required value"),
    ],
)
def test_specific_update_problems(change: Callable[[dict[str, Any]], None], field: str, message: str) -> None:
    """Deadlines, tolerations and container lists get their own, more precise causes."""
    causes = _update(change)
    assert any(f == field and message in m for f, m in causes), causes


def test_node_name_is_fixed_once_bound() -> None:
    """Once bound, moving a pod to another node is refused."""
    old = _stored()
    old["spec"]["nodeName"] = "node-1"
    new = copy.deepcopy(old)
    new["spec"]["nodeName"] = "node-2"
    assert [c.field for c in STRATEGY.validate_update(new, old)] == ["spec"]


def test_negative_grace_period_may_become_one() -> None:
    """A stored negative grace period may be set to 1 (Kubernetes' one exception)."""
    old = _stored()
    old["spec"]["terminationGracePeriodSeconds"] = -1
    new = copy.deepcopy(old)
    new["spec"]["terminationGracePeriodSeconds"] = 1
    assert STRATEGY.validate_update(new, old) == []


def test_empty_and_missing_fields_are_equal() -> None:
    """An empty list or map in the new spec is not a change from a missing one."""
    assert _update(_set("imagePullSecrets", [])) == []
    assert _update(_set("nodeSelector", {})) == []


def test_metadata_changes_are_allowed() -> None:
    """Labels and annotations of a pod may change freely."""
    old = _stored()
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"app": "web"}
    assert STRATEGY.validate_update(new, old) == []


def test_status_is_kept_on_update() -> None:
    """A main-resource update keeps the stored status."""
    old = _stored()
    old["status"]["phase"] = "Running"
    new = copy.deepcopy(old)
    new["status"] = {"phase": "Failed"}
    STRATEGY.prepare_for_update(new, old)
    assert new["status"]["phase"] == "Running"
