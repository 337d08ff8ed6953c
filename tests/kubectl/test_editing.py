"""Changing live objects with `kubectl label`, `annotate`, `patch` and `scale`."""

from __future__ import annotations

import json

import pytest

from tests.kubectl.conftest import Kubectl, apply_examples

# What `kubectl apply` put there before the test's own edits.
APPLIED = {"labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/last-applied-configuration"}}


def metadata_map(kubectl: Kubectl, field: str) -> dict[str, str]:
    """The Deployment's labels or annotations, without those `kubectl apply` or the controller set."""
    found: dict[str, str] = json.loads(kubectl.out("get", "deploy", "web", "-o", f"jsonpath={{.metadata.{field}}}"))
    return {
        k: v for k, v in found.items() if k not in APPLIED[field] and not k.startswith("deployment.kubernetes.io/")
    }


EDITS = [
    pytest.param([["tier=front"]], {"tier": "front"}, id="add"),
    pytest.param([["tier=front", "zone=a"]], {"tier": "front", "zone": "a"}, id="add-two"),
    pytest.param([["tier=front"], ["tier=back", "--overwrite"]], {"tier": "back"}, id="overwrite"),
    pytest.param([["tier=front"], ["tier=front"]], {"tier": "front"}, id="same-value"),
    pytest.param([["tier=front", "zone=a"], ["tier-"]], {"zone": "a"}, id="remove"),
]


@pytest.mark.parametrize(("verb", "field"), [("label", "labels"), ("annotate", "annotations")])
@pytest.mark.parametrize(("steps", "expected"), EDITS)
def test_label_and_annotate(
    kubectl: Kubectl, verb: str, field: str, steps: list[list[str]], expected: dict[str, str],
) -> None:
    """Each sequence of `kubectl label|annotate` leaves exactly the expected keys."""
    apply_examples(kubectl, "web-deployment.yaml")
    for args in steps:
        kubectl(verb, "deployment", "web", *args)
    assert metadata_map(kubectl, field) == expected


@pytest.mark.parametrize(("verb", "field"), [("label", "labels"), ("annotate", "annotations")])
def test_changing_a_value_needs_overwrite(kubectl: Kubectl, verb: str, field: str) -> None:
    """Without `--overwrite` a different value for an existing key is refused and not stored."""
    apply_examples(kubectl, "web-deployment.yaml")
    kubectl(verb, "deployment", "web", "tier=front")
    result = kubectl(verb, "deployment", "web", "tier=back", expect_fail=True)
    assert "--overwrite is false" in result.stderr
    assert metadata_map(kubectl, field) == {"tier": "front"}


PATCHES = [
    pytest.param(
        "merge", '{"spec":{"minReadySeconds":7,"paused":true}}',
        "{.spec.minReadySeconds} {.spec.paused}", "7 true", id="merge",
    ),
    pytest.param(
        "json", '[{"op":"replace","path":"/spec/revisionHistoryLimit","value":3},'
        '{"op":"add","path":"/metadata/labels/patched","value":"yes"}]',
        "{.spec.revisionHistoryLimit} {.metadata.labels.patched}", "3 yes", id="json",
    ),
    # Strategic merge matches containers by name: the env is added, the image kept.
    pytest.param(
        "strategic",
        '{"spec":{"template":{"spec":{"containers":[{"name":"httpd","env":[{"name":"GREETING","value":"hi"}]}]}}}}',
        "{.spec.template.spec.containers[*].name} {.spec.template.spec.containers[0].env[0].value} "
        "{.spec.template.spec.containers[0].image}",
        "httpd hi localhost/busybox:latest", id="strategic",
    ),
    # Strategic merge adds a container of a new name beside the existing one.
    pytest.param(
        "strategic",
        '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"localhost/busybox:latest"}]}}}}',
        "{.spec.template.spec.containers[*].name}", "httpd sidecar", id="strategic-add-container",
    ),
]


@pytest.mark.parametrize(("patch_type", "patch", "jsonpath", "expected"), PATCHES)
def test_patch(kubectl: Kubectl, patch_type: str, patch: str, jsonpath: str, expected: str) -> None:
    """`kubectl patch --type T` changes what the patch says and bumps the generation."""
    apply_examples(kubectl, "web-deployment.yaml")
    assert kubectl.out("patch", "deployment", "web", "--type", patch_type, "-p", patch).strip() == (
        "deployment.apps/web patched"
    )
    assert kubectl.out("get", "deploy", "web", "-o", f"jsonpath={jsonpath}") == expected
    assert kubectl.out("get", "deploy", "web", "-o", "jsonpath={.metadata.generation}") == "2"


def test_patch_that_changes_nothing(kubectl: Kubectl) -> None:
    """A patch that leaves the object as it was says `(no change)` and keeps the generation."""
    apply_examples(kubectl, "web-deployment.yaml")
    # The Deployment controller may write status meanwhile; a no-op patch leaves the generation alone.
    generation = kubectl.out("get", "deploy", "web", "-o", "jsonpath={.metadata.generation}")
    out = kubectl.out("patch", "deployment", "web", "--type", "merge", "-p", '{"spec":{"replicas":2}}')
    assert out.strip() == "deployment.apps/web patched (no change)"
    assert kubectl.out("get", "deploy", "web", "-o", "jsonpath={.metadata.generation}") == generation


def test_scale(kubectl: Kubectl) -> None:
    """`kubectl scale --replicas 5` sets spec.replicas through the scale subresource; generation grows."""
    apply_examples(kubectl, "web-deployment.yaml")
    before = int(kubectl.out("get", "deploy", "web", "-o", "jsonpath={.metadata.generation}"))
    assert kubectl.out("scale", "deployment", "web", "--replicas", "5").strip() == "deployment.apps/web scaled"
    assert kubectl.out("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}") == "5"
    assert int(kubectl.out("get", "deploy", "web", "-o", "jsonpath={.metadata.generation}")) > before


def test_scale_with_wrong_current_replicas(kubectl: Kubectl) -> None:
    """`--current-replicas` that does not match is refused and the Deployment keeps its size."""
    apply_examples(kubectl, "web-deployment.yaml")
    result = kubectl("scale", "deployment", "web", "--current-replicas", "3", "--replicas", "5", expect_fail=True)
    assert "Expected replicas to be 3, was 2" in result.stderr
    assert kubectl.out("get", "deploy", "web", "-o", "jsonpath={.spec.replicas}") == "2"
