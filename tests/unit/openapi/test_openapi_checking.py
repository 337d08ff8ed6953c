"""Strict field checking and pruning of request bodies against the real schema."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from edgekube.resources.openapi.checking import QUANTITY_MESSAGE, check_fields, prune
from edgekube.resources.registry import Registry
from edgekube.resources.schema import Definition, SchemaSet


def _deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["x/y"]},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{
                        "name": "web",
                        "image": "nginx",
                        "ports": [{"containerPort": 80}],
                        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"},
                                      "requests": {"cpu": 0.1}},
                        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
                    }],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}],
                },
            },
        },
        "status": {"replicas": 2, "conditions": [
            {"type": "Available", "status": "True", "lastUpdateTime": "2024-05-01T10:00:00Z"},
        ]},
    }


@pytest.fixture(scope="module")
def deployment_def(schema: SchemaSet) -> Definition:
    definition = schema.for_kind("apps", "v1", "Deployment")
    assert definition is not None
    return definition


def _set(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set a dotted path (`spec.template.spec.containers.0.image`) in `obj`; returns `obj`."""
    *parents, last = path.split(".")
    node: Any = obj
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return obj


def test_valid_object_passes(schema: SchemaSet, deployment_def: Definition) -> None:
    """A well-formed Deployment, status included, has no findings."""
    assert check_fields(schema, deployment_def, _deployment()).ok


def test_unknown_fields_at_depth(schema: SchemaSet, deployment_def: Definition) -> None:
    """Unknown fields are named by their full path, list indexes included."""
    obj = _deployment()
    obj["spec"]["foo"] = 1
    obj["spec"]["template"]["spec"]["containers"][0]["bogus"] = {"a": 1}
    obj["status"]["conditions"][0]["extra"] = "x"
    obj["top"] = True
    result = check_fields(schema, deployment_def, obj)
    assert sorted(result.unknown) == sorted([
        ".spec.foo",
        ".spec.template.spec.containers[0].bogus",
        ".status.conditions[0].extra",
        ".top",
    ])
    assert result.causes == []


@pytest.mark.parametrize(
    ("path", "value", "field", "wanted"),
    [
        ("spec.replicas", "abc", "spec.replicas", "integer"),
        ("spec.replicas", True, "spec.replicas", "integer"),
        ("spec.replicas", 1.5, "spec.replicas", "integer"),
        ("spec.paused", "yes", "spec.paused", "boolean"),
        ("metadata.labels", ["a"], "metadata.labels", "object"),
        ("metadata.labels.app", 3, "metadata.labels[app]", "string"),
        ("spec.template.spec.containers", {"name": "x"}, "spec.template.spec.containers", "array"),
        ("spec.template.spec.containers.0.image", 5, "spec.template.spec.containers[0].image",
         "string"),
        ("spec.strategy", "Recreate", "spec.strategy", "object"),
        ("spec.strategy.rollingUpdate.maxSurge", False,
         "spec.strategy.rollingUpdate.maxSurge", "integer or string"),
        ("status.replicas", "2", "status.replicas", "integer"),
    ],
)
def test_type_errors(
    schema: SchemaSet, deployment_def: Definition, path: str, value: Any, field: str,
    wanted: str,
) -> None:
    """A value of the wrong JSON type is one cause, worded as Kubernetes words it."""
    result = check_fields(schema, deployment_def, _set(_deployment(), path, value))
    assert result.unknown == []
    assert [c.field for c in result.causes] == [field]
    cause = result.causes[0]
    assert cause.reason == "FieldValueTypeInvalid"
    assert cause.message.startswith("Invalid value: ")
    assert f": {field} in body must be of type {wanted}: " in cause.message


def test_message_quotes_the_value(schema: SchemaSet, deployment_def: Definition) -> None:
    """The message shows the bad value and its JSON type."""
    result = check_fields(schema, deployment_def, _set(_deployment(), "spec.replicas", "abc"))
    assert result.causes[0].message == (
        'Invalid value: "abc": spec.replicas in body must be of type integer: "string"'
    )


@pytest.mark.parametrize("value", [3, "3", "25%", "http"])
def test_int_or_string_accepts_both(
    schema: SchemaSet, deployment_def: Definition, value: Any
) -> None:
    """Int-or-string fields take integers and strings."""
    obj = _set(_deployment(), "spec.strategy.rollingUpdate.maxSurge", value)
    assert check_fields(schema, deployment_def, obj).ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("500m", True), ("128Mi", True), ("1.5G", True), ("2", True), ("1e3", True), (1, True),
     (0.5, True), ("-1", True), ("abc", False), ("1Qi", False), ("", False), ("1 Gi", False)],
)
def test_quantities(schema: SchemaSet, deployment_def: Definition, value: Any, ok: bool) -> None:
    """Quantities are numbers or strings in Kubernetes' quantity grammar."""
    path = "spec.template.spec.containers.0.resources.limits.cpu"
    result = check_fields(schema, deployment_def, _set(_deployment(), path, value))
    assert result.ok is ok
    if not ok:
        assert result.causes[0].field == "spec.template.spec.containers[0].resources.limits[cpu]"
        assert QUANTITY_MESSAGE in result.causes[0].message


