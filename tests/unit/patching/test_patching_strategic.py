"""Strategic merge patch: the schema decides which lists merge by key and which replace."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from edgekube.resources.objects import Obj
from edgekube.resources.patching import STRATEGIC_MERGE_PATCH, apply_patch

Patcher = Callable[[Obj, Any], Obj]


def _pod(*containers: Obj, **spec: Any) -> Obj:
    """A Deployment whose pod template holds `containers` and the other `spec` fields."""
    return {"spec": {"template": {"spec": {"containers": list(containers), **spec}}}}


def _meta(**fields: Any) -> Obj:
    return {"metadata": fields}


WEB = {"name": "web", "image": "nginx:1.25"}
SIDECAR = {"name": "log", "image": "busybox"}

CASES = [
    (
        "container-image-updated-other-kept",
        _pod(WEB, SIDECAR),
        _pod({"name": "web", "image": "nginx:1.27"}),
        _pod({"name": "web", "image": "nginx:1.27"}, SIDECAR),
    ),
    (
        "new-container-appended",
        _pod(WEB),
        _pod(SIDECAR),
        _pod(WEB, SIDECAR),
    ),
    (
        "env-merged-by-name",
        _pod({"name": "web", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}),
        _pod({"name": "web", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}),
        _pod({"name": "web", "env": [
            {"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"},
        ]}),
    ),
    (
        "ports-merged-by-container-port",
        _pod({"name": "web", "ports": [{"containerPort": 80, "name": "http"}]}),
        _pod({"name": "web", "ports": [
            {"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "name": "https"},
        ]}),
        _pod({"name": "web", "ports": [
            {"containerPort": 80, "name": "http", "protocol": "TCP"},
            {"containerPort": 443, "name": "https"},
        ]}),
    ),
    (
        "finalizers-union",
        _meta(finalizers=["a", "b"]),
        _meta(finalizers=["b", "c"]),
        _meta(finalizers=["a", "b", "c"]),
    ),
    (
        "finalizers-union-keeps-json-types-apart",
        _meta(finalizers=[1]),
        _meta(finalizers=[True]),
        _meta(finalizers=[1, True]),
    ),
    (
        "patch-delete-on-container",
        _pod(WEB, SIDECAR),
        _pod({"name": "log", "$patch": "delete"}),
        _pod(WEB),
    ),
    (
        "patch-delete-on-missing-container-is-noop",
        _pod(WEB),
        _pod({"name": "gone", "$patch": "delete"}),
        _pod(WEB),
    ),
    (
        "patch-replace-element-replaces-list",
        _pod(WEB, SIDECAR),
        _pod({"$patch": "replace"}, {"name": "only", "image": "x"}),
        _pod({"name": "only", "image": "x"}),
    ),
    (
        "patch-merge-element-merges",
        _pod(WEB),
        _pod({"name": "web", "$patch": "merge", "image": "nginx:2"}),
        _pod({"name": "web", "image": "nginx:2"}),
    ),
    (
        "patch-replace-on-map",
        _meta(labels={"app": "web", "tier": "front"}),
        _meta(labels={"$patch": "replace", "app": "api"}),
        _meta(labels={"app": "api"}),
    ),
    (
        "patch-delete-on-map",
        _meta(name="web", labels={"app": "web"}),
        _meta(labels={"$patch": "delete"}),
        _meta(name="web"),
    ),
    (
        "patch-merge-on-map",
        _meta(labels={"app": "web"}),
        _meta(labels={"$patch": "merge", "tier": "front"}),
        _meta(labels={"app": "web", "tier": "front"}),
    ),
    (
        "labels-merge-key-by-key",
        _meta(labels={"app": "web", "tier": "front"}),
        _meta(labels={"tier": "back", "team": "edge"}),
        _meta(labels={"app": "web", "tier": "back", "team": "edge"}),
    ),
    (
        "null-deletes-map-key",
        _meta(labels={"app": "web", "tier": "front"}),
        _meta(labels={"tier": None}),
        _meta(labels={"app": "web"}),
    ),
    (
        "null-deletes-field",
        {"spec": {"replicas": 3, "paused": True}},
        {"spec": {"paused": None}},
        {"spec": {"replicas": 3}},
    ),
    (
        "null-deletes-field-of-container",
        _pod({"name": "web", "image": "x", "command": ["sh"]}),
        _pod({"name": "web", "command": None}),
        _pod({"name": "web", "image": "x"}),
    ),
    (
        "atomic-list-of-objects-replaced",
        _pod(WEB, tolerations=[{"key": "a"}, {"key": "b"}]),
        _pod(WEB, tolerations=[{"key": "c"}]),
        _pod(WEB, tolerations=[{"key": "c"}]),
    ),
    (
        "atomic-list-of-strings-replaced",
        _pod({"name": "web", "args": ["-a", "-b"]}),
        _pod({"name": "web", "args": ["-c"]}),
        _pod({"name": "web", "args": ["-c"]}),
    ),
    (
        "unknown-field-map-merges",
        {"spec": {"selector": {"matchLabels": {"app": "web"}}}},
        {"spec": {"selector": {"matchLabels": {"tier": "front"}}}},
        {"spec": {"selector": {"matchLabels": {"app": "web", "tier": "front"}}}},
    ),
    (
        "unknown-field-list-replaced",
        {"status": {"conditions": [{"type": "A"}, {"type": "B"}]}},
        {"status": {"conditions": [{"type": "B", "status": "True"}]}},
        {"status": {"conditions": [{"type": "B", "status": "True"}]}},
    ),
    (
        "unknown-field-null-deletes",
        {"status": {"replicas": 1, "ready": 1}},
        {"status": {"ready": None}},
        {"status": {"replicas": 1}},
    ),
    (
        "unknown-container-field-list-replaced",
        _pod({"name": "web", "resources": {"claims": [{"name": "a"}]}}),
        _pod({"name": "web", "resources": {"claims": [{"name": "b"}]}}),
        _pod({"name": "web", "resources": {"claims": [{"name": "b"}]}}),
    ),
    (
        "dollar-field-that-is-not-a-directive-is-data",
        {"spec": {"selector": {"$ref": "a"}}},
        {"spec": {"selector": {"$ref": "b", "$schema": "c"}}},
        {"spec": {"selector": {"$ref": "b", "$schema": "c"}}},
    ),
    (
        "new-subtree-is-cleaned-of-nulls-and-directives",
        {},
        _pod({"name": "web", "image": None, "env": [{"name": "A", "$patch": "delete"}]}),
        _pod({"name": "web", "env": []}),
    ),
    (
        "scalar-replaced-by-object",
        {"spec": {"template": 1}},
        {"spec": {"template": {"metadata": {"name": "x"}}}},
        {"spec": {"template": {"metadata": {"name": "x"}}}},
    ),
    (
        "owner-references-merged-by-uid",
        _meta(ownerReferences=[{"uid": "1", "name": "a"}]),
        _meta(ownerReferences=[{"uid": "2", "name": "b"}]),
        _meta(ownerReferences=[{"uid": "1", "name": "a"}, {"uid": "2", "name": "b"}]),
    ),
]


@pytest.mark.parametrize(
    ("original", "patch", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_strategic_merge(strategic: Patcher, original: Obj, patch: Obj, expected: Obj) -> None:
    """Each rule gives the expected Deployment and leaves the original alone."""
    before = copy.deepcopy(original)
    assert strategic(original, patch) == expected
    assert original == before


def test_without_schema_is_merge_patch() -> None:
    """With no schema, lists are replaced whole as JSON merge patch does."""
    result = apply_patch(
        STRATEGIC_MERGE_PATCH,
        _pod(WEB, SIDECAR),
        b'{"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "x"}]}}}}',
        schema=None,
        definition=None,
    )
    assert result == _pod({"name": "web", "image": "x"})


def test_top_level_delete_empties_object(strategic: Patcher) -> None:
    """`$patch: delete` at the top empties the object rather than returning nothing."""
    assert strategic(_meta(name="web"), {"$patch": "delete"}) == {}


def test_result_shares_nothing_with_original(strategic: Patcher) -> None:
    """Changing the result afterwards cannot reach into the original."""
    original = _pod(dict(WEB), dict(SIDECAR))
    result = strategic(original, _pod({"name": "web", "image": "new"}))
    result["spec"]["template"]["spec"]["containers"][1]["image"] = "changed"
    assert original == _pod(WEB, SIDECAR)
