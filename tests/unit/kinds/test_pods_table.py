"""Pod reads: kubectl columns, field selectors, QoS class and status-write checks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.resources.kinds.pod_resources import qos_class
from edgekube.resources.kinds.pods import STRATEGY

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
CREATED = "2024-05-01T11:00:00Z"


def _running(name: str = "app", restarts: int = 0, ready: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": CREATED}},
    }


def _waiting(reason: str, name: str = "app", restarts: int = 0) -> dict[str, Any]:
    return {"name": name, "ready": False, "restartCount": restarts, "state": {"waiting": {"reason": reason}}}


def _terminated(name: str = "app", code: int = 0, reason: str = "", signal: int = 0) -> dict[str, Any]:
    terminated: dict[str, Any] = {"exitCode": code}
    if reason:
        terminated["reason"] = reason
    if signal:
        terminated["signal"] = signal
    return {"name": name, "ready": False, "restartCount": 0, "state": {"terminated": terminated}}


def _pod(
    containers: int = 1,
    inits: int = 0,
    status: dict[str, Any] | None = None,
    **meta: Any,
) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": CREATED, **meta},
        "spec": {
            "containers": [{"name": f"c{i}", "image": "x"} for i in range(containers)],
            "initContainers": [{"name": f"i{i}", "image": "x"} for i in range(inits)],
        },
        "status": status or {},
    }


@pytest.mark.parametrize(
    ("pod", "ready", "status", "restarts"),
    [
        (_pod(status={"phase": "Pending"}), "0/1", "Pending", "0"),
        (_pod(status={"phase": "Running", "containerStatuses": [_running()]}), "1/1", "Running", "0"),
        (
            _pod(2, status={"phase": "Running", "containerStatuses": [_running("a"), _running("b", ready=False)]}),
            "1/2",
            "Running",
            "0",
        ),
        (
            _pod(status={"phase": "Running", "containerStatuses": [_waiting("CrashLoopBackOff", restarts=4)]}),
            "0/1",
            "CrashLoopBackOff",
            "4",
        ),
        (
            _pod(status={"phase": "Pending", "containerStatuses": [_waiting("ContainerCreating")]}),
            "0/1",
            "ContainerCreating",
            "0",
        ),
        (
            _pod(status={"phase": "Succeeded", "containerStatuses": [_terminated(reason="Completed")]}),
            "0/1",
            "Completed",
            "0",
        ),
        (
            _pod(status={"phase": "Failed", "containerStatuses": [_terminated(code=1, reason="Error")]}),
            "0/1",
            "Error",
            "0",
        ),
        (_pod(status={"phase": "Failed", "containerStatuses": [_terminated(code=137)]}), "0/1", "ExitCode:137", "0"),
        (_pod(status={"phase": "Failed", "containerStatuses": [_terminated(signal=9)]}), "0/1", "Signal:9", "0"),
        (
            _pod(status={"phase": "Running", "containerStatuses": [_running()]}, deletionTimestamp=CREATED),
            "1/1",
            "Terminating",
            "0",
        ),
        (
            _pod(status={"phase": "Succeeded"}, deletionTimestamp=CREATED),
            "0/1",
            "Succeeded",
            "0",
        ),
        (
            _pod(status={"phase": "Running", "reason": "NodeLost"}, deletionTimestamp=CREATED),
            "0/1",
            "Unknown",
            "0",
        ),
        (_pod(status={"phase": "Failed", "reason": "Evicted"}), "0/1", "Evicted", "0"),
        (
            _pod(inits=1, status={"phase": "Pending", "initContainerStatuses": [_waiting("PodInitializing", "i0")]}),
            "0/1",
            "Init:0/1",
            "0",
        ),
        (
            _pod(inits=2, status={"phase": "Pending", "initContainerStatuses": [_terminated("i0"), _running("i1")]}),
            "0/1",
            "Init:1/2",
            "0",
        ),
        (
            _pod(
                inits=1, status={"phase": "Pending", "initContainerStatuses": [_waiting("CrashLoopBackOff", "i0", 2)]}
            ),
            "0/1",
            "Init:CrashLoopBackOff",
            "2",
        ),
        (
            _pod(inits=1, status={"phase": "Failed", "initContainerStatuses": [_terminated("i0", code=2)]}),
            "0/1",
            "Init:ExitCode:2",
            "0",
        ),
        (
            _pod(
                2,
                status={
                    "phase": "Running",
                    "conditions": [{"type": "Ready", "status": "False"}],
                    "containerStatuses": [_terminated("a", reason="Completed"), _running("b")],
                },
            ),
            "1/2",
            "NotReady",
            "0",
        ),
        (
            _pod(
                status={
                    "phase": "Pending",
                    "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
                }
            ),
            "0/1",
            "SchedulingGated",
            "0",
        ),
    ],
)
def test_status_columns(pod: dict[str, Any], ready: str, status: str, restarts: str) -> None:
    """READY, STATUS and RESTARTS follow kubectl's rules."""
    row = STRATEGY.row(pod, NOW)
    assert row[:5] == ["web", ready, status, restarts, "60m"]


def test_restarts_show_when_last() -> None:
    """A restart count shows how long ago the last container ended, as newer kubectl does."""
    container = _running(restarts=3)
    container["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T11:55:00Z"}}
    pod = _pod(status={"phase": "Running", "containerStatuses": [container]})
    assert STRATEGY.row(pod, NOW)[3] == "3 (5m ago)"