def test_scalar_quantity(schema: SchemaSet, deployment_def: Definition) -> None:
    """A single quantity field (emptyDir.sizeLimit) is checked like a map value."""
    path = "spec.template.spec.volumes.0.emptyDir.sizeLimit"
    assert not check_fields(schema, deployment_def, _set(_deployment(), path, "big")).ok


@pytest.mark.parametrize(
    "path",
    ["spec", "spec.replicas", "spec.strategy", "metadata.labels", "metadata.labels.app",
     "spec.template.spec.containers.0", "spec.template.spec.containers.0.ports",
     "status", "spec.template.spec.containers.0.resources.limits.cpu"],
)
def test_null_is_allowed_anywhere(
    schema: SchemaSet, deployment_def: Definition, path: str
) -> None:
    """A null value is treated as absent: neither a type error nor unknown."""
    assert check_fields(schema, deployment_def, _set(_deployment(), path, None)).ok


def test_null_unknown_field_is_still_unknown(
    schema: SchemaSet, deployment_def: Definition
) -> None:
    """An undeclared field is unknown whatever its value."""
    result = check_fields(schema, deployment_def, _set(_deployment(), "spec.nope", None))
    assert result.unknown == [".spec.nope"]


@pytest.mark.parametrize(
    ("value", "ok"),
    [("2024-05-01T10:00:00Z", True), ("2024-05-01T10:00:00.123+02:00", True),
     ("2024-05-01", False), ("yesterday", False)],
)
def test_times(schema: SchemaSet, deployment_def: Definition, value: str, ok: bool) -> None:
    """Times are RFC 3339 date-times."""
    path = "status.conditions.0.lastUpdateTime"
    assert check_fields(schema, deployment_def, _set(_deployment(), path, value)).ok is ok


def test_secret_data_must_be_base64_and_is_not_echoed(schema: SchemaSet) -> None:
    """Secret data values must be base64; the message does not repeat the secret."""
    secret_def = schema.for_kind("", "v1", "Secret")
    assert secret_def is not None
    good = {"metadata": {"name": "s"}, "data": {"a": "aGVsbG8=", "b": "aGVs\nbG8="}}
    assert check_fields(schema, secret_def, good).ok
    bad = {"metadata": {"name": "s"}, "data": {"a": "hunter2!"}}
    causes = check_fields(schema, secret_def, bad).causes
    assert [c.field for c in causes] == ["data[a]"]
    assert "hunter2" not in causes[0].message


def test_free_form_fields_accept_anything(schema: SchemaSet, deployment_def: Definition) -> None:
    """managedFields[].fieldsV1 is free-form: nothing inside it is unknown."""
    obj = _deployment()
    obj["metadata"]["managedFields"] = [{"manager": "kubectl", "fieldsV1": {"f:spec": {"x": 1}}}]
    assert check_fields(schema, deployment_def, obj).ok


def test_prune_removes_exactly_the_unknown_fields(
    schema: SchemaSet, deployment_def: Definition
) -> None:
    """Pruning deletes the unknown fields and leaves everything else as it was."""
    obj = _deployment()
    obj["spec"]["foo"] = 1
    obj["spec"]["template"]["spec"]["containers"][0]["bogus"] = {"a": 1}
    obj["metadata"]["labels"]["not-unknown"] = "kept"  # map keys are data, not fields
    obj["metadata"]["whatever"] = None
    expected = _deployment()
    expected["metadata"]["labels"]["not-unknown"] = "kept"
    removed = prune(schema, deployment_def, obj)
    assert sorted(removed) == [
        ".metadata.whatever", ".spec.foo", ".spec.template.spec.containers[0].bogus",
    ]
    assert obj == expected


def test_prune_keeps_a_valid_object(schema: SchemaSet, deployment_def: Definition) -> None:
    """A clean object is untouched by pruning."""
    obj = _deployment()
    assert prune(schema, deployment_def, obj) == []
    assert obj == _deployment()


def test_check_does_not_modify(schema: SchemaSet, deployment_def: Definition) -> None:
    """Without prune the object is left as it came."""
    obj = _set(_deployment(), "spec.foo", 1)
    before = copy.deepcopy(obj)
    check_fields(schema, deployment_def, obj)
    assert obj == before


def test_body_that_is_not_an_object(schema: SchemaSet, deployment_def: Definition) -> None:
    """A body that is not a JSON object is one type error at the root."""
    result = check_fields(schema, deployment_def, ["not", "an", "object"])
    assert len(result.causes) == 1 and result.causes[0].field == ""


def test_every_served_kind_checks_a_minimal_object(
    schema: SchemaSet, registry: Registry
) -> None:
    """Every served kind accepts apiVersion, kind and metadata.name."""
    for kind in registry.kinds():
        definition = schema.for_kind(kind.group, kind.version, kind.kind)
        assert definition is not None
        obj = {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": {"name": "x"}}
        assert check_fields(schema, definition, obj).ok, kind.kind
