"""The `paths` of an OpenAPI v3 document: each served kind's URLs and their operations.

Flow: `Kind` (+ the definition names of its schemas) -> {URL template: path item}. One
path item per URL: the collection (`.../namespaces/{namespace}/pods`), the item
(`.../{name}`), the cluster-wide list of namespaced kinds (`/api/v1/pods`) and the
`status` and `scale` subresources where the kind has them. Operations are named and
tagged as Kubernetes names them (`listCoreV1NamespacedPod`) and carry
`x-kubernetes-action` and `x-kubernetes-group-version-kind`.

Invariant kubectl relies on: every write operation declares the `fieldValidation` query
parameter itself (not at path level). kubectl looks for it on the PATCH operation of a
kind to decide whether the server validates fields, and takes whichever PATCH operation
of that kind it meets first, subresources included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgekube.resources.openapi.components import PATCH, REF_PREFIX
from edgekube.resources.strategy import Kind

# Query parameters: name -> (JSON type, description).
_QUERY: dict[str, tuple[str, str]] = {
    "pretty": ("string", "If 'true', the output is indented for people to read."),
    "dryRun": ("string", "If present, the request is checked but not persisted. "
               "The only valid value is 'All'."),
    "fieldManager": ("string", "A name for the actor making these changes, recorded in "
                     "managedFields."),
    "fieldValidation": ("string", "What to do with unknown or duplicate fields in the body: "
                        "'Ignore' drops them, 'Warn' drops them and returns a warning for "
                        "each, 'Strict' fails the request. Defaults to 'Warn'."),
    "force": ("boolean", "Take ownership of conflicting fields in an apply request."),
    "gracePeriodSeconds": ("integer", "Seconds to wait before the object is deleted; zero "
                           "deletes at once."),
    "orphanDependents": ("boolean", "Deprecated: use propagationPolicy. Whether dependents "
                         "are orphaned."),
    "propagationPolicy": ("string", "Whether and how dependents are garbage collected: "
                          "'Orphan', 'Background' or 'Foreground'."),
    "ignoreStoreReadErrorWithClusterBreakingPotential": (
        "boolean", "Delete an object that cannot be read from storage. Dangerous."),
    "allowWatchBookmarks": ("boolean", "Ask for BOOKMARK events in a watch."),
    "continue": ("string", "The continue token of the previous page of a paged list."),
    "fieldSelector": ("string", "Only objects whose fields match, e.g. metadata.name=web."),
    "labelSelector": ("string", "Only objects whose labels match, e.g. app=web,tier!=db."),
    "limit": ("integer", "The most objects to return; the rest come with a continue token."),
    "resourceVersion": ("string", "Which version of the data to read or to watch from."),
    "resourceVersionMatch": ("string", "How resourceVersion applies to a list: 'Exact' or "
                             "'NotOlderThan'."),
    "sendInitialEvents": ("boolean", "Start a watch with the current objects as ADDED "
                          "events, followed by a bookmark."),
    "timeoutSeconds": ("integer", "End a list or watch after this many seconds."),
    "watch": ("boolean", "Watch for changes instead of listing."),
}

_READ = ("pretty",)
_LIST = ("pretty", "allowWatchBookmarks", "continue", "fieldSelector", "labelSelector",
         "limit", "resourceVersion", "resourceVersionMatch", "sendInitialEvents",
         "timeoutSeconds", "watch")
_WRITE = ("pretty", "dryRun", "fieldManager", "fieldValidation")
_PATCH = (*_WRITE, "force")
_DELETE = ("pretty", "dryRun", "gracePeriodSeconds",
           "ignoreStoreReadErrorWithClusterBreakingPotential", "orphanDependents",
           "propagationPolicy")
_DELETE_COLLECTION = (*_DELETE, "continue", "fieldSelector", "labelSelector", "limit",
                      "resourceVersion", "resourceVersionMatch", "sendInitialEvents",
                      "timeoutSeconds")

_PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json",
                "application/merge-patch+json", "application/strategic-merge-patch+json")
_UNAUTHORIZED = {"401": {"description": "Unauthorized"}}


@dataclass(frozen=True)
class Schemas:
    """Definition names the operations of one kind refer to."""

    kind: str
    list: str
    status: str  # meta/v1 Status
    delete_options: str
    watch_event: str
    scale: str = ""  # autoscaling/v1 Scale, for kinds with a scale subresource


def kind_paths(kind: Kind, schemas: Schemas) -> dict[str, Any]:
    """Every URL of `kind` with its operations, keyed by URL template."""
    base = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
    scope = f"{base}/namespaces/{{namespace}}" if kind.namespaced else base
    collection = f"{scope}/{kind.plural}"
    item = f"{collection}/{{name}}"
    ops = _Ops(kind, schemas)
    verbs = set(kind.verbs)
    paths: dict[str, Any] = {}

    coll_ops: dict[str, Any] = {}
    if verbs & {"list", "watch"}:
        coll_ops["get"] = ops.list_op(all_namespaces=False)
    if "create" in verbs:
        coll_ops["post"] = ops.write("post", "create", "create a", ("200", "201", "202"))
    if "deletecollection" in verbs:
        coll_ops["delete"] = ops.delete_collection()
    paths[collection] = _path_item(coll_ops, kind.namespaced, with_name=False)

    item_ops: dict[str, Any] = {}
    if "get" in verbs:
        item_ops["get"] = ops.read("", schemas.kind, ops.gvk)
    if "update" in verbs:
        item_ops["put"] = ops.write("put", "replace", "replace the specified", ("200", "201"))
    if "patch" in verbs:
        item_ops["patch"] = ops.patch("", schemas.kind, ops.gvk)
    if "delete" in verbs:
        item_ops["delete"] = ops.delete()
    paths[item] = _path_item(item_ops, kind.namespaced, with_name=True)

    if kind.namespaced and verbs & {"list", "watch"}:
        paths[f"{base}/{kind.plural}"] = {"get": ops.list_op(all_namespaces=True)}
    if kind.has_status:
        paths[f"{item}/status"] = _path_item(
            ops.subresource("Status", schemas.kind, ops.gvk), kind.namespaced, with_name=True
        )
    if kind.has_scale and schemas.scale:
        scale_gvk = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
        paths[f"{item}/scale"] = _path_item(
            ops.subresource("Scale", schemas.scale, scale_gvk), kind.namespaced, with_name=True
        )
    return paths


def _path_item(operations: dict[str, Any], namespaced: bool, *, with_name: bool) -> dict[str, Any]:
    params = []
    if with_name:
        params.append(_path_param("name", "the name of the object"))
    if namespaced:
        params.append(_path_param("namespace", "the namespace of the object"))
    return {**operations, "parameters": params} if params else dict(operations)


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "description": description, "required": True,
            "schema": {"type": "string"}}


def _query(names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"name": n, "in": "query", "description": _QUERY[n][1], "schema": {"type": _QUERY[n][0]}}
        for n in names
    ]


def _content(ref: str, *types: str) -> dict[str, Any]:
    schema = {"$ref": REF_PREFIX + ref}
    return {t: {"schema": schema} for t in types or ("application/json", "application/yaml")}


def _responses(ref: str, codes: tuple[str, ...]) -> dict[str, Any]:
    words = {"200": "OK", "201": "Created", "202": "Accepted"}
    out: dict[str, Any] = {c: {"description": words[c], "content": _content(ref)} for c in codes}
    return {**out, **_UNAUTHORIZED}


class _Ops:
    """Builds the operation objects of one kind."""

    def __init__(self, kind: Kind, schemas: Schemas) -> None:
        self.kind = kind
        self.schemas = schemas
        self.gvk = {"group": kind.group, "version": kind.version, "kind": kind.kind}
        group = kind.group.split(".")[0] if kind.group else "core"
        self.tag = f"{group}_{kind.version}"
        self.prefix = f"{group.capitalize()}{kind.version.capitalize()}"
        self.scoped = f"Namespaced{kind.kind}" if kind.namespaced else kind.kind

    def _op(self, op_id: str, description: str, action: str, params: tuple[str, ...],
            responses: dict[str, Any], gvk: dict[str, str]) -> dict[str, Any]:
        verb, _, rest = op_id.partition(":")
        return {
            "tags": [self.tag],
            "description": description,
            "operationId": f"{verb}{self.prefix}{rest}",
            "parameters": _query(params),
            "responses": responses,
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
        }

    def list_op(self, *, all_namespaces: bool) -> dict[str, Any]:
        rest = f"{self.kind.kind}ForAllNamespaces" if all_namespaces else self.scoped
        responses = {"200": {"description": "OK", "content": {
            **_content(self.schemas.list),
            **_content(self.schemas.watch_event, "application/json;stream=watch"),
        }}, **_UNAUTHORIZED}
        return self._op(f"list:{rest}", f"list or watch objects of kind {self.kind.kind}",
                        "list", _LIST, responses, self.gvk)

    def read(self, sub: str, ref: str, gvk: dict[str, str]) -> dict[str, Any]:
        what = f"{sub.lower()} of the specified" if sub else "the specified"
        return self._op(f"read:{self.scoped}{sub}", f"read {what} {self.kind.kind}", "get",
                        _READ, _responses(ref, ("200",)), gvk)

    def write(self, method: str, verb: str, what: str, codes: tuple[str, ...],
              sub: str = "", ref: str = "", gvk: dict[str, str] | None = None) -> dict[str, Any]:
        ref = ref or self.schemas.kind
        op = self._op(f"{verb}:{self.scoped}{sub}", f"{what} {self.kind.kind}",
                      method, _WRITE, _responses(ref, codes), gvk or self.gvk)
        op["requestBody"] = {"content": _content(ref, "*/*"), "required": True}
        return op

    def patch(self, sub: str, ref: str, gvk: dict[str, str]) -> dict[str, Any]:
        what = f"{sub.lower()} of the specified" if sub else "the specified"
        op = self._op(f"patch:{self.scoped}{sub}", f"partially update {what} {self.kind.kind}",
                      "patch", _PATCH, _responses(ref, ("200", "201")), gvk)
        op["requestBody"] = {"content": _content(PATCH, *_PATCH_TYPES), "required": True}
        return op

    def delete(self) -> dict[str, Any]:
        op = self._op(f"delete:{self.scoped}", f"delete a {self.kind.kind}", "delete", _DELETE,
                      _responses(self.schemas.status, ("200", "202")), self.gvk)
        op["requestBody"] = {"content": _content(self.schemas.delete_options, "*/*")}
        return op

    def delete_collection(self) -> dict[str, Any]:
        op = self._op(f"deletecollection:{self.scoped}",
                      f"delete collection of {self.kind.kind}", "deletecollection",
                      _DELETE_COLLECTION, _responses(self.schemas.status, ("200",)), self.gvk)
        op["operationId"] = f"delete{self.prefix}Collection{self.scoped}"
        op["requestBody"] = {"content": _content(self.schemas.delete_options, "*/*")}
        return op

    def subresource(self, sub: str, ref: str, gvk: dict[str, str]) -> dict[str, Any]:
        what = f"replace {sub.lower()} of the specified"
        return {
            "get": self.read(sub, ref, gvk),
            "put": self.write("put", "replace", what, ("200", "201"), sub, ref, gvk),
            "patch": self.patch(sub, ref, gvk),
        }
