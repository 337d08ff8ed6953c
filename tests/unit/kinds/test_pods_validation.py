"""Pod validation: each problem is reported at its Kubernetes field path."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.resources.kinds.pods import STRATEGY


def _container(**fields: Any) -> dict[str, Any]:
    return {"name": "app", "image": "nginx:1.27", **fields}


def _pod(name: str = "web", **spec: Any) -> dict[str, Any]:
    spec.setdefault("containers", [_container()])
    pod = {"metadata": {"name": name, "namespace": "default"}, "spec": spec}
    STRATEGY.prepare_for_create(pod)
    STRATEGY.default(pod)
    return pod


def _fields(pod: dict[str, Any]) -> dict[str, list[str]]:
    """The messages of every cause, by field."""
    out: dict[str, list[str]] = {}
    for cause in STRATEGY.validate(pod):
        out.setdefault(cause.field, []).append(cause.message)
    return out


def test_typical_pod_is_valid() -> None:
    """A pod using most features validates with no causes."""
    pod = _pod(
        containers=[
            _container(
                ports=[{"name": "http", "containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}],
                env=[
                    {"name": "A", "value": "1"},
                    {"name": "my.var-1", "value": "relaxed names are fine"},
                    {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                    {"name": "K", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k.v"}}},
                ],
                envFrom=[{"secretRef": {"name": "s"}, "prefix": "S_"}],
                volumeMounts=[{"name": "data", "mountPath": "/data", "subPath": "a/b"}],
                resources={"requests": {"cpu": "100m"}, "limits": {"cpu": "1", "memory": "1Gi"}},
                livenessProbe={"httpGet": {"port": "http"}},
                readinessProbe={"tcpSocket": {"port": 80}, "successThreshold": 2},
                startupProbe={"exec": {"command": ["true"]}},
                lifecycle={"preStop": {"sleep": {"seconds": 5}}},
            )
        ],
        initContainers=[
            {"name": "init", "image": "busybox"},
            {
                "name": "sidecar",
                "image": "envoy",
                "restartPolicy": "Always",
                "readinessProbe": {"tcpSocket": {"port": 1}},
            },
        ],
        volumes=[{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}],
        tolerations=[
            {"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"},
            {"operator": "Exists"},
            {"key": "n", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
        ],
        nodeSelector={"kubernetes.io/arch": "arm64"},
        activeDeadlineSeconds=60,
        readinessGates=[{"conditionType": "example.com/ready"}],
        dnsPolicy="None",
        dnsConfig={"nameservers": ["1.1.1.1"]},
    )
    assert STRATEGY.validate(pod) == []


C = _container  # short alias for the table below


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"containers": []}, "spec.containers", "Required value"),
        ({"containers": [C(name="Bad_Name")]}, "spec.containers[0].name", "RFC 1123 label"),
        ({"containers": [C(name="")]}, "spec.containers[0].name", "Required value"),
        ({"containers": [C(), C()]}, "spec.containers[1].name", 'Duplicate value: "app"'),
        (
            {"initContainers": [C()]},
            "spec.initContainers[0].name",
            'Duplicate value: "app"',
        ),
        ({"containers": [C(image="")]}, "spec.containers[0].image", "Required value"),
        ({"containers": [C(image=" nginx")]}, "spec.containers[0].image", "whitespace"),
        (
            {"containers": [C(ports=[{"containerPort": 70000}])]},
            "spec.containers[0].ports[0].containerPort",
            "Invalid value: 70000: must be between 1 and 65535, inclusive",
        ),
        (
            {"containers": [C(ports=[{"containerPort": 0}])]},
            "spec.containers[0].ports[0].containerPort",
            "Required value",
        ),
        (
            {"containers": [C(ports=[{"containerPort": 80, "hostPort": -1}])]},
            "spec.containers[0].ports[0].hostPort",
            "must be between 1 and 65535",
        ),
        (
            {"containers": [C(ports=[{"containerPort": 80, "protocol": "HTTP"}])]},
            "spec.containers[0].ports[0].protocol",
            'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        ),
        (
            {"containers": [C(ports=[{"containerPort": 80, "name": "way-too-long-port-name"}])]},
            "spec.containers[0].ports[0].name",
            "must be no more than 15 characters",
        ),
        (
            {"containers": [C(ports=[{"containerPort": 80, "name": "8080"}])]},
            "spec.containers[0].ports[0].name",
            "must contain at least one letter (a-z)",
        ),
        (
            {"containers": [C(ports=[{"containerPort": 80, "name": "HTTP"}])]},
            "spec.containers[0].ports[0].name",
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        ),
        (
            {"containers": [C(ports=[{"containerPort": 80, "name": "a--b"}])]},
            "spec.containers[0].ports[0].name",
            "must not contain consecutive hyphens",
        ),
        (
            {"containers": [C(ports=[{"containerPort": 80, "name": "web"}, {"containerPort": 81, "name": "web"}])]},
            "spec.containers[0].ports[1].name",
            'Duplicate value: "web"',
        ),
        (
            {
                "containers": [
                    C(ports=[{"containerPort": 80, "hostPort": 80}]),
                    C(name="b", ports=[{"containerPort": 81, "hostPort": 80}]),
                ]
            },
            "spec.containers[1].ports[0].hostPort",
            'Duplicate value: "TCP//80"',
        ),
        (
            {"containers": [C(env=[{"name": "A=B", "value": "x"}])]},
            "spec.containers[0].env[0].name",
            "printable ASCII characters other than '='",
        ),
        ({"containers": [C(env=[{"value": "x"}])]}, "spec.containers[0].env[0].name", "Required value"),
        (
            {
                "containers": [
                    C(env=[{"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}])
                ]
            },
            "spec.containers[0].env[0].valueFrom",
            "may not be specified when `value` is not empty",
        ),
        (
            {"containers": [C(env=[{"name": "A", "valueFrom": {}}])]},
            "spec.containers[0].env[0].valueFrom",
            "must specify one of: `fieldRef`",
        ),
        (
            {"containers": [C(env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.containers"}}}])]},
            "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath",
            'Unsupported value: "spec.containers"',
        ),
        (
            {"containers": [C(env=[{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s"}}}])]},
            "spec.containers[0].env[0].valueFrom.secretKeyRef.key",
            "Required value",
        ),
        (
            {"containers": [C(envFrom=[{"configMapRef": {"name": "Bad"}}])]},
            "spec.containers[0].envFrom[0].configMapRef.name",
            "RFC 1123 subdomain",
        ),
        (
            {"containers": [C(volumeMounts=[{"name": "missing", "mountPath": "/x"}])]},
            "spec.containers[0].volumeMounts[0].name",
            'Not found: "missing"',
        ),
        (
            {
                "volumes": [{"name": "v"}],
                "containers": [C(volumeMounts=[{"name": "v", "mountPath": "/x"}, {"name": "v", "mountPath": "/x"}])],
            },
            "spec.containers[0].volumeMounts[1].mountPath",
            "must be unique",
        ),
        (
            {
                "volumes": [{"name": "v"}],
                "containers": [C(volumeMounts=[{"name": "v", "mountPath": "/x", "subPath": "../etc"}])],
            },
            "spec.containers[0].volumeMounts[0].subPath",
            "must not contain '..'",
        ),
        ({"volumes": [{"name": "Data"}]}, "spec.volumes[0].name", "RFC 1123 label"),
        ({"volumes": [{"name": "v"}, {"name": "v"}]}, "spec.volumes[1].name", 'Duplicate value: "v"'),
        (
            {"volumes": [{"name": "v", "emptyDir": {}, "hostPath": {"path": "/x"}}]},
            "spec.volumes[0].emptyDir",
            "may not specify more than 1 volume type",
        ),
        ({"volumes": [{"name": "v", "configMap": {}}]}, "spec.volumes[0].configMap.name", "Required value"),
        (
            {"volumes": [{"name": "v", "secret": {"secretName": "s", "defaultMode": 1000}}]},
            "spec.volumes[0].secret.defaultMode",
            "must be a number between 0 and 0777 (octal), both inclusive",
        ),
        (
            {"restartPolicy": "Sometimes"},
            "spec.restartPolicy",
            'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
        ),
        ({"dnsPolicy": "Google"}, "spec.dnsPolicy", 'Unsupported value: "Google"'),
        ({"dnsPolicy": "None"}, "spec.dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None"),
        (
            {"containers": [C(livenessProbe={"exec": {"command": ["x"]}, "httpGet": {"port": 80}})]},
            "spec.containers[0].livenessProbe.httpGet",
            "may not specify more than 1 handler type",
        ),
        (
            {"containers": [C(readinessProbe={"periodSeconds": 5})]},
            "spec.containers[0].readinessProbe",
            "Required value: must specify a handler type",
        ),
        (
            {"containers": [C(livenessProbe={"tcpSocket": {"port": 80}, "successThreshold": 2})]},
            "spec.containers[0].livenessProbe.successThreshold",
            "Invalid value: 2: must be 1",
        ),
        (
            {"containers": [C(livenessProbe={"tcpSocket": {"port": 80}, "initialDelaySeconds": -1})]},
            "spec.containers[0].livenessProbe.initialDelaySeconds",
            "must be greater than or equal to 0",
        ),
        (
            {"containers": [C(livenessProbe={"httpGet": {"port": "NOPE"}})]},
            "spec.containers[0].livenessProbe.httpGet.port",
            "must contain only alpha-numeric characters",
        ),
        (
            {"containers": [C(lifecycle={"postStart": {}})]},
            "spec.containers[0].lifecycle.postStart",
            "must specify a handler type",
        ),
        (
            {"initContainers": [{"name": "i", "image": "x", "readinessProbe": {"tcpSocket": {"port": 1}}}]},
            "spec.initContainers[0].readinessProbe",
            "may not be set for init containers without restartPolicy=Always",
        ),
        (
            {"containers": [C(restartPolicy="Always")]},
            "spec.containers[0].restartPolicy",
            "may not be set for non-init containers",
        ),
        (
            {"containers": [C(imagePullPolicy="Sometimes")]},
            "spec.containers[0].imagePullPolicy",
            'supported values: "Always", "IfNotPresent", "Never"',
        ),
        (
            {"containers": [C(resources={"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}})]},
            "spec.containers[0].resources.requests[memory]",
            "must be less than or equal to memory limit of 1Gi",
        ),
        (
            {"tolerations": [{"operator": "Equal", "value": "v"}]},
            "spec.tolerations[0].operator",
            "operator must be Exists when `key` is empty",
        ),
        (
            {"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]},
            "spec.tolerations[0].operator",
            "value must be empty when `operator` is 'Exists'",
        ),
        (
            {"tolerations": [{"key": "k", "effect": "NoSchedule", "tolerationSeconds": 5}]},
            "spec.tolerations[0].effect",
            "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ),
        (
            {"tolerations": [{"key": "k", "effect": "Sometimes"}]},
            "spec.tolerations[0].effect",
            'Unsupported value: "Sometimes"',
        ),
        ({"activeDeadlineSeconds": 0}, "spec.activeDeadlineSeconds", "must be between 1 and 2147483647"),
        ({"nodeName": "Node_1"}, "spec.nodeName", "RFC 1123 subdomain"),
        ({"serviceAccountName": "Robot"}, "spec.serviceAccountName", "RFC 1123 subdomain"),
        ({"hostname": "a.b"}, "spec.hostname", "RFC 1123 label"),
        ({"nodeSelector": {"bad key!": "v"}}, "spec.nodeSelector", "name part must consist"),
        (
            {"ephemeralContainers": [{"name": "debug", "image": "busybox"}]},
            "spec.ephemeralContainers",
            "cannot be set on create",
        ),
        (
            {"hostNetwork": True, "containers": [C(ports=[{"containerPort": 80, "hostPort": 81}])]},
            "spec.containers[0].ports[0].hostPort",
            "must match `containerPort` when `hostNetwork` is true",
        ),
    ],
)
def test_pod_problem(spec: dict[str, Any], field: str, message: str) -> None:
    """Each invalid pod spec yields a cause at the expected path with Kubernetes' wording."""
    fields = _fields(_pod(**spec))
    assert any(message in m for m in fields.get(field, [])), fields


