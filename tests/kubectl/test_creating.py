"""Imperative `kubectl create` and `kubectl run`.

kubectl v1.32 sends the bodies of these commands as protobuf
(`application/vnd.kubernetes.protobuf`) for built-in kinds, as it does against any
Kubernetes API server; `kubectl run` and `apply` send JSON.
"""

from __future__ import annotations

import pytest

from tests.kubectl.conftest import Kubectl

CREATES = [
    pytest.param(
        ["configmap", "x", "--from-literal", "a=b", "--from-literal", "c=d"],
        "configmap/x created", ["get", "cm", "x", "-o", "jsonpath={.data.a} {.data.c}"], "b d",
        id="configmap",
    ),
    # Secret values are stored and shown base64-encoded: base64("q") is "cQ==".
    pytest.param(
        ["secret", "generic", "s", "--from-literal", "p=q"],
        "secret/s created", ["get", "secret", "s", "-o", "jsonpath={.type} {.data.p}"], "Opaque cQ==",
        id="secret",
    ),
    pytest.param(
        ["deployment", "d", "--image", "localhost/busybox:latest", "--replicas", "3"],
        "deployment.apps/d created", ["get", "deploy", "d", "-o", "jsonpath={.spec.replicas} {.spec.selector}"],
        '3 {"matchLabels":{"app":"d"}}',
        id="deployment",
    ),
    pytest.param(
        ["serviceaccount", "robot"],
        "serviceaccount/robot created", ["get", "sa", "robot", "-o", "jsonpath={.metadata.name}"], "robot",
        id="serviceaccount",
    ),
]


@pytest.mark.parametrize(("args", "printed", "check", "expected"), CREATES)
def test_kubectl_create(
    kubectl: Kubectl, args: list[str], printed: str, check: list[str], expected: str,
) -> None:
    """`kubectl create KIND ...` stores the object, as `-o jsonpath` then shows."""
    assert kubectl.out("create", *args).strip() == printed
    assert kubectl.out(*check) == expected


def test_kubectl_create_existing_name(kubectl: Kubectl) -> None:
    """Creating an object whose name is taken fails with AlreadyExists."""
    kubectl("apply", "-f", "-", stdin="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: taken\n")
    result = kubectl("create", "configmap", "taken", "--from-literal", "a=b", expect_fail=True)
    assert 'configmaps "taken" already exists' in result.stderr


def test_kubectl_run(kubectl: Kubectl) -> None:
    """`kubectl run` creates a Pending pod with the image, command and `run=` label."""
    out = kubectl.out("run", "one", "--image", "localhost/busybox:latest", "--restart", "Never", "--", "sleep", "60")
    assert out.strip() == "pod/one created"
    jsonpath = "{.status.phase} {.metadata.labels.run} {.spec.containers[0].args} {.spec.restartPolicy}"
    assert kubectl.out("get", "pod", "one", "-o", f"jsonpath={jsonpath}") == 'Pending one ["sleep","60"] Never'
