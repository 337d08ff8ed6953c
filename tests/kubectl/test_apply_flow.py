"""`kubectl apply` and `kubectl delete` of the examples, as a new user would run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kubectl.conftest import EXAMPLES, Kubectl, apply_examples

EXAMPLE_OBJECTS = ["configmap/web-config", "deployment.apps/web", "service/web"]
# Published into every namespace by a controller in Kubernetes; not one of ours.
ROOT_CA = "configmap/kube-root-ca.crt"


def apply_report(stdout: str) -> dict[str, str]:
    """`kubectl apply` output ("deployment.apps/web created") as {object: verb}."""
    return dict(line.split(" ", 1) for line in stdout.splitlines() if line.strip())


def stored(kubectl: Kubectl) -> list[str]:
    """The Deployments, Services and ConfigMaps in the namespace, as `kind/name`."""
    names = kubectl.out("get", "deploy,svc,cm", "-o", "name").split()
    return sorted(name for name in names if name != ROOT_CA)


def test_apply_creates_the_examples(kubectl: Kubectl) -> None:
    """The first `kubectl apply -f examples/` creates all three objects."""
    report = apply_report(kubectl.out("apply", "-f", str(EXAMPLES)))
    assert report == {name: "created" for name in EXAMPLE_OBJECTS}
    assert stored(kubectl) == sorted(EXAMPLE_OBJECTS)


def test_reapply_unchanged(kubectl: Kubectl) -> None:
    """Applying the same manifests again changes nothing and says `unchanged`."""
    apply_examples(kubectl)
    # No controller writes ConfigMaps, so its resourceVersion shows whether apply wrote; the
    # Deployment's status may change under its controller, but not its generation.
    version = kubectl.out("get", "cm", "web-config", "-o", "jsonpath={.metadata.resourceVersion}")
    generation = kubectl.out("get", "deploy", "web", "-o", "jsonpath={.metadata.generation}")
    report = apply_report(kubectl.out("apply", "-f", str(EXAMPLES)))
    assert report == {name: "unchanged" for name in EXAMPLE_OBJECTS}
    assert kubectl.out("get", "cm", "web-config", "-o", "jsonpath={.metadata.resourceVersion}") == version
    assert kubectl.out("get", "deploy", "web", "-o", "jsonpath={.metadata.generation}") == generation


def test_reapply_edited_image(kubectl: Kubectl, examples: Path) -> None:
    """Applying an edited image says `configured` for the Deployment only, and stores the image."""
    apply_examples(kubectl)
    manifest = examples / "web-deployment.yaml"
    manifest.write_text(manifest.read_text().replace("localhost/busybox:latest", "localhost/busybox:v2"))
    report = apply_report(kubectl.out("apply", "-f", str(examples)))
    assert report == {
        "configmap/web-config": "unchanged", "deployment.apps/web": "configured", "service/web": "unchanged",
    }
    jsonpath = "jsonpath={.spec.template.spec.containers[0].image} {.metadata.generation}"
    assert kubectl.out("get", "deploy", "web", "-o", jsonpath) == "localhost/busybox:v2 2"


def test_server_dry_run_creates_nothing(kubectl: Kubectl) -> None:
    """`apply --dry-run=server` reports what it would create and stores nothing."""
    report = apply_report(kubectl.out("apply", "--dry-run=server", "-f", str(EXAMPLES)))
    assert report == {name: "created (server dry run)" for name in EXAMPLE_OBJECTS}
    assert stored(kubectl) == []


UNKNOWN_FIELDS = [
    pytest.param(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd\ndata:\n  a: b\nbogusField: 1\n",
        "bogusField", id="top-level",
    ),
    pytest.param(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: odd\nspec:\n"
        "  selector: {matchLabels: {app: odd}}\n"
        "  template:\n    metadata: {labels: {app: odd}}\n"
        "    spec:\n      containers:\n      - name: c\n        image: localhost/busybox:latest\n"
        "        imagePullPolicee: Always\n",
        "spec.template.spec.containers[0].imagePullPolicee", id="nested",
    ),
]


@pytest.mark.parametrize(("manifest", "field_path"), UNKNOWN_FIELDS)
def test_apply_rejects_unknown_field(kubectl: Kubectl, manifest: str, field_path: str) -> None:
    """Strict server-side field validation names the unknown field and creates nothing."""
    result = kubectl("apply", "-f", "-", stdin=manifest, expect_fail=True)
    assert "BadRequest" in result.stderr
    assert f'unknown field "{field_path}"' in result.stderr
    assert stored(kubectl) == []


def test_delete_removes_the_examples(kubectl: Kubectl) -> None:
    """`kubectl delete -f examples/` deletes all three; `get` then answers NotFound for each."""
    apply_examples(kubectl)
    deleted = kubectl.out("delete", "-f", str(EXAMPLES)).splitlines()
    assert sorted(deleted) == sorted([
        'configmap "web-config" deleted', 'deployment.apps "web" deleted', 'service "web" deleted',
    ])
    result = kubectl("get", "-f", str(EXAMPLES), expect_fail=True)
    assert result.stderr.count("(NotFound)") == 3, result.describe()
    for kind, name in [("configmaps", "web-config"), ("deployments.apps", "web"), ("services", "web")]:
        assert f'{kind} "{name}" not found' in result.stderr
