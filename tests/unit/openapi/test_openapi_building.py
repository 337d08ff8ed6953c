"""Building the schema in a child process, caching it, and what the built schema holds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgekube.resources.openapi import loading
from edgekube.resources.openapi.building import QUANTITY_FIELDS, short_name
from edgekube.resources.openapi.loading import cache_file_name, load_schema
from edgekube.resources.openapi.patchmeta import PATCH_META
from edgekube.resources.registry import Registry
from edgekube.resources.schema import FieldSchema, SchemaSet


def _definition_by_short_name(schema: SchemaSet, short: str) -> str:
    names = [n for n in schema.definitions if n.rsplit(".", 1)[1] == short]
    assert len(names) == 1, names
    return names[0]


def _field(schema: SchemaSet, short: str, field: str) -> FieldSchema:
    fs = schema.field_of(schema.get(_definition_by_short_name(schema, short)), field)
    assert fs is not None, (short, field)
    return fs


def test_cache_is_reused(cache_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An existing cache file is read without starting the builder again."""
    def fail(path: Path) -> None:
        raise AssertionError("rebuilt")

    monkeypatch.setattr(loading, "build_cache", fail)
    assert load_schema(cache_path).get("io.k8s.api.apps.v1.Deployment") is not None


def test_unreadable_cache_is_rebuilt(cache_path: Path, tmp_path: Path) -> None:
    """A torn or foreign cache file is replaced by a fresh build."""
    path = tmp_path / "schema.json"
    path.write_text('{"format": 0}')
    schema = load_schema(path)
    assert schema.get("io.k8s.api.core.v1.Pod") is not None
    assert path.read_bytes() == cache_path.read_bytes()


