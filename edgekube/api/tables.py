"""`Table` responses (meta.k8s.io/v1): what `kubectl get` prints, computed by the server.

Each row carries the cells from the kind's strategy and, per `includeObject`, the object's
metadata (default), the whole object, or nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from edgekube.errors import BadRequest
from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy

INCLUDE = ("None", "Metadata", "Object")


def include_object(value: str | None) -> str:
    value = value or "Metadata"
    if value not in INCLUDE:
        raise BadRequest(f"includeObject must be one of {', '.join(INCLUDE)}, not {value!r}")
    return value


def partial_metadata(obj: Obj) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def row(strategy: Strategy, obj: Obj, include: str, now: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {"cells": strategy.row(obj, now)}
    if include == "Object":
        out["object"] = obj
    elif include == "Metadata":
        out["object"] = partial_metadata(obj)
    return out


def table(
    strategy: Strategy,
    objs: list[Obj],
    *,
    include: str,
    resource_version: str = "",
    continue_token: str = "",
    headers: bool = True,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    md: dict[str, Any] = {}
    if resource_version:
        md["resourceVersion"] = resource_version
    if continue_token:
        md["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": md,
        "columnDefinitions": [c.to_dict() for c in strategy.columns] if headers else None,
        "rows": [row(strategy, o, include, now) for o in objs],
    }
