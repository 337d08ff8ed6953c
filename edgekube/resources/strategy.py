"""What a kind is (`Kind`) and how its objects are defaulted, validated and shown (`Strategy`).

The resource service calls a kind's strategy on every write, in this order:
prepare (reset fields the caller may not set) -> default -> validate -> store. The base
class gives the behaviour most kinds share; each kind module overrides what differs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.validation import (
    is_dns1123_subdomain,
    validate_immutable_meta,
    validate_object_meta,
)


@dataclass(frozen=True)
class Kind:
    """The identity of a served kind, as discovery and the URL paths show it."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    has_status: bool = False
    has_scale: bool = False
    verbs: tuple[str, ...] = (
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    )

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def resource(self) -> str:
        """`deployments.apps`, or `pods` for the core group: how messages name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def store_key(self) -> str:
        """The resource part of a storage key: `apps/deployments`, or `core/pods`."""
        return f"{self.group or 'core'}/{self.plural}"


@dataclass(frozen=True)
class Column:
    """One column of a `Table` response (`kubectl get`)."""

    name: str
    type: str = "string"
    format: str = ""
    description: str = ""
    priority: int = 0  # 0: always shown; 1: only with `-o wide`

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


NAME_COLUMN = Column("Name", format="name", description="Name must be unique within a namespace.")
AGE_COLUMN = Column("Age", description="Time since the object was created.")


def age(obj: Obj, now: datetime | None = None) -> str:
    """`kubectl`'s short human duration since creation: 45s, 12m, 5h, 3d, 2y."""
    created = get_path(obj, "metadata", "creationTimestamp")
    if not isinstance(created, str):
        return "<unknown>"
    try:
        then = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    seconds = int(((now or datetime.now(UTC)) - then).total_seconds())
    return human_duration(seconds)


def human_duration(seconds: int) -> str:
    """The shape kubectl uses: 59s, 3m20s, 2h5m, 4d3h, 2y30d (short forms past a point)."""
    if seconds < -1:
        return "<invalid>"
    seconds = max(seconds, 0)  # a second of clock skew between writer and server shows as 0s, as in kubectl
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if days < 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


@dataclass
class Strategy:
    """Default behaviour; a kind module subclasses this and overrides what differs."""

    kind: Kind
    # Columns of `kubectl get`; `row()` returns the cells in the same order.
    columns: tuple[Column, ...] = field(default=(NAME_COLUMN, AGE_COLUMN))
    # Whether `metadata.generation` counts changes outside metadata and status.
    tracks_generation: bool = False

    # -- names --------------------------------------------------------------------------

    def name_problems(self, name: str) -> list[str]:
        """Problems with `name` as this kind's object name (most kinds: DNS-1123 subdomain)."""
        return is_dns1123_subdomain(name)

    # -- writes -------------------------------------------------------------------------

    def prepare_for_create(self, obj: Obj) -> None:
        """Reset what a create may not set: the status of kinds that have a status subresource."""
        if self.kind.has_status:
            obj.pop("status", None)
            initial = self.initial_status(obj)
            if initial is not None:
                obj["status"] = initial

    def initial_status(self, obj: Obj) -> Obj | None:
        """The status a new object starts with (None: no status field)."""
        return None

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        """An update of the main resource never changes status where status is a subresource."""
        if self.kind.has_status:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)

    def prepare_for_status_update(self, new: Obj, old: Obj) -> None:
        """A status update changes only status: everything else is taken from the old object."""
        status = new.get("status")
        for key in list(new):
            if key not in ("metadata", "status"):
                del new[key]
        for key, value in old.items():
            if key not in ("metadata", "status"):
                new[key] = copy.deepcopy(value)
        if status is None:
            new.pop("status", None)

    def default(self, obj: Obj) -> None:
        """Fill in Kubernetes defaults, in place. Runs on create and on every update."""

    def validate(self, obj: Obj) -> list[Cause]:
        """Every problem with `obj` as a new object (empty when valid)."""
        return validate_object_meta(obj, namespaced=self.kind.namespaced, name_check=self.name_problems)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        """Every problem with `new` replacing `old`: validity plus immutable fields."""
        return self.validate(new) + validate_immutable_meta(new, old)

    def validate_status_update(self, new: Obj, old: Obj) -> list[Cause]:
        """Problems with a status write (the rest of the object is already the old one)."""
        return validate_immutable_meta(new, old)

    # -- reads --------------------------------------------------------------------------

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        """The cells of `kubectl get` for `obj`, one per column."""
        return [get_path(obj, "metadata", "name"), age(obj, now)]

    def field_values(self, obj: Obj) -> dict[str, str]:
        """Values that field selectors may name. Every kind serves name and namespace."""
        meta = obj.get("metadata") or {}
        return {
            "metadata.name": str(meta.get("name") or ""),
            "metadata.namespace": str(meta.get("namespace") or ""),
        }


@dataclass(frozen=True)
class ScaleTarget:
    """Where a kind with a `scale` subresource keeps its replica counts."""

    spec_replicas: tuple[str, ...] = ("spec", "replicas")
    status_replicas: tuple[str, ...] = ("status", "replicas")
    selector: tuple[str, ...] = ("spec", "selector")