def test_sidecars_count_as_containers() -> None:
    """A started sidecar init container adds to READY's total and count."""
    pod = _pod(
        inits=1,
        status={
            "phase": "Running",
            "conditions": [{"type": "Initialized", "status": "True"}],
            "initContainerStatuses": [{**_running("i0"), "started": True}],
            "containerStatuses": [_running("c0")],
        },
    )
    pod["spec"]["initContainers"][0]["restartPolicy"] = "Always"
    assert STRATEGY.row(pod, NOW)[1:3] == ["2/2", "Running"]


@pytest.mark.parametrize(
    ("spec", "status", "wide"),
    [
        ({}, {}, ["<none>", "<none>", "<none>", "<none>"]),
        (
            {"nodeName": "node-1", "readinessGates": [{"conditionType": "a"}, {"conditionType": "b"}]},
            {
                "podIP": "10.0.0.5",
                "podIPs": [{"ip": "10.0.0.5"}],
                "nominatedNodeName": "node-2",
                "conditions": [{"type": "a", "status": "True"}, {"type": "b", "status": "False"}],
            },
            ["10.0.0.5", "node-1", "node-2", "1/2"],
        ),
    ],
)
def test_wide_columns(spec: dict[str, Any], status: dict[str, Any], wide: list[str]) -> None:
    """IP, NODE, NOMINATED NODE and READINESS GATES, with `<none>` for what is missing."""
    pod = _pod(status=status)
    pod["spec"].update(spec)
    assert STRATEGY.row(pod, NOW)[5:] == wide
    assert [c.name for c in STRATEGY.columns if c.priority == 1] == [
        "IP",
        "Node",
        "Nominated Node",
        "Readiness Gates",
    ]


def test_rows_survive_wrong_types() -> None:
    """A malformed status still renders a row instead of raising."""
    pod = _pod(status={"containerStatuses": "x", "initContainerStatuses": [None, {"state": 5}]})
    pod["spec"]["containers"] = "x"
    assert STRATEGY.row(pod, NOW)[1] == "0/0"


def test_field_values() -> None:
    """Pods serve the field selectors kubectl and the kubelet use."""
    pod = _pod(status={"phase": "Running", "podIPs": [{"ip": "10.0.0.7"}], "nominatedNodeName": ""})
    pod["spec"].update(
        nodeName="node-1", restartPolicy="Always", schedulerName="default-scheduler", serviceAccountName="default"
    )
    assert STRATEGY.field_values(pod) == {
        "metadata.name": "web",
        "metadata.namespace": "default",
        "spec.nodeName": "node-1",
        "spec.restartPolicy": "Always",
        "spec.schedulerName": "default-scheduler",
        "spec.serviceAccountName": "default",
        "spec.hostNetwork": "false",
        "status.phase": "Running",
        "status.podIP": "10.0.0.7",
        "status.nominatedNodeName": "",
    }


def _resources(requests: dict[str, str] | None = None, limits: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if requests:
        out["requests"] = requests
    if limits:
        out["limits"] = limits
    return {"name": "c", "image": "x", "resources": out}


FULL = {"cpu": "1", "memory": "1Gi"}


@pytest.mark.parametrize(
    ("containers", "expected"),
    [
        ([_resources()], "BestEffort"),
        ([_resources(limits=FULL)], "Guaranteed"),
        ([_resources(FULL, FULL)], "Guaranteed"),
        ([_resources({"cpu": "1000m", "memory": "1024Mi"}, FULL)], "Guaranteed"),
        ([_resources({"cpu": "500m"}, FULL)], "Burstable"),
        ([_resources({"cpu": "1"})], "Burstable"),
        ([_resources(limits={"cpu": "1"})], "Burstable"),
        ([_resources(limits=FULL), _resources()], "Burstable"),
        ([_resources({"cpu": "0"})], "BestEffort"),
        ([_resources({"ephemeral-storage": "1Gi"})], "BestEffort"),
    ],
)
def test_qos_class(containers: list[dict[str, Any]], expected: str) -> None:
    """The QoS class follows the kubelet's rules, counting limits as default requests."""
    assert qos_class({"containers": containers}) == expected


def test_new_pod_status() -> None:
    """A created pod starts Pending with its QoS class, whatever status it was sent with."""
    pod = _pod(status={"phase": "Running"})
    pod["spec"]["containers"] = [_resources(limits=FULL)]
    STRATEGY.prepare_for_create(pod)
    assert pod["status"] == {"phase": "Pending", "qosClass": "Guaranteed"}


@pytest.mark.parametrize(
    ("status", "field"),
    [
        ({"podIP": "10.0.0.300"}, "status.podIP"),
        ({"podIPs": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.1"}]}, "status.podIPs[1]"),
        ({"podIPs": [{"ip": "nope"}]}, "status.podIPs[0]"),
        ({"hostIP": "host"}, "status.hostIP"),
        ({"nominatedNodeName": "Node_1"}, "status.nominatedNodeName"),
        ({"containerStatuses": [{"name": "c", "restartCount": -1}]}, "status.containerStatuses[0].restartCount"),
    ],
)
def test_status_update_problems(status: dict[str, Any], field: str) -> None:
    """Status writes with bad addresses, node names or counts are refused at their field."""
    old = _pod()
    new = _pod(status=status)
    STRATEGY.prepare_for_status_update(new, old)
    assert field in [c.field for c in STRATEGY.validate_status_update(new, old)]


def test_valid_status_update() -> None:
    """A kubelet-style status write passes and cannot touch the spec."""
    old = _pod()
    new = _pod(status={"phase": "Running", "podIP": "fd00::5", "podIPs": [{"ip": "fd00::5"}]})
    new["spec"]["containers"][0]["image"] = "changed"
    STRATEGY.prepare_for_status_update(new, old)
    assert STRATEGY.validate_status_update(new, old) == []
    assert new["spec"]["containers"][0]["image"] == "x"
