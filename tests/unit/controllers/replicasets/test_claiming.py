"""Claims: a controller owns what it controls and matches, adopts matching orphans, releases the rest."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.controllers.replicasets.claiming import owner_reference, plan_claims
from edgekube.resources.objects import Obj

OWNER: Obj = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web", "uid": "u-web"}}
OTHER: Obj = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "api", "uid": "u-api"}}


def obj(name: str, app: str, owner: Obj | None = None, *, deleting: bool = False) -> Obj:
    meta: dict[str, Any] = {"name": name, "labels": {"app": app}}
    if owner is not None:
        meta["ownerReferences"] = [owner_reference(owner)]
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return {"metadata": meta}


def matches(o: Obj) -> bool:
    return bool(o["metadata"]["labels"]["app"] == "web")


CASES = [
    ("owned and matching", obj("p", "web", OWNER), False, "owned"),
    ("owned, stopped matching", obj("p", "db", OWNER), False, "release"),
    ("owned, stopped matching, owner deleting", obj("p", "db", OWNER), True, None),
    ("orphan matching", obj("p", "web"), False, "adopt"),
    ("orphan matching, owner deleting", obj("p", "web"), True, None),
    ("orphan matching, itself deleting", obj("p", "web", deleting=True), False, None),
    ("orphan not matching", obj("p", "db"), False, None),
    ("another controller's", obj("p", "web", OTHER), False, None),
]


@pytest.mark.parametrize(("candidate", "owner_deleting", "where"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_plan(candidate: Obj, owner_deleting: bool, where: str | None) -> None:
    """Each candidate lands in exactly the expected bucket (or none: left alone)."""
    owner = {**OWNER, "metadata": {**OWNER["metadata"]}}
    if owner_deleting:
        owner["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    claims = plan_claims(owner, matches, [candidate])
    buckets = {"owned": claims.owned, "adopt": claims.adopt, "release": claims.release}
    for name, bucket in buckets.items():
        assert bucket == ([candidate] if name == where else []), name


def test_owner_reference_shape() -> None:
    """The reference a controller writes: controller and blockOwnerDeletion set."""
    assert owner_reference(OWNER) == {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "web",
        "uid": "u-web",
        "controller": True,
        "blockOwnerDeletion": True,
    }
