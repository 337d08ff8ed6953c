"""The OpenAPI v3 documents served at /openapi/v3: one per group-version, plus an index.

Flow: `SchemaSet` (with descriptions) + `Registry` -> one JSON document per served
group-version (its kinds' paths and every schema they reach) -> bytes, rendered once;
the schema with descriptions is not kept. The index lists each document's URL with a
content hash (`?hash=`, SHA-512 of the JSON bytes, as Kubernetes does) so clients such
as kubectl cache a document until its hash changes.

Documents are kept gzip-compressed (about 140 KB instead of 900 KB for the four served
group-versions): kubectl accepts gzip, so most requests are served as stored and only
other clients pay for decompressing.
"""

from __future__ import annotations

import gzip
import hashlib
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from edgekube.resources.openapi.components import PATCH, gvk_entry, reachable, render_schemas
from edgekube.resources.openapi.loading import load_schema
from edgekube.resources.openapi.operations import Schemas, kind_paths
from edgekube.resources.registry import GroupVersion, Registry
from edgekube.resources.schema import SchemaSet
from edgekube.resources.strategy import Kind

# Kinds every document refers to; each is (group, version, kind) of a built definition.
STATUS = ("", "v1", "Status")
DELETE_OPTIONS = ("", "v1", "DeleteOptions")
WATCH_EVENT = ("", "v1", "WatchEvent")
SCALE = ("autoscaling", "v1", "Scale")
BINDING = ("", "v1", "Binding")


class OpenAPIDocuments:
    """Rendered documents by group-version path (`api/v1`, `apis/apps/v1`), and the index."""

    def __init__(self, documents: dict[str, bytes]) -> None:
        """`documents`: JSON bytes by group-version path."""
        # mtime=0 keeps the compressed bytes the same from one start to the next.
        self._gzipped = {p: gzip.compress(doc, mtime=0) for p, doc in documents.items()}
        self._hashes = {path: content_hash(doc) for path, doc in documents.items()}
        self._index = orjson.dumps({"paths": {
            path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
            for path, digest in self._hashes.items()
        }})
        self._index_hash = content_hash(self._index)

    @classmethod
    def load(cls, cache_path: Path, registry: Registry) -> OpenAPIDocuments:
        """Render from the schema cache (built if missing). Blocking: run it in a thread."""
        return cls.from_schema(load_schema(cache_path, descriptions=True), registry)

    @classmethod
    def from_schema(cls, schema: SchemaSet, registry: Registry) -> OpenAPIDocuments:
        return cls({
            gv.path: orjson.dumps(render_document(schema, registry, gv))
            for gv in registry.group_versions()
        })

    def index(self) -> bytes:
        return self._index

    def index_hash(self) -> str:
        return self._index_hash

    def document(self, gv_path: str) -> bytes | None:
        """The JSON document of `gv_path` (`api/v1`, `apis/apps/v1`), or None if not served."""
        stored = self._gzipped.get(gv_path)
        return gzip.decompress(stored) if stored is not None else None

    def document_gzip(self, gv_path: str) -> bytes | None:
        """The same document, gzip-compressed, as stored."""
        return self._gzipped.get(gv_path)

    def hash(self, gv_path: str) -> str | None:
        """The content hash the index advertises for `gv_path`."""
        return self._hashes.get(gv_path)

    def group_version_paths(self) -> list[str]:
        return list(self._gzipped)


def content_hash(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest().upper()


def render_document(schema: SchemaSet, registry: Registry, gv: GroupVersion) -> dict[str, Any]:
    """The OpenAPI v3 document of one group-version, as a JSON-ready dict."""
    kinds = [s.kind for s in registry.in_group_version(gv.group, gv.version)]
    common = Schemas(
        kind="", list="",
        status=_name(schema, STATUS),
        delete_options=_name(schema, DELETE_OPTIONS),
        watch_event=_name(schema, WATCH_EVENT),
        scale=_name(schema, SCALE) if any(k.has_scale for k in kinds) else "",
    )
    roots = [common.status, common.delete_options, common.watch_event, PATCH]
    roots += [common.scale] if common.scale else []
    roots += [_name(schema, BINDING)] if gv.group == "" else []
    paths: dict[str, Any] = {}
    for kind in kinds:
        names = _kind_schemas(schema, kind, common)
        roots += [names.kind, names.list]
        paths.update(kind_paths(kind, names))
    # Meta kinds shared by every group are declared as kinds of this one too, as in
    # Kubernetes, so a client looking them up by this group-version finds them.
    shared = [gvk_entry(gv.group, gv.version, k) for k in ("DeleteOptions", "WatchEvent")]
    extra = {} if gv.group == "" else {
        common.delete_options: [shared[0]], common.watch_event: [shared[1]]
    }
    return {
        "openapi": "3.0.0",
        "info": {"title": "EdgeKube", "version": _version()},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": render_schemas(schema, reachable(schema, roots), extra)},
    }


def _kind_schemas(schema: SchemaSet, kind: Kind, common: Schemas) -> Schemas:
    return Schemas(
        kind=_name(schema, (kind.group, kind.version, kind.kind)),
        list=_name(schema, (kind.group, kind.version, kind.list_kind)),
        status=common.status,
        delete_options=common.delete_options,
        watch_event=common.watch_event,
        scale=common.scale if kind.has_scale else "",
    )


def _name(schema: SchemaSet, gvk: tuple[str, str, str]) -> str:
    definition = schema.for_kind(*gvk)
    if definition is None:
        raise LookupError(f"the schema has no definition for {gvk}")
    return definition.name


def _version() -> str:
    try:
        return f"v{metadata.version('edgekube')}"
    except metadata.PackageNotFoundError:
        return "unknown"
