"""The `$` directives kubectl sends: element order, primitive deletes, retained keys, errors."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from edgekube.errors import BadRequest
from edgekube.resources.objects import Obj

Patcher = Callable[[Obj, Any], Obj]


def _names(*names: str) -> list[Obj]:
    return [{"name": n, "image": n} for n in names]


def _pod_spec(**spec: Any) -> Obj:
    return {"spec": {"template": {"spec": spec}}}


def _order(*names: str) -> list[Obj]:
    return [{"name": n} for n in names]


def _strategy(**strategy: Any) -> Obj:
    return {"spec": {"strategy": strategy}}


CASES = [
    (
        "set-element-order-reorders",
        _pod_spec(containers=_names("a", "b", "c")),
        _pod_spec(**{"$setElementOrder/containers": _order("c", "a", "b")}),
        _pod_spec(containers=_names("c", "a", "b")),
    ),
    (
        "set-element-order-with-new-and-updated-elements",
        _pod_spec(containers=_names("a", "b")),
        _pod_spec(**{
            "$setElementOrder/containers": _order("n", "b", "a"),
            "containers": [{"name": "a", "image": "A2"}, {"name": "n", "image": "n"}],
        }),
        _pod_spec(containers=[
            {"name": "n", "image": "n"}, {"name": "b", "image": "b"}, {"name": "a", "image": "A2"},
        ]),
    ),
    (
        "set-element-order-keeps-unnamed-elements-in-place",
        _pod_spec(containers=_names("a", "x", "b")),
        _pod_spec(**{
            "$setElementOrder/containers": _order("c", "b", "a"),
            "containers": _names("c"),
        }),
        _pod_spec(containers=_names("c", "x", "b", "a")),
    ),
    (
        "set-element-order-of-primitives",
        {"metadata": {"finalizers": ["a", "b"]}},
        {"metadata": {"$setElementOrder/finalizers": ["c", "b", "a"], "finalizers": ["c"]}},
        {"metadata": {"finalizers": ["c", "b", "a"]}},
    ),
    (
        "set-element-order-on-unknown-field-is-dropped",
        {"status": {"items": [1, 2]}},
        {"status": {"$setElementOrder/items": [2, 1]}},
        {"status": {"items": [1, 2]}},
    ),
    (
        "delete-from-primitive-list",
        {"metadata": {"finalizers": ["a", "b", "c"]}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "z"]}},
        {"metadata": {"finalizers": ["a", "c"]}},
    ),
    (
        "delete-from-primitive-list-then-add",
        {"metadata": {"finalizers": ["a", "b"]}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"], "finalizers": ["c"]}},
        {"metadata": {"finalizers": ["b", "c"]}},
    ),
    (
        "primitive-list-replace-marker",
        {"metadata": {"finalizers": ["a", "b"]}},
        {"metadata": {"finalizers": [{"$patch": "replace"}, "c"]}},
        {"metadata": {"finalizers": ["c"]}},
    ),
    (
        "retain-keys-rolling-update-to-recreate",
        _strategy(type="RollingUpdate", rollingUpdate={"maxSurge": 1}),
        _strategy(**{"$retainKeys": ["type"], "type": "Recreate"}),
        _strategy(type="Recreate"),
    ),
    (
        "retain-keys-with-explicit-null",
        _strategy(type="RollingUpdate", rollingUpdate={"maxSurge": 1}),
        _strategy(**{"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None}),
        _strategy(type="Recreate"),
    ),
    (
        "retain-keys-in-merged-list-element",
        _pod_spec(volumes=[{"name": "data", "emptyDir": {}}, {"name": "cfg", "emptyDir": {}}]),
        _pod_spec(volumes=[
            {"$retainKeys": ["configMap", "name"], "name": "data", "configMap": {"name": "c"}},
        ]),
        _pod_spec(volumes=[
            {"name": "data", "configMap": {"name": "c"}}, {"name": "cfg", "emptyDir": {}},
        ]),
    ),
]


@pytest.mark.parametrize(
    ("original", "patch", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_directives(strategic: Patcher, original: Obj, patch: Obj, expected: Obj) -> None:
    """Each directive takes effect and leaves no trace in the result or the original."""
    before = copy.deepcopy(original)
    assert strategic(original, patch) == expected
    assert original == before


ERRORS = [
    ("not-an-object", [1], "must be a JSON object, not an array"),
    (
        "unknown-patch-value-on-map",
        {"metadata": {"$patch": "frob"}},
        r"'metadata': unknown \$patch value 'frob'",
    ),
    (
        "unknown-patch-value-in-list",
        _pod_spec(containers=[{"name": "a", "$patch": "frob"}]),
        "unknown \\$patch value 'frob'",
    ),
    ("patch-value-not-string", {"$patch": 1}, "unknown \\$patch value 1"),
    (
        "delete-in-primitive-list",
        {"metadata": {"finalizers": [{"$patch": "delete"}]}},
        "use \\$deleteFromPrimitiveList",
    ),
    ("element-without-merge-key", _pod_spec(containers=[{"image": "x"}]), "no merge key 'name'"),
    ("element-not-an-object", _pod_spec(containers=["web"]), "expected an object with merge key"),
    ("retain-keys-not-a-list", _strategy(**{"$retainKeys": "t"}), r"\$retainKeys must be a list"),
    (
        "patch-field-outside-retain-keys",
        _strategy(**{"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {}}),
        "fields rollingUpdate are set by the patch but missing from its \\$retainKeys",
    ),
    (
        "set-element-order-not-a-list",
        _pod_spec(**{"$setElementOrder/containers": {"name": "a"}}),
        "\\$setElementOrder/containers must be a list",
    ),
    (
        "set-element-order-without-key",
        _pod_spec(containers=_names("a"), **{"$setElementOrder/containers": [{"image": "a"}]}),
        "entries need the merge key 'name'",
    ),
    (
        "delete-from-primitive-list-not-a-list",
        {"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}},
        "must be a list",
    ),
]


@pytest.mark.parametrize(("patch", "message"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_malformed_directives(strategic: Patcher, patch: Any, message: str) -> None:
    """A malformed patch or directive is a bad request that says where it is."""
    with pytest.raises(BadRequest, match=message):
        strategic(_pod_spec(containers=_names("a")), patch)
