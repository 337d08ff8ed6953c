"""Render `Definition`s as OpenAPI v3 schemas (`components.schemas` of a document).

Flow: root definition names -> every definition they reach -> JSON-ready dicts. Object
fields become `$ref`s (wrapped in `allOf` when the field carries its own description, as
Kubernetes does); int-or-string, quantity and time fields refer to the apimachinery
types, which this module adds itself because the client models inline them. A field with
no description of its own borrows that of the type it refers to (the client models lose
the descriptions of such fields). Without it `kubectl explain deployment.spec` lists
`<no description>` for selector, strategy and template; the price is that explaining
such a field itself prints the type's description twice (field, then type).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from edgekube.resources.schema import Definition, FieldSchema, SchemaSet

REF_PREFIX = "#/components/schemas/"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
TIME = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
PATCH = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"

# Field types that refer to one of the types above instead of being inlined.
_SPECIAL_REFS = {"quantity": QUANTITY, "int-or-string": INT_OR_STRING, "time": TIME}

_INTEGER_OR_STRING = [{"type": "integer"}, {"type": "string"}]
SPECIAL_SCHEMAS: dict[str, dict[str, Any]] = {
    QUANTITY: {
        "description": (
            "Quantity is a fixed-point representation of a number, written as a number "
            "with an optional suffix: binary (Ki, Mi, Gi, Ti, Pi, Ei), decimal (m, k, M, "
            "G, T, P, E) or a decimal exponent (e3, E6). Examples: 500m, 128Mi, 2, 1.5G."
        ),
        "anyOf": _INTEGER_OR_STRING,
        "x-kubernetes-int-or-string": True,
    },
    INT_OR_STRING: {
        "description": (
            "IntOrString holds either an integer or a string, such as a port number or "
            "a named port, or an absolute number or a percentage."
        ),
        "anyOf": _INTEGER_OR_STRING,
        "x-kubernetes-int-or-string": True,
    },
    TIME: {
        "description": "Time is a point in time, written as an RFC 3339 date-time in UTC.",
        "type": "string",
        "format": "date-time",
    },
    PATCH: {
        "description": "Patch is the body of a PATCH request; its media type says how to apply it.",
        "type": "object",
    },
}

_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number", "format": "double"},
    "boolean": {"type": "boolean"},
    "bytes": {"type": "string", "format": "byte"},
    "any": {},
}


def reachable(schema: SchemaSet, roots: Iterable[str]) -> list[str]:
    """Names of `roots` and every definition (or special type) they refer to, sorted."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        definition = schema.get(name)
        if definition is None:
            continue
        for fs in definition.properties.values():
            stack.extend(_refs(fs))
    return sorted(seen)


def _refs(fs: FieldSchema) -> list[str]:
    if fs.items is not None:
        return _refs(fs.items)
    if fs.type == "object" and fs.ref:
        return [fs.ref]
    special = _SPECIAL_REFS.get(fs.type)
    return [special] if special else []


def render_schemas(
    schema: SchemaSet, names: Iterable[str], extra_gvks: dict[str, list[dict[str, str]]]
) -> dict[str, Any]:
    """`components.schemas` for `names`; `extra_gvks` adds gvk entries by definition name."""
    out: dict[str, Any] = {}
    for name in names:
        if name in SPECIAL_SCHEMAS:
            out[name] = SPECIAL_SCHEMAS[name]
            continue
        definition = schema.get(name)
        if definition is not None:
            out[name] = render_definition(schema, definition, extra_gvks.get(name, []))
    return out


def gvk_entry(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "version": version, "kind": kind}


def render_definition(
    schema: SchemaSet, definition: Definition, extra_gvks: list[dict[str, str]]
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object"}
    if definition.description:
        out["description"] = definition.description
    out["properties"] = {
        name: render_field(schema, fs, borrow=True)
        for name, fs in sorted(definition.properties.items())
    }
    if definition.required:
        out["required"] = sorted(definition.required)
    gvks = ([gvk_entry(*definition.gvk)] if definition.gvk else []) + extra_gvks
    if gvks:
        out["x-kubernetes-group-version-kind"] = gvks
    return out


def render_field(schema: SchemaSet, fs: FieldSchema, *, borrow: bool = False) -> dict[str, Any]:
    """One property, array element or map value; `borrow`: describe by the referred type."""
    description = fs.description
    ref = fs.ref if fs.type == "object" else _SPECIAL_REFS.get(fs.type, "")
    if ref:
        if not description and borrow:
            description = _description_of(schema, ref)
        out: dict[str, Any] = {"allOf": [{"$ref": REF_PREFIX + ref}]} if description else {
            "$ref": REF_PREFIX + ref
        }
    elif fs.type == "array":
        out = {"type": "array", "items": render_field(schema, _element(fs))}
    elif fs.type == "map":
        out = {"type": "object", "additionalProperties": render_field(schema, _element(fs))}
    else:
        out = dict(_SCALARS.get(fs.type, {}))
    if description:
        out["description"] = description
    if fs.patch_strategy:
        out["x-kubernetes-patch-strategy"] = fs.patch_strategy
    if fs.patch_merge_key:
        out["x-kubernetes-patch-merge-key"] = fs.patch_merge_key
    return out


def _element(fs: FieldSchema) -> FieldSchema:
    return fs.items if fs.items is not None else FieldSchema("any")


def _description_of(schema: SchemaSet, name: str) -> str:
    definition = schema.get(name)
    if definition is not None:
        return definition.description
    return str(SPECIAL_SCHEMAS.get(name, {}).get("description", ""))
