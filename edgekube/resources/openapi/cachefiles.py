"""The schema cache file: how a `SchemaSet` is written by the builder and read back.

One JSON object, `{"format": N, "definitions": {name: definition}}`, where a definition
is `{"d": description, "p": {json name: field}, "r": [required], "g": [group, version,
kind]}` and a field is `{"t": type, "ref": ..., "items": field, "ps": patch strategy,
"pk": merge key, "d": description}`; keys holding their default are left out.

Decoding can drop descriptions (validation never reads them) and interns equal
`FieldSchema`s, so the thousands of plain `string` fields share one object.
"""

from __future__ import annotations

from typing import Any

from edgekube.resources.schema import Definition, FieldSchema, SchemaSet

# Bump when the layout changes: a cache in another format is rebuilt, not misread.
FORMAT = 1


class CacheFormatError(ValueError):
    """The cache file is not a schema in the current format."""


def encode(schema: SchemaSet) -> dict[str, Any]:
    """The JSON form of `schema`, descriptions included."""
    return {
        "format": FORMAT,
        "definitions": {name: _encode_definition(d) for name, d in schema.definitions.items()},
    }


def decode(data: Any, *, descriptions: bool) -> SchemaSet:
    """A `SchemaSet` from the JSON form; without descriptions unless asked."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CacheFormatError("not a schema cache in the current format")
    interned: dict[FieldSchema, FieldSchema] = {}
    definitions: dict[str, Definition] = {}
    try:
        for name, raw in data["definitions"].items():
            definitions[name] = _decode_definition(name, raw, descriptions, interned)
    except (KeyError, TypeError, AttributeError) as err:
        raise CacheFormatError(f"malformed schema cache: {err!r}") from err
    return SchemaSet(definitions)


def _encode_definition(d: Definition) -> dict[str, Any]:
    out: dict[str, Any] = {"p": {k: _encode_field(v) for k, v in d.properties.items()}}
    if d.description:
        out["d"] = d.description
    if d.required:
        out["r"] = list(d.required)
    if d.gvk is not None:
        out["g"] = list(d.gvk)
    return out


def _encode_field(fs: FieldSchema) -> dict[str, Any]:
    out: dict[str, Any] = {"t": fs.type}
    if fs.ref:
        out["ref"] = fs.ref
    if fs.items is not None:
        out["items"] = _encode_field(fs.items)
    if fs.patch_strategy:
        out["ps"] = fs.patch_strategy
    if fs.patch_merge_key:
        out["pk"] = fs.patch_merge_key
    if fs.description:
        out["d"] = fs.description
    return out


def _decode_definition(
    name: str, raw: dict[str, Any], descriptions: bool, interned: dict[FieldSchema, FieldSchema]
) -> Definition:
    gvk = raw.get("g")
    return Definition(
        name=name,
        properties={
            k: _decode_field(v, descriptions, interned) for k, v in raw["p"].items()
        },
        required=tuple(raw.get("r", ())),
        description=raw.get("d", "") if descriptions else "",
        gvk=(gvk[0], gvk[1], gvk[2]) if gvk else None,
    )


def _decode_field(
    raw: dict[str, Any], descriptions: bool, interned: dict[FieldSchema, FieldSchema]
) -> FieldSchema:
    items = raw.get("items")
    fs = FieldSchema(
        type=raw["t"],
        ref=raw.get("ref", ""),
        items=_decode_field(items, descriptions, interned) if items is not None else None,
        patch_strategy=raw.get("ps", ""),
        patch_merge_key=raw.get("pk", ""),
        description=raw.get("d", "") if descriptions else "",
    )
    return interned.setdefault(fs, fs)