def test_pod_name_must_be_a_subdomain() -> None:
    """The pod's own name is a DNS-1123 subdomain."""
    assert "metadata.name" in _fields(_pod(name="Web_1"))


@pytest.mark.parametrize(
    "spec",
    [
        {"containers": "not-a-list"},
        {"containers": [None, 1, "x"]},
        {"containers": [C(ports="80", env={"A": 1}, resources=[], livenessProbe=5)]},
        {"volumes": {"v": {}}, "tolerations": "all", "nodeSelector": ["a"]},
        {"containers": [C(volumeMounts=[{"name": ["x"], "mountPath": 5}])]},
        {"containers": [C(env=[{"name": 5, "valueFrom": {"fieldRef": {"fieldPath": 3}}}])]},
        {"restartPolicy": ["Always"], "dnsPolicy": {}, "activeDeadlineSeconds": "10"},
    ],
)
def test_wrong_types_are_invalid_not_crashes(spec: dict[str, Any]) -> None:
    """Values of the wrong JSON type give causes (or are left to the schema), never exceptions."""
    pod = {"metadata": {"name": "p", "namespace": "default"}, "spec": spec}
    STRATEGY.default(pod)
    STRATEGY.validate(pod)


def test_spec_missing() -> None:
    """A pod without a spec is invalid at `spec`."""
    assert "spec" in _fields({"metadata": {"name": "p", "namespace": "default"}})
