"""The structural schema of the served kinds: types, JSON names and patch strategies.

This is the contract between the parts that need to know an object's shape:
strict field validation and pruning of unknown fields, strategic merge patch (which
needs each list's patch strategy and merge key) and the OpenAPI documents served to
kubectl. `edgekube.resources.openapi` builds a `SchemaSet`; the others only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Field types. "object" fields name a Definition in `ref`; "array" and "map" fields hold
# their element schema in `items`. "int-or-string" and "quantity" accept either an integer
# or a string; "time" is an RFC 3339 string; "any" accepts anything (RawExtension, FieldsV1).
FIELD_TYPES = frozenset(
    {
        "object",
        "array",
        "map",
        "string",
        "integer",
        "number",
        "boolean",
        "int-or-string",
        "quantity",
        "time",
        "bytes",
        "any",
    }
)


@dataclass(frozen=True)
class FieldSchema:
    """The schema of one field, one list element or one map value."""

    type: str
    ref: str = ""  # for "object": the Definition name
    items: FieldSchema | None = None  # for "array" and "map": the element schema
    # Strategic merge patch: "merge", "replace", "retainKeys" or "merge,retainKeys";
    # empty means the list is replaced whole (atomic) and a map is merged key by key.
    patch_strategy: str = ""
    patch_merge_key: str = ""
    description: str = ""


@dataclass(frozen=True)
class Definition:
    """An object type: its properties by JSON name."""

    name: str  # e.g. "io.k8s.api.apps.v1.DeploymentSpec"
    properties: dict[str, FieldSchema] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    description: str = ""
    # (group, version, kind) for the top-level kinds, as x-kubernetes-group-version-kind.
    gvk: tuple[str, str, str] | None = None


@dataclass
class SchemaSet:
    """Every definition reachable from the served kinds, by name."""

    definitions: dict[str, Definition] = field(default_factory=dict)

    def get(self, name: str) -> Definition | None:
        return self.definitions.get(name)

    def for_kind(self, group: str, version: str, kind: str) -> Definition | None:
        for d in self.definitions.values():
            if d.gvk == (group, version, kind):
                return d
        return None

    def field_of(self, definition: Definition | None, name: str) -> FieldSchema | None:
        """The schema of `definition`'s field `name`, or None when unknown."""
        if definition is None:
            return None
        return definition.properties.get(name)

    def resolve(self, fs: FieldSchema | None) -> Definition | None:
        """The Definition an "object" field refers to."""
        if fs is None or fs.type != "object" or not fs.ref:
            return None
        return self.definitions.get(fs.ref)
