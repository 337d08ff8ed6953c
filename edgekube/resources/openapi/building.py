"""Build the schema of the served kinds from the kubernetes client's models (child process).

Run as `python -m edgekube.resources.openapi.building OUT_PATH`. Importing the client's
pydantic models costs tens of megabytes, so the server never does it itself: it runs
this module once in a child process, which walks from the served kinds to every type
they reference and writes a compact cache file (see `cachefiles`) atomically to OUT_PATH.

What flows through: model class -> `Definition` named Kubernetes-style
(`io.k8s.api.apps.v1.DeploymentSpec`) -> JSON. A type is named after the package of the
first kind that reaches it, so the walk order (core first) decides, except for the types
in `FIXED_PACKAGES` (apimachinery's meta/v1 and a few core types). What the generated
models lost is added back from our tables: patch strategies (`patchmeta`) and which
string fields are resource quantities (`QUANTITY_FIELDS`).
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import types
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import orjson

from edgekube.resources.openapi import cachefiles
from edgekube.resources.openapi.patchmeta import PATCH_META
from edgekube.resources.registry import default_registry
from edgekube.resources.schema import Definition, FieldSchema, SchemaSet

META_PACKAGE = "io.k8s.apimachinery.pkg.apis.meta.v1"
CORE_PACKAGE = "io.k8s.api.core.v1"

# Types whose Kubernetes package is not that of the first kind reaching them.
FIXED_PACKAGES = {
    **dict.fromkeys(
        ("ObjectMeta", "ListMeta", "LabelSelector", "LabelSelectorRequirement",
         "OwnerReference", "ManagedFieldsEntry", "Status", "StatusDetails", "StatusCause",
         "DeleteOptions", "Preconditions", "WatchEvent", "Condition"),
        META_PACKAGE,
    ),
    # Reached first from apps (Deployment) and storage (StorageClass), declared in core.
    **dict.fromkeys(
        ("PodTemplateSpec", "TopologySelectorTerm", "TopologySelectorLabelRequirement"),
        CORE_PACKAGE,
    ),
}

# Fields Kubernetes declares as resource.Quantity (or maps of them, ResourceList); the
# generated client types them as plain strings.
QUANTITY_FIELDS = frozenset({
    ("ResourceRequirements", "limits"),
    ("ResourceRequirements", "requests"),
    ("VolumeResourceRequirements", "limits"),
    ("VolumeResourceRequirements", "requests"),
    ("NodeStatus", "capacity"),
    ("NodeStatus", "allocatable"),
    ("PersistentVolumeSpec", "capacity"),
    ("PersistentVolumeClaimStatus", "capacity"),
    ("PersistentVolumeClaimStatus", "allocatedResources"),
    ("PodSpec", "overhead"),
    ("ContainerStatus", "allocatedResources"),
    ("PodStatus", "allocatedResources"),
    ("NodeAllocatableMappedResources", "quantity"),
    ("NodeAllocatableOverheadResources", "perContainer"),
    ("NodeAllocatableOverheadResources", "perPod"),
    ("EmptyDirVolumeSource", "sizeLimit"),
    ("ResourceFieldSelector", "divisor"),
})

# Kinds outside the registry that subresources and responses need: (group, version, kind).
EXTRA_KINDS = (
    ("", "v1", "Binding"),
    ("autoscaling", "v1", "Scale"),
    ("", "v1", "Status"),
    ("", "v1", "DeleteOptions"),
    ("", "v1", "WatchEvent"),
)

# `CoreV1Event` -> `Event`, `V1APIGroup` -> `APIGroup`: the group prefix the generator
# adds to disambiguate, then the version.
_CLASS_PREFIX = re.compile(r"^(?:[A-Z][a-z]+)?V\d+(?:alpha\d+|beta\d+)?(?=[A-Z])")
# The generator appends this to every class docstring.
_DOC_BOILERPLATE = re.compile(r"\n\s*Attributes:\s*\n\s*openapi_types.*", re.DOTALL)


class BuildError(RuntimeError):
    """The models do not have the shape the builder expects."""


def package_of(group: str, version: str) -> str:
    """`io.k8s.api.apps.v1`; the core group is `core`, `storage.k8s.io` is `storage`."""
    return f"io.k8s.api.{group.split('.')[0] if group else 'core'}.{version}"


def short_name(class_name: str) -> str:
    return _CLASS_PREFIX.sub("", class_name, count=1)


def model_class(models: Any, group: str, version: str, kind: str) -> type[Any]:
    """The client's model for a kind: `CoreV1Event` when the generator prefixed it, else `V1Pod`."""
    prefix = group.split(".")[0].capitalize() if group else "Core"
    ver = version.capitalize()
    for name in (f"{prefix}{ver}{kind}", f"{ver}{kind}"):
        cls = getattr(models, name, None)
        if isinstance(cls, type):
            return cls
    raise BuildError(f"no model class for {group}/{version} {kind}")


def _describe(cls: type[Any]) -> str:
    doc = inspect.cleandoc(cls.__doc__ or "")
    return _DOC_BOILERPLATE.sub("", "\n" + doc).strip()


