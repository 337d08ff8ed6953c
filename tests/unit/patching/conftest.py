"""A hand-built structural schema of a Deployment, with Kubernetes' patch strategies.

Just enough of apps/v1 Deployment for strategic merge patch to find merge keys; fields
left out on purpose (`spec.selector`, `status`, `resources`) are the "unknown to the
schema" cases. Independent of the real schema loader.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from edgekube.resources.objects import Obj
from edgekube.resources.patching import STRATEGIC_MERGE_PATCH, apply_patch
from edgekube.resources.schema import Definition, FieldSchema, SchemaSet

STRING = FieldSchema("string")
INTEGER = FieldSchema("integer")
STRING_MAP = FieldSchema("map", items=STRING)


def _ref(name: str, **kw: Any) -> FieldSchema:
    return FieldSchema("object", ref=name, **kw)


def _keyed(name: str, key: str, strategy: str = "merge") -> FieldSchema:
    """A list of `name` objects merged by `key`, like `containers` by `name`."""
    return FieldSchema("array", items=_ref(name), patch_strategy=strategy, patch_merge_key=key)


def _definitions() -> list[Definition]:
    return [
        Definition(
            "Deployment",
            {
                "apiVersion": STRING,
                "kind": STRING,
                "metadata": _ref("ObjectMeta"),
                "spec": _ref("DeploymentSpec"),
            },
            gvk=("apps", "v1", "Deployment"),
        ),
        Definition(
            "ObjectMeta",
            {
                "name": STRING,
                "namespace": STRING,
                "labels": STRING_MAP,
                "annotations": STRING_MAP,
                "finalizers": FieldSchema("array", items=STRING, patch_strategy="merge"),
                "ownerReferences": _keyed("OwnerReference", "uid"),
            },
        ),
        Definition("OwnerReference", {"uid": STRING, "name": STRING, "kind": STRING}),
        Definition(
            "DeploymentSpec",
            {
                "replicas": INTEGER,
                "strategy": _ref("DeploymentStrategy", patch_strategy="retainKeys"),
                "template": _ref("PodTemplateSpec"),
            },
        ),
        Definition(
            "DeploymentStrategy",
            {"type": STRING, "rollingUpdate": _ref("RollingUpdateDeployment")},
        ),
        Definition("RollingUpdateDeployment", {"maxSurge": FieldSchema("int-or-string")}),
        Definition("PodTemplateSpec", {"metadata": _ref("ObjectMeta"), "spec": _ref("PodSpec")}),
        Definition(
            "PodSpec",
            {
                "containers": _keyed("Container", "name"),
                "initContainers": _keyed("Container", "name"),
                "volumes": _keyed("Volume", "name", "merge,retainKeys"),
                "nodeSelector": STRING_MAP,
                "tolerations": FieldSchema("array", items=_ref("Toleration")),
            },
        ),
        Definition("Toleration", {"key": STRING, "operator": STRING}),
        Definition(
            "Volume",
            {"name": STRING, "emptyDir": FieldSchema("any"), "configMap": FieldSchema("any")},
        ),
        Definition(
            "Container",
            {
                "name": STRING,
                "image": STRING,
                "args": FieldSchema("array", items=STRING),
                "env": _keyed("EnvVar", "name"),
                "ports": _keyed("ContainerPort", "containerPort"),
            },
        ),
        Definition("EnvVar", {"name": STRING, "value": STRING}),
        Definition(
            "ContainerPort",
            {"containerPort": INTEGER, "name": STRING, "protocol": STRING},
        ),
    ]


@pytest.fixture
def schema() -> SchemaSet:
    """The hand-built Deployment schema."""
    return SchemaSet({d.name: d for d in _definitions()})


@pytest.fixture
def deployment(schema: SchemaSet) -> Definition:
    """The top-level apps/v1 Deployment definition."""
    found = schema.for_kind("apps", "v1", "Deployment")
    assert found is not None
    return found


@pytest.fixture
def strategic(schema: SchemaSet, deployment: Definition) -> Any:
    """Apply a strategic merge patch (given as a Python value) to a Deployment."""

    def patch(original: Obj, body: Any) -> Obj:
        return apply_patch(
            STRATEGIC_MERGE_PATCH,
            original,
            orjson.dumps(body),
            schema=schema,
            definition=deployment,
        )

    return patch
