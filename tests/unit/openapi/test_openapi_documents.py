"""The rendered OpenAPI v3 documents and their index."""

from __future__ import annotations

import gzip
from typing import Any

import orjson
import pytest

from edgekube.resources.openapi.components import INT_OR_STRING, QUANTITY, REF_PREFIX
from edgekube.resources.openapi.documents import OpenAPIDocuments, content_hash
from edgekube.resources.registry import Registry
from edgekube.resources.schema import SchemaSet

WRITE_METHODS = ("post", "put", "patch")


def _doc(documents: OpenAPIDocuments, path: str) -> dict[str, Any]:
    raw = documents.document(path)
    assert raw is not None, path
    doc: dict[str, Any] = orjson.loads(raw)
    return doc


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_index_lists_every_group_version(
    documents: OpenAPIDocuments, registry: Registry
) -> None:
    """The index links each served group-version's document with its content hash."""
    index = orjson.loads(documents.index())
    assert set(index["paths"]) == {gv.path for gv in registry.group_versions()}
    for path, entry in index["paths"].items():
        document = documents.document(path)
        assert document is not None
        assert entry["serverRelativeURL"] == f"/openapi/v3/{path}?hash={content_hash(document)}"
        assert documents.hash(path) == content_hash(document)


def test_unknown_group_version(documents: OpenAPIDocuments) -> None:
    """A group-version that is not served has no document."""
    assert documents.document("apis/batch/v1") is None
    assert documents.hash("apis/batch/v1") is None


def test_every_served_kind_has_a_gvk_schema(
    documents: OpenAPIDocuments, registry: Registry
) -> None:
    """Each kind's schema in its group-version's document declares its group-version-kind."""
    for kind in registry.kinds():
        schemas = _doc(documents, _gv_path(kind.group, kind.version))["components"]["schemas"]
        wanted = {"group": kind.group, "version": kind.version, "kind": kind.kind}
        assert any(
            wanted in s.get("x-kubernetes-group-version-kind", []) for s in schemas.values()
        ), kind.kind


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def test_documents_are_self_contained(documents: OpenAPIDocuments) -> None:
    """Every $ref in a document names a schema of that same document."""
    for path in documents.group_version_paths():
        doc = _doc(documents, path)
        schemas = doc["components"]["schemas"]
        for ref in _refs(doc):
            assert ref.removeprefix(REF_PREFIX) in schemas, (path, ref)


def test_deployment_strategy(documents: OpenAPIDocuments) -> None:
    """spec.strategy refers to DeploymentStrategy and keeps retainKeys, with a description."""
    schemas = _doc(documents, "apis/apps/v1")["components"]["schemas"]
    deployment = schemas["io.k8s.api.apps.v1.Deployment"]
    assert deployment["properties"]["spec"]["allOf"] == [
        {"$ref": REF_PREFIX + "io.k8s.api.apps.v1.DeploymentSpec"}
    ]
    strategy = schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]
    assert strategy["allOf"] == [{"$ref": REF_PREFIX + "io.k8s.api.apps.v1.DeploymentStrategy"}]
    assert strategy["x-kubernetes-patch-strategy"] == "retainKeys"
    assert strategy["description"]
    assert "rollingUpdate" in schemas["io.k8s.api.apps.v1.DeploymentStrategy"]["properties"]


def test_patch_extensions(documents: OpenAPIDocuments) -> None:
    """Merge lists carry x-kubernetes-patch-strategy and -merge-key."""
    schemas = _doc(documents, "api/v1")["components"]["schemas"]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["items"] == {"$ref": REF_PREFIX + "io.k8s.api.core.v1.Container"}
    volumes = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["volumes"]
    assert volumes["x-kubernetes-patch-strategy"] == "merge,retainKeys"
    finalizers = schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"][
        "finalizers"]
    assert finalizers["x-kubernetes-patch-strategy"] == "merge"
    assert "x-kubernetes-patch-merge-key" not in finalizers


