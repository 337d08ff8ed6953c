"""Pod defaulting: what Kubernetes fills in, and that user values are kept."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from edgekube.resources.kinds.pod_defaults import default_pod_spec, image_tag, pull_policy
from edgekube.resources.kinds.pods import STRATEGY
from edgekube.resources.objects import get_path


def _pod(**spec: Any) -> dict[str, Any]:
    spec.setdefault("containers", [{"name": "app", "image": "nginx:1.27"}])
    return {"metadata": {"name": "p", "namespace": "default"}, "spec": spec}


def _defaulted(pod: dict[str, Any]) -> dict[str, Any]:
    STRATEGY.prepare_for_create(pod)
    STRATEGY.default(pod)
    return pod


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("spec", "restartPolicy"), "Always"),
        (("spec", "terminationGracePeriodSeconds"), 30),
        (("spec", "dnsPolicy"), "ClusterFirst"),
        (("spec", "schedulerName"), "default-scheduler"),
        (("spec", "securityContext"), {}),
        (("spec", "enableServiceLinks"), True),
        (("spec", "priority"), 0),
        (("spec", "preemptionPolicy"), "PreemptLowerPriority"),
        (("spec", "containers", 0, "imagePullPolicy"), "IfNotPresent"),
        (("spec", "containers", 0, "terminationMessagePath"), "/dev/termination-log"),
        (("spec", "containers", 0, "terminationMessagePolicy"), "File"),
        (("spec", "containers", 0, "resources"), {}),
        (("status",), {"phase": "Pending", "qosClass": "BestEffort"}),
    ],
)
def test_pod_defaults(path: tuple[str | int, ...], expected: Any) -> None:
    """A minimal pod gets each Kubernetes default."""
    assert get_path(_defaulted(_pod()), *path) == expected


@pytest.mark.parametrize(
    ("spec", "path", "kept"),
    [
        ({"restartPolicy": "Never"}, ("restartPolicy",), "Never"),
        ({"terminationGracePeriodSeconds": 0}, ("terminationGracePeriodSeconds",), 0),
        ({"dnsPolicy": "Default"}, ("dnsPolicy",), "Default"),
        ({"schedulerName": "edge"}, ("schedulerName",), "edge"),
        ({"enableServiceLinks": False}, ("enableServiceLinks",), False),
        ({"securityContext": {"runAsUser": 1}}, ("securityContext",), {"runAsUser": 1}),
        (
            {"containers": [{"name": "a", "image": "x", "imagePullPolicy": "Never"}]},
            ("containers", 0, "imagePullPolicy"),
            "Never",
        ),
        (
            {"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 53, "protocol": "UDP"}]}]},
            ("containers", 0, "ports", 0, "protocol"),
            "UDP",
        ),
        (
            {"volumes": [{"name": "v", "secret": {"secretName": "s", "defaultMode": 256}}]},
            ("volumes", 0, "secret", "defaultMode"),
            256,
        ),
    ],
)
def test_user_values_are_kept(spec: dict[str, Any], path: tuple[str | int, ...], kept: Any) -> None:
    """Defaulting never overrides a value the user set."""
    assert get_path(_defaulted(_pod(**spec))["spec"], *path) == kept


@pytest.mark.parametrize(
    ("image", "tag", "policy"),
    [
        ("nginx", "latest", "Always"),
        ("nginx:latest", "latest", "Always"),
        ("nginx:1.27", "1.27", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "", "IfNotPresent"),
        ("nginx:1.27@sha256:" + "a" * 64, "1.27", "IfNotPresent"),
        ("localhost:5000/nginx", "latest", "Always"),
        ("localhost:5000/team/nginx:v2", "v2", "IfNotPresent"),
        ("", "latest", "Always"),
    ],
)
def test_image_pull_policy(image: str, tag: str, policy: str) -> None:
    """The pull policy follows the tag: latest or none pulls always; a digest never moves."""
    assert image_tag(image) == tag
    assert pull_policy(image) == policy


def test_container_parts_defaults() -> None:
    """Ports, probes, hooks, env field refs and volumes get their defaults."""
    pod = _pod(
        containers=[
            {
                "name": "app",
                "image": "nginx",
                "ports": [{"containerPort": 80}],
                "livenessProbe": {"httpGet": {"port": 80}, "periodSeconds": 0},
                "readinessProbe": {"grpc": {"port": 9000}},
                "lifecycle": {"preStop": {"httpGet": {"port": 80, "path": "/quit"}}},
                "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
            }
        ],
        volumes=[
            {"name": "scratch"},
            {"name": "cfg", "configMap": {"name": "c"}},
            {"name": "host", "hostPath": {"path": "/data"}},
            {"name": "tok", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
        ],
    )
    spec = _defaulted(pod)["spec"]
    container = spec["containers"][0]
    assert container["ports"][0]["protocol"] == "TCP"
    assert container["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert container["readinessProbe"]["grpc"] == {"port": 9000, "service": ""}
    assert container["lifecycle"]["preStop"]["httpGet"] == {
        "port": 80,
        "path": "/quit",
        "scheme": "HTTP",
    }
    assert container["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"
    assert spec["volumes"][0]["emptyDir"] == {}
    assert spec["volumes"][1]["configMap"]["defaultMode"] == 420
    assert spec["volumes"][2]["hostPath"]["type"] == ""
    projected = spec["volumes"][3]["projected"]
    assert projected["defaultMode"] == 420
    assert projected["sources"][0]["serviceAccountToken"]["expirationSeconds"] == 3600


def test_pod_only_defaults() -> None:
    """Requests copy limits, host-network ports become host ports, system classes set priority."""
    pod = _pod(
        hostNetwork=True,
        priorityClassName="system-node-critical",
        containers=[
            {
                "name": "app",
                "image": "x",
                "ports": [{"containerPort": 8080}],
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1"}},
            }
        ],
    )
    spec = _defaulted(pod)["spec"]
    assert spec["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "1Gi"}
    assert spec["containers"][0]["ports"][0]["hostPort"] == 8080
    assert spec["priority"] == 2000001000


def test_template_defaults_leave_out_pod_only_fields() -> None:
    """A template spec gets the spec defaults but none of the pod-only ones."""
    spec: dict[str, Any] = {
        "containers": [{"name": "a", "image": "x", "resources": {"limits": {"cpu": "1"}}}],
    }
    default_pod_spec(spec, template=True)
    assert spec["restartPolicy"] == "Always"
    assert "enableServiceLinks" not in spec
    assert "priority" not in spec
    assert "requests" not in spec["containers"][0]["resources"]


def test_service_account_spellings_agree() -> None:
    """The deprecated `serviceAccount` and `serviceAccountName` end up equal."""
    spec = _defaulted(_pod(serviceAccount="robot"))["spec"]
    assert spec["serviceAccountName"] == spec["serviceAccount"] == "robot"


def test_defaulting_is_idempotent() -> None:
    """Running the defaults twice changes nothing the second time."""
    once = _defaulted(_pod(volumes=[{"name": "v"}]))
    twice = copy.deepcopy(once)
    STRATEGY.default(twice)
    assert twice == once


def test_wrong_types_do_not_crash() -> None:
    """Defaulting leaves values of the wrong type alone for validation to report."""
    pod: dict[str, Any] = {"metadata": {"name": "p"}, "spec": {"containers": "nope", "volumes": [1]}}
    STRATEGY.default(pod)
    assert pod["spec"]["containers"] == "nope"
    STRATEGY.default({"metadata": {}, "spec": None})
