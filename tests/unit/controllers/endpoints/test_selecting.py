"""Pure rules: which pods serve, which port number a pod serves a Service port on."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.controllers.endpoints.selecting import may_serve, pod_ip, service_selector, target_port

POD = {
    "spec": {
        "containers": [
            {
                "name": "a",
                "ports": [
                    {"name": "web", "containerPort": 8080},
                    {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                ],
            },
            {"name": "b", "ports": [{"name": "admin", "containerPort": 9000}]},
        ]
    },
}


@pytest.mark.parametrize(
    ("svc_port", "number"),
    [
        ({"port": 80, "targetPort": 8080}, 8080),
        ({"port": 80}, 80),
        ({"port": 80, "targetPort": "web"}, 8080),
        ({"port": 80, "targetPort": "admin"}, 9000),
        ({"port": 53, "targetPort": "dns", "protocol": "UDP"}, 53),
        ({"port": 53, "targetPort": "dns"}, None),  # TCP asked, the pod names a UDP port
        ({"port": 80, "targetPort": "missing"}, None),
    ],
)
def test_target_port(svc_port: dict[str, Any], number: int | None) -> None:
    """Numbers are taken as they are; names are looked up in the pod's containers, protocol included."""
    assert target_port(POD, svc_port) == number


@pytest.mark.parametrize(
    ("policy", "phase", "terminating", "include", "serves"),
    [
        ("Always", "Running", False, False, True),
        ("Always", "Running", True, False, False),
        ("Always", "Running", True, True, True),
        ("Never", "Succeeded", False, False, False),
        ("Never", "Failed", False, False, False),
        ("OnFailure", "Succeeded", False, False, False),
        ("OnFailure", "Failed", False, False, True),
    ],
)
def test_may_serve(policy: str, phase: str, terminating: bool, include: bool, serves: bool) -> None:
    """Finished pods never serve; terminating ones only when asked for."""
    md = {"deletionTimestamp": "2024-01-01T00:00:00Z"} if terminating else {}
    pod = {"metadata": md, "spec": {"restartPolicy": policy}, "status": {"phase": phase}}
    assert may_serve(pod, include_terminating=include) is serves


def test_pod_ip_by_family() -> None:
    """The address of the Service's family is picked from podIPs."""
    pod = {"status": {"podIP": "10.42.0.5", "podIPs": [{"ip": "10.42.0.5"}, {"ip": "fd00::5"}]}}
    assert (pod_ip(pod, "IPv4"), pod_ip(pod, "IPv6"), pod_ip({"status": {}}, "IPv4")) == ("10.42.0.5", "fd00::5", None)


def test_empty_selector_is_no_selector() -> None:
    """`selector: {}` selects nothing, as Kubernetes (which stores it as no selector) does."""
    assert service_selector({"spec": {"selector": {}}}) is None
    assert service_selector({"spec": {}}) is None