def test_int_or_string_and_quantity(documents: OpenAPIDocuments) -> None:
    """IntOrString and Quantity are int-or-string schemas that fields refer to."""
    schemas = _doc(documents, "api/v1")["components"]["schemas"]
    for name in (INT_OR_STRING, QUANTITY):
        assert schemas[name]["x-kubernetes-int-or-string"] is True
        assert schemas[name]["anyOf"] == [{"type": "integer"}, {"type": "string"}]
    port = schemas["io.k8s.api.core.v1.ServicePort"]["properties"]["targetPort"]
    assert port["allOf"] == [{"$ref": REF_PREFIX + INT_OR_STRING}]
    limits = schemas["io.k8s.api.core.v1.ResourceRequirements"]["properties"]["limits"]
    assert limits["type"] == "object"
    assert limits["additionalProperties"] == {"$ref": REF_PREFIX + QUANTITY}


@pytest.mark.parametrize(
    ("gv", "url", "methods"),
    [
        ("api/v1", "/api/v1/namespaces/{namespace}/pods", {"get", "post", "delete"}),
        ("api/v1", "/api/v1/namespaces/{namespace}/pods/{name}",
         {"get", "put", "patch", "delete"}),
        ("api/v1", "/api/v1/namespaces/{namespace}/pods/{name}/status", {"get", "put", "patch"}),
        ("api/v1", "/api/v1/pods", {"get"}),
        ("api/v1", "/api/v1/nodes", {"get", "post", "delete"}),
        ("api/v1", "/api/v1/nodes/{name}/status", {"get", "put", "patch"}),
        ("apis/apps/v1", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
         {"get", "put", "patch"}),
        ("apis/storage.k8s.io/v1", "/apis/storage.k8s.io/v1/storageclasses/{name}",
         {"get", "put", "patch", "delete"}),
    ],
)
def test_paths(documents: OpenAPIDocuments, gv: str, url: str, methods: set[str]) -> None:
    """Collections, items, cluster-wide lists and subresources have their operations."""
    item = _doc(documents, gv)["paths"][url]
    assert set(item) - {"parameters"} == methods


def test_no_status_or_scale_where_the_kind_has_none(documents: OpenAPIDocuments) -> None:
    """ConfigMaps have no status subresource and Pods no scale."""
    paths = _doc(documents, "api/v1")["paths"]
    assert "/api/v1/namespaces/{namespace}/configmaps/{name}/status" not in paths
    assert "/api/v1/namespaces/{namespace}/pods/{name}/scale" not in paths


def test_write_operations_declare_field_validation(documents: OpenAPIDocuments) -> None:
    """Every POST, PUT and PATCH declares fieldValidation, dryRun, fieldManager and pretty."""
    for path in documents.group_version_paths():
        for url, item in _doc(documents, path)["paths"].items():
            for method in WRITE_METHODS:
                if method not in item:
                    continue
                params = {(p["name"], p["in"]) for p in item[method]["parameters"]}
                for name in ("fieldValidation", "dryRun", "fieldManager", "pretty"):
                    assert (name, "query") in params, (url, method, name)


def test_operations_carry_kubernetes_extensions(documents: OpenAPIDocuments) -> None:
    """Operations name their action and group-version-kind; scale's kind is Scale."""
    paths = _doc(documents, "apis/apps/v1")["paths"]
    patch = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-action"] == "patch"
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps", "version": "v1", "kind": "Deployment"}
    assert patch["operationId"] == "patchAppsV1NamespacedDeployment"
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    scale = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["put"]
    assert scale["x-kubernetes-group-version-kind"]["kind"] == "Scale"
    listing = paths["/apis/apps/v1/namespaces/{namespace}/deployments"]["get"]
    assert listing["x-kubernetes-action"] == "list"
    assert {p["name"] for p in listing["parameters"]} >= {"watch", "labelSelector", "limit"}


def test_gzip_copy_matches(documents: OpenAPIDocuments) -> None:
    """The stored gzip bytes decompress to the advertised document."""
    for path in documents.group_version_paths():
        stored = documents.document_gzip(path)
        assert stored is not None
        assert content_hash(gzip.decompress(stored)) == documents.hash(path)


def test_rendering_is_deterministic(described: SchemaSet, registry: Registry) -> None:
    """Rendering twice gives the same bytes, so hashes are stable across restarts."""
    first = OpenAPIDocuments.from_schema(described, registry)
    second = OpenAPIDocuments.from_schema(described, registry)
    assert first.index() == second.index()