def test_server_process_never_imports_the_client_models(tmp_path: Path) -> None:
    """Building from scratch runs the kubernetes client in the child only."""
    code = (
        "import sys; from pathlib import Path;"
        "from edgekube.resources.openapi.loading import load_schema;"
        f"load_schema(Path({str(tmp_path / 's.json')!r}));"
        "print(any(m.startswith('kubernetes') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "False"  # after the build log line
    assert (tmp_path / "s.json").exists()


def test_child_process_writes_to_the_given_path(tmp_path: Path) -> None:
    """`python -m edgekube.resources.openapi.building OUT` writes OUT and nothing beside it."""
    out = tmp_path / "deep" / "schema.json"
    subprocess.run(
        [sys.executable, "-m", "edgekube.resources.openapi.building", str(out)], check=True
    )
    assert [p.name for p in out.parent.iterdir()] == ["schema.json"]


def test_cache_file_name_names_both_versions() -> None:
    """The cache file name changes with edgekube's and the client's versions."""
    name = cache_file_name()
    assert name.startswith("schema-") and name.endswith(".json") and name.count("-") >= 2


def test_every_served_kind_and_its_list_has_a_definition(
    schema: SchemaSet, registry: Registry
) -> None:
    """Each served kind and its List carry their group-version-kind."""
    for kind in registry.kinds():
        for name in (kind.kind, kind.list_kind):
            definition = schema.for_kind(kind.group, kind.version, name)
            assert definition is not None, (kind.group, kind.version, name)
            assert definition.name.endswith("." + name)


@pytest.mark.parametrize(
    ("gvk", "name"),
    [
        (("apps", "v1", "Deployment"), "io.k8s.api.apps.v1.Deployment"),
        (("", "v1", "Event"), "io.k8s.api.core.v1.Event"),
        (("storage.k8s.io", "v1", "StorageClass"), "io.k8s.api.storage.v1.StorageClass"),
        (("coordination.k8s.io", "v1", "Lease"), "io.k8s.api.coordination.v1.Lease"),
        (("autoscaling", "v1", "Scale"), "io.k8s.api.autoscaling.v1.Scale"),
        (("", "v1", "Status"), "io.k8s.apimachinery.pkg.apis.meta.v1.Status"),
        (("", "v1", "DeleteOptions"), "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"),
        (("", "v1", "WatchEvent"), "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"),
        (("", "v1", "Binding"), "io.k8s.api.core.v1.Binding"),
    ],
)
def test_kinds_are_named_kubernetes_style(
    schema: SchemaSet, gvk: tuple[str, str, str], name: str
) -> None:
    """Top-level kinds get Kubernetes' definition names."""
    definition = schema.for_kind(*gvk)
    assert definition is not None and definition.name == name


@pytest.mark.parametrize(
    "name",
    [
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        "io.k8s.api.core.v1.PodTemplateSpec",
        "io.k8s.api.core.v1.Container",
        "io.k8s.api.apps.v1.DeploymentStrategy",
    ],
)
def test_nested_types_land_in_their_kubernetes_package(schema: SchemaSet, name: str) -> None:
    """Meta types go to apimachinery, pod types to core, whoever reaches them first."""
    assert schema.get(name) is not None


def test_every_reference_resolves(schema: SchemaSet) -> None:
    """No object field refers to a definition the schema lacks."""
    def refs(fs: FieldSchema) -> list[str]:
        if fs.items is not None:
            return refs(fs.items)
        return [fs.ref] if fs.type == "object" else []

    for definition in schema.definitions.values():
        for fs in definition.properties.values():
            for ref in refs(fs):
                assert schema.get(ref) is not None, (definition.name, ref)


def test_every_patch_table_entry_is_applied(schema: SchemaSet) -> None:
    """Each (type, field) in the patch table carries its strategy and merge key."""
    for (short, field), meta in PATCH_META.items():
        fs = _field(schema, short, field)
        assert (fs.patch_strategy, fs.patch_merge_key) == (meta.strategy, meta.merge_key)


@pytest.mark.parametrize(
    ("short", "field", "strategy", "key"),
    [
        ("PodSpec", "containers", "merge", "name"),
        ("PodSpec", "volumes", "merge,retainKeys", "name"),
        ("Container", "ports", "merge", "containerPort"),
        ("Container", "env", "merge", "name"),
        ("ObjectMeta", "finalizers", "merge", ""),
        ("ObjectMeta", "ownerReferences", "merge", "uid"),
        ("DeploymentSpec", "strategy", "retainKeys", ""),
        ("NodeStatus", "addresses", "merge", "type"),
        ("PodSpec", "tolerations", "", ""),
    ],
)
def test_patch_strategies(
    schema: SchemaSet, short: str, field: str, strategy: str, key: str
) -> None:
    """Fields carry Kubernetes' patch strategy; unlisted lists stay atomic."""
    fs = _field(schema, short, field)
    assert (fs.patch_strategy, fs.patch_merge_key) == (strategy, key)


def test_quantities_are_typed(schema: SchemaSet) -> None:
    """Resource lists are maps of quantities and single quantities are quantities."""
    for short, field in QUANTITY_FIELDS:
        fs = _field(schema, short, field)
        element = fs.items if fs.type == "map" else fs
        assert element is not None and element.type == "quantity", (short, field)


@pytest.mark.parametrize(
    ("short", "field", "type_"),
    [
        ("RollingUpdateDeployment", "maxSurge", "int-or-string"),
        ("ServicePort", "targetPort", "int-or-string"),
        ("ObjectMeta", "creationTimestamp", "time"),
        ("DeploymentSpec", "replicas", "integer"),
        ("PodSpec", "hostNetwork", "boolean"),
        ("Container", "image", "string"),
    ],
)
def test_scalar_types(schema: SchemaSet, short: str, field: str, type_: str) -> None:
    """Client annotations map onto our field types."""
    assert _field(schema, short, field).type == type_


def test_secret_data_is_a_map_of_bytes(schema: SchemaSet) -> None:
    """Secret.data holds base64 bytes; labels hold strings."""
    data = _field(schema, "Secret", "data")
    assert data.type == "map" and data.items == FieldSchema("bytes")
    labels = _field(schema, "ObjectMeta", "labels")
    assert labels.type == "map" and labels.items == FieldSchema("string")


def test_descriptions_only_when_asked(schema: SchemaSet, described: SchemaSet) -> None:
    """Validation's copy has no descriptions; the documents' copy has them, boilerplate gone."""
    name = "io.k8s.api.apps.v1.DeploymentSpec"
    assert schema.definitions[name].description == ""
    assert schema.definitions[name].properties["replicas"].description == ""
    text = described.definitions[name].description
    assert text.startswith("DeploymentSpec is the specification")
    assert "openapi_types" not in text and "Attributes" not in text
    replicas = described.definitions[name].properties["replicas"]
    assert "Number of desired pods" in replicas.description


def test_required_fields(schema: SchemaSet) -> None:
    """Required fields come from the models."""
    spec = schema.get("io.k8s.api.apps.v1.DeploymentSpec")
    assert spec is not None and set(spec.required) == {"selector", "template"}


@pytest.mark.parametrize(
    ("class_name", "short"),
    [("V1Pod", "Pod"), ("CoreV1Event", "Event"), ("V1APIGroup", "APIGroup"),
     ("V1beta1Foo", "Foo"), ("StorageV1TokenRequest", "TokenRequest")],
)
def test_short_name(class_name: str, short: str) -> None:
    """Generated class names lose their group and version prefix."""
    assert short_name(class_name) == short


def test_copied_cache_loads(cache_path: Path, tmp_path: Path) -> None:
    """The cache file is self-contained: a copy elsewhere loads the same schema."""
    copy = tmp_path / "copy.json"
    shutil.copy(cache_path, copy)
    assert load_schema(copy) == load_schema(cache_path)