def _bare(annotation: Any) -> Any:
    """`Annotated[str, Strict()]` -> `str`."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


class _Builder:
    """One walk over the models; `definitions` fills up as classes are reached."""

    def __init__(self) -> None:
        self.definitions: dict[str, Definition] = {}
        self._names: dict[type[Any], str] = {}
        self._patch_used: set[tuple[str, str]] = set()
        self._quantity_used: set[tuple[str, str]] = set()

    def add_root(self, cls: type[Any], package: str, gvk: tuple[str, str, str]) -> None:
        name = self._walk(cls, package)
        d = self.definitions[name]
        self.definitions[name] = Definition(
            name=d.name, properties=d.properties, required=d.required,
            description=d.description, gvk=gvk,
        )

    def check_tables_used(self) -> None:
        """Every table entry must have matched a field: a miss is a typo or a renamed field."""
        unused = (set(PATCH_META) - self._patch_used) | (QUANTITY_FIELDS - self._quantity_used)
        if unused:
            raise BuildError(f"table entries match no field: {sorted(unused)}")

    def _walk(self, cls: type[Any], package: str) -> str:
        known = self._names.get(cls)
        if known is not None:
            return known
        short = short_name(cls.__name__)
        name = f"{FIXED_PACKAGES.get(short, package)}.{short}"
        if name in self.definitions:
            raise BuildError(f"{cls.__name__} and another class both map to {name}")
        self._names[cls] = name
        # A placeholder first, so a type that reaches itself ends the recursion.
        self.definitions[name] = Definition(name=name)
        package = name.rsplit(".", 1)[0]
        properties: dict[str, FieldSchema] = {}
        required: list[str] = []
        for attr, info in cls.model_fields.items():
            json_name = info.serialization_alias or attr
            fs = self._convert(info.annotation, package)
            fs = self._apply_tables(fs, short, json_name)
            properties[json_name] = FieldSchema(
                type=fs.type, ref=fs.ref, items=fs.items, patch_strategy=fs.patch_strategy,
                patch_merge_key=fs.patch_merge_key, description=info.description or "",
            )
            if info.is_required():
                required.append(json_name)
        self.definitions[name] = Definition(
            name=name, properties=properties, required=tuple(required),
            description=_describe(cls),
        )
        return name

    def _convert(self, annotation: Any, package: str) -> FieldSchema:
        annotation = _bare(annotation)
        origin = get_origin(annotation)
        args = get_args(annotation)
        if origin in (Union, types.UnionType):
            return self._convert_union([a for a in args if a is not type(None)], package)
        if origin is list:
            return FieldSchema("array", items=self._convert(args[0], package))
        if origin is dict:
            return FieldSchema("map", items=self._convert(args[1], package))
        scalar = _SCALARS.get(annotation)
        if scalar is not None:
            return FieldSchema(scalar)
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            return FieldSchema("object", ref=self._walk(annotation, package))
        raise BuildError(f"unsupported annotation {annotation!r}")

    def _convert_union(self, options: list[Any], package: str) -> FieldSchema:
        if len(options) == 1:
            return self._convert(options[0], package)
        bare = {_bare(o) for o in options}
        if bare == {int, str}:
            return FieldSchema("int-or-string")
        if bare == {bytes, str}:
            return FieldSchema("bytes")
        if bare == {float, int}:
            return FieldSchema("number")
        return FieldSchema("any")

    def _apply_tables(self, fs: FieldSchema, short: str, json_name: str) -> FieldSchema:
        key = (short, json_name)
        if key in QUANTITY_FIELDS:
            self._quantity_used.add(key)
            fs = _as_quantity(fs, key)
        meta = PATCH_META.get(key)
        if meta is not None:
            self._patch_used.add(key)
            fs = FieldSchema(
                type=fs.type, ref=fs.ref, items=fs.items,
                patch_strategy=meta.strategy, patch_merge_key=meta.merge_key,
            )
        return fs


_SCALARS: dict[Any, str] = {
    str: "string", int: "integer", bool: "boolean", float: "number",
    datetime: "time", bytes: "bytes", Any: "any",
}


def _as_quantity(fs: FieldSchema, key: tuple[str, str]) -> FieldSchema:
    if fs.type == "string":
        return FieldSchema("quantity")
    if fs.type == "map" and fs.items is not None and fs.items.type == "string":
        return FieldSchema("map", items=FieldSchema("quantity"))
    raise BuildError(f"{key} is listed as a quantity but is {fs.type}")


def build_schema() -> SchemaSet:
    """Every definition reachable from the served kinds and `EXTRA_KINDS`."""
    import kubernetes.client.models as models  # the expensive import, only ever here

    builder = _Builder()
    for kind in default_registry().kinds():
        package = package_of(kind.group, kind.version)
        for name in (kind.kind, kind.list_kind):
            cls = model_class(models, kind.group, kind.version, name)
            builder.add_root(cls, package, (kind.group, kind.version, name))
    for group, version, kind_name in EXTRA_KINDS:
        cls = model_class(models, group, version, kind_name)
        builder.add_root(cls, package_of(group, version), (group, version, kind_name))
    builder.check_tables_used()
    return SchemaSet(builder.definitions)


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a sibling temporary file, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write(f"usage: {argv[0]} OUT_PATH\n")
        return 2
    schema = build_schema()
    write_atomically(Path(argv[1]), orjson.dumps(cachefiles.encode(schema)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
