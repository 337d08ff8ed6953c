"""The Event kind (core/v1): a report that something happened to an object.

Events are written by controllers, the scheduler and agents, and read by
`kubectl describe` (through the `involvedObject.*` field selectors) and `kubectl get
events`. An event lives in the namespace of the object it is about; events about
cluster-scoped objects (Nodes) live in `default`. Writers that leave out `count` or the
timestamps get the values a single, just-seen event would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.common_fields import mapping, text
from edgekube.resources.kinds.common_tables import since
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import Column, Kind, Strategy
from edgekube.resources.validation import invalid_value, required, unsupported_value

KIND = Kind(
    group='',
    version='v1',
    kind='Event',
    plural='events',
    singular='event',
    namespaced=True,
    short_names=('ev',),
    categories=(),
    has_status=False,
    has_scale=False,
)

COLUMNS = (
    Column("Last Seen", description="The time at which the most recent occurrence was recorded"),
    Column("Type", description="Type of this event (Normal, Warning)"),
    Column("Reason", description="Short, machine understandable reason for the event"),
    Column("Object", description="The object this event is about"),
    Column("Subobject", priority=1, description="The part of the object the event is about"),
    Column("Source", priority=1, description="The component reporting this event"),
    Column("Message", description="A human-readable description of the event"),
    Column("First Seen", priority=1, description="The time the event was first recorded"),
    Column("Count", priority=1, description="The number of times this event has occurred"),
    Column("Name", priority=1, format="name", description="Name of the event"),
)

TYPES = ("Normal", "Warning")
# Events about cluster-scoped objects go here (and old clients put every event here).
DEFAULT_NAMESPACE = "default"
# Limits for events in the newer shape (with eventTime), as Kubernetes enforces them.
_FIELD_LIMITS = (("reportingInstance", 128), ("action", 128), ("reason", 128), ("message", 1024))


@dataclass
class EventStrategy(Strategy):
    """Events: about one object in the same namespace, Normal or Warning, counted."""

    columns: tuple[Column, ...] = COLUMNS

    def default(self, obj: Obj) -> None:
        if obj.get("count") is None:
            obj["count"] = 1
        if obj.get("eventTime"):
            return  # the newer shape: eventTime and series replace the two timestamps
        if not obj.get("firstTimestamp"):
            obj["firstTimestamp"] = (
                obj.get("lastTimestamp")
                or get_path(obj, "metadata", "creationTimestamp")
                or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            )
        if not obj.get("lastTimestamp"):
            obj["lastTimestamp"] = obj["firstTimestamp"]

    def validate(self, obj: Obj) -> list[Cause]:
        causes = super().validate(obj)
        involved = obj.get("involvedObject")
        if not isinstance(involved, dict) or not involved:
            causes.append(required("involvedObject"))
        causes += _validate_namespace_match(obj)
        kind = obj.get("type")
        if kind and kind not in TYPES:
            causes.append(unsupported_value("type", kind, TYPES))
        if obj.get("eventTime"):
            causes += _validate_new_shape(obj)
        return causes

    def row(self, obj: Obj, now: datetime) -> list[Any]:
        first = since(obj.get("firstTimestamp") or obj.get("eventTime"), now)
        last = since(obj.get("lastTimestamp"), now) if obj.get("lastTimestamp") else first
        count = obj.get("count")
        series = obj.get("series")
        if isinstance(series, dict):
            last = since(series.get("lastObservedTime"), now)
            count = series.get("count")
        elif not count:
            count = 1  # a singleton event of the newer shape carries no count
        return [
            last,
            text(obj.get("type")),
            text(obj.get("reason")),
            object_cell(obj),
            text(get_path(obj, "involvedObject", "fieldPath")),
            source_cell(obj),
            text(obj.get("message")).strip(),
            first,
            count,
            get_path(obj, "metadata", "name"),
        ]

    def field_values(self, obj: Obj) -> dict[str, str]:
        involved = mapping(obj.get("involvedObject"))
        values = super().field_values(obj)
        for key in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion",
                    "fieldPath"):
            values[f"involvedObject.{key}"] = text(involved.get(key))
        values["reason"] = text(obj.get("reason"))
        values["reportingComponent"] = text(obj.get("reportingComponent"))
        values["source"] = (
            text(get_path(obj, "source", "component")) or text(obj.get("reportingComponent"))
        )
        values["type"] = text(obj.get("type"))
        return values


def _validate_namespace_match(obj: Obj) -> list[Cause]:
    """An event sits in its object's namespace; with none, in `default` (or kube-system)."""
    namespace = text(get_path(obj, "metadata", "namespace"))
    involved = text(get_path(obj, "involvedObject", "namespace"))
    if involved:
        matches = involved == namespace
    elif obj.get("eventTime"):
        matches = namespace in (DEFAULT_NAMESPACE, "kube-system")
    else:
        matches = namespace in ("", DEFAULT_NAMESPACE)
    if matches:
        return []
    return [invalid_value("involvedObject.namespace", involved, "does not match event.namespace")]


def _validate_new_shape(obj: Obj) -> list[Cause]:
    """Events with `eventTime` must say who reported them, what was done, and why."""
    causes: list[Cause] = []
    for key in ("reportingComponent", "reportingInstance", "action", "reason"):
        if not obj.get(key):
            causes.append(required(key))
    for key, limit in _FIELD_LIMITS:
        if len(text(obj.get(key))) > limit:
            causes.append(invalid_value(key, "", f"can have at most {limit} characters"))
    return causes


def object_cell(obj: Obj) -> str:
    """`deployment/web`: the lower-cased kind and the name, as kubectl prints it."""
    involved = mapping(obj.get("involvedObject"))
    kind = text(involved.get("kind")).lower()
    name = text(involved.get("name"))
    return f"{kind}/{name}" if name else kind


def source_cell(obj: Obj) -> str:
    """`kubelet, node-1`: the reporting component and, when known, its host."""
    component = text(get_path(obj, "source", "component")) or text(obj.get("reportingComponent"))
    host = text(get_path(obj, "source", "host")) or text(obj.get("reportingInstance"))
    return f"{component}, {host}" if host else component


STRATEGY = EventStrategy(KIND, tracks_generation=False)
