"""Where a JSON object sits in the structural schema, as strategic merge patch walks it.

A `Shape` is one of three things: a struct (a `Definition`, fields by name), a map (every
value has the same schema) or unknown (no schema, or a field the schema does not name).
Unknown shapes answer None for every field, which makes the merge fall back to JSON
merge patch for that subtree.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgekube.resources.schema import Definition, FieldSchema, SchemaSet


@dataclass(frozen=True)
class Shape:
    """The schema of one JSON object: a struct, a map's values, or unknown."""

    schema: SchemaSet | None
    definition: Definition | None = None
    values: FieldSchema | None = None  # for a map: the schema of each value

    def field(self, name: str) -> FieldSchema | None:
        """The schema of this object's member `name`, or None when unknown."""
        if self.schema is None:
            return None
        if self.definition is not None:
            return self.schema.field_of(self.definition, name)
        return self.values

    def enter(self, fs: FieldSchema | None) -> Shape:
        """The shape of an object held by a field (or list element) of schema `fs`."""
        if self.schema is None or fs is None:
            return Shape(self.schema)
        if fs.type == "object":
            return Shape(self.schema, definition=self.schema.resolve(fs))
        if fs.type == "map":
            return Shape(self.schema, values=fs.items)
        return Shape(self.schema)


def strategies(fs: FieldSchema | None) -> frozenset[str]:
    """The field's patch strategies: "merge,retainKeys" -> {"merge", "retainKeys"}."""
    if fs is None or not fs.patch_strategy:
        return frozenset()
    return frozenset(part.strip() for part in fs.patch_strategy.split(","))


def is_merge_list(fs: FieldSchema | None) -> bool:
    """Whether a list field merges element-wise rather than being replaced whole."""
    return fs is not None and fs.type == "array" and "merge" in strategies(fs)


def holds_objects(fs: FieldSchema) -> bool:
    """Whether a merge list's elements are objects matched by the field's merge key."""
    if not fs.patch_merge_key:
        return False
    return fs.items is None or fs.items.type in ("object", "map", "any")
