"""Environment variables, `$(VAR)` expansion and container specs built from a pod."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from agent.pods.envs import EnvError, resolve_env
from agent.pods.expansion import expand
from agent.pods.specs import container_spec, grace_period, pull_policy, resources, security
from agent.runtime.interface import PullPolicy
from tests.unit.agent.conftest import DictReferences

POD: dict[str, Any] = {
    "metadata": {"name": "web", "namespace": "prod", "uid": "u-1", "labels": {"app": "shop"}},
    "spec": {"nodeName": "pi-3", "serviceAccountName": "default"},
    "status": {"podIP": ""},
}
REFS = DictReferences(
    configmaps={"cfg": {"data": {"mode": "edge", "level": "3", "bad=key": "x"}}},
    secrets={"pw": {"data": {"password": base64.b64encode(b"s3cret").decode()}}},
)


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("x$(A)y", "x1y"),
        ("$(B)", "$(B)"),
        ("$$(A)", "$(A)"),
        ("$$", "$"),
        ("$(A", "$(A"),
        ("a$b", "a$b"),
        ("$(A)$(A)", "11"),
    ],
)
def test_expand(text: str, result: str) -> None:
    """Kubernetes' $(VAR) rules: defined names expand, others stay, $$ escapes."""
    assert expand(text, {"A": "1"}) == result


async def test_env_sources_and_precedence() -> None:
    """envFrom first (with prefix), env after it and winning; values see earlier variables."""
    container = {
        "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
        "env": [
            {"name": "CFG_MODE", "value": "override"},
            {"name": "WHO", "value": "$(POD)-$(CFG_LEVEL)"},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
            {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "pw", "key": "password"}}},
            {"name": "OPT", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k", "optional": True}}},
        ],
    }
    env = await resolve_env(POD, container, REFS, host_ip="10.0.0.7")
    assert env == {
        "CFG_mode": "edge",
        "CFG_level": "3",
        "CFG_MODE": "override",
        "WHO": "$(POD)-$(CFG_LEVEL)",
        "POD": "web",
        "NODE": "pi-3",
        "APP": "shop",
        "HOST": "10.0.0.7",
        "PW": "s3cret",
    }


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"configMapKeyRef": {"name": "nope", "key": "k"}}, 'configmap "nope" not found'),
        ({"configMapKeyRef": {"name": "cfg", "key": "k"}}, "couldn't find key k in ConfigMap prod/cfg"),
        ({"secretKeyRef": {"name": "pw", "key": "user"}}, "couldn't find key user in Secret prod/pw"),
        ({"fieldRef": {"fieldPath": "spec.unknown"}}, "unsupported fieldPath"),
    ],
)
async def test_unresolvable_env_is_a_config_error(source: dict[str, Any], message: str) -> None:
    with pytest.raises(EnvError, match=message) as err:
        await resolve_env(POD, {"env": [{"name": "X", "valueFrom": source}]}, REFS, host_ip="")
    assert err.value.reason == "CreateContainerConfigError"


async def test_resource_field_ref_divides_and_rounds_up() -> None:
    container = {
        "resources": {"limits": {"memory": "128Mi", "cpu": "250m"}},
        "env": [
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
            {"name": "REQ", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}}},
        ],
    }
    env = await resolve_env(POD, container, REFS, host_ip="")
    assert env == {"MEM": "128", "CPU": "1", "REQ": "0"}


def test_container_spec_expands_command_and_args() -> None:
    container = {
        "name": "c",
        "image": "img",
        "command": ["echo", "$(A)"],
        "args": ["$(B)", "$$(A)"],
        "workingDir": "/w",
    }
    spec = container_spec(
        POD, container, env={"A": "1", "B": "2"}, mounts=[], restart_count=3, node_name="n", extra_labels={}
    )
    assert spec.command == ("echo", "1") and spec.args == ("2", "$(A)")
    assert spec.restart_count == 3 and spec.working_dir == "/w" and spec.labels["io.edgekube.node"] == "n"


def test_resources_become_limits_and_shares() -> None:
    res = resources({"resources": {"limits": {"memory": "64Mi", "cpu": "500m"}, "requests": {"cpu": "100m"}}})
    assert res.memory_limit_bytes == 64 * 1024 * 1024
    assert res.cpu_limit_millis == 500 and res.cpu_request_millis == 100
    assert resources({"resources": {"limits": {"cpu": "2"}}}).cpu_request_millis == 2000


def test_security_context_container_over_pod() -> None:
    pod = {"spec": {"securityContext": {"runAsUser": 1000, "runAsGroup": 100, "fsGroup": 2000}}}
    sc = security(pod, {"securityContext": {"runAsUser": 1001, "capabilities": {"drop": ["ALL"]}}})
    assert (sc.run_as_user, sc.run_as_group, sc.supplemental_groups) == (1001, 100, (2000,))
    assert sc.capabilities_drop == ("ALL",) and sc.allow_privilege_escalation
    with pytest.raises(EnvError, match="runAsNonRoot"):
        security({"spec": {"securityContext": {"runAsNonRoot": True}}}, {})


@pytest.mark.parametrize(
    ("container", "policy"),
    [
        ({"image": "busybox"}, PullPolicy.ALWAYS),
        ({"image": "busybox:latest"}, PullPolicy.ALWAYS),
        ({"image": "busybox:1.36"}, PullPolicy.IF_NOT_PRESENT),
        ({"image": "reg:5000/busybox"}, PullPolicy.ALWAYS),
        ({"image": "busybox:latest", "imagePullPolicy": "Never"}, PullPolicy.NEVER),
    ],
)
def test_pull_policy(container: dict[str, Any], policy: PullPolicy) -> None:
    assert pull_policy(container) is policy


def test_grace_period_prefers_the_deletion_grace() -> None:
    assert (
        grace_period({"metadata": {"deletionGracePeriodSeconds": 5}, "spec": {"terminationGracePeriodSeconds": 30}}, 1)
        == 5
    )
    assert grace_period({"spec": {"terminationGracePeriodSeconds": 0}}, 30) == 0
    assert grace_period({}, 30) == 30
