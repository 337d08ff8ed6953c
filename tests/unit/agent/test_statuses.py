"""Pod status rendering: phases by the kubelet's table, container states, conditions and their times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agent.pods.records import ContainerRecord, Mode, Termination
from agent.pods.statuses import PodView, final_phase, own_part, pod_phase, pod_status
from agent.runtime.interface import ContainerId

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
T1 = datetime(2025, 1, 2, 3, 5, 0, tzinfo=UTC)


def record(mode: str, code: int | None = None, *, init: bool = False, crashed: bool = False) -> ContainerRecord:
    r = ContainerRecord("c", "img", init=init)
    if mode == "running":
        r.current = ContainerId("abc")
        r.run(T0)
        r.ready = r.started = True
    elif mode == "terminated":
        r.current = ContainerId("abc")
        r.end(Termination(code or 0, "Completed" if not code else "Error", T0, T1, "abc"))
    elif crashed:
        r.exit = Termination(code or 1, "Error", T0, T1, "abc")
        r.wait("CrashLoopBackOff", "back-off")
    return r


@pytest.mark.parametrize(
    ("policy", "app", "init", "phase"),
    [
        ("Always", ["waiting"], [], "Pending"),
        ("Always", ["running", "waiting"], [], "Pending"),
        ("Always", ["running"], [], "Running"),
        ("Always", ["crashed"], [], "Running"),
        ("Always", ["terminated0"], [], "Running"),
        ("OnFailure", ["terminated0"], [], "Succeeded"),
        ("OnFailure", ["crashed"], [], "Running"),
        ("Never", ["terminated1"], [], "Failed"),
        ("Never", ["terminated0", "terminated0"], [], "Succeeded"),
        ("Never", ["running", "terminated1"], [], "Running"),
        ("Always", ["waiting"], ["running"], "Pending"),
        ("Never", ["waiting"], ["terminated1"], "Failed"),
        ("Always", ["running"], ["terminated0"], "Running"),
    ],
)
def test_phase(policy: str, app: list[str], init: list[str], phase: str) -> None:
    """The kubelet's phase table (getPhase)."""

    def make(kind: str, is_init: bool) -> ContainerRecord:
        if kind.startswith("terminated"):
            return record("terminated", int(kind[-1]), init=is_init)
        return record("waiting" if kind == "crashed" else kind, crashed=kind == "crashed", init=is_init)

    apps = [make(k, False) for k in app]
    inits = [make(k, True) for k in init]
    assert pod_phase(policy, inits, apps, previous="") == phase


def test_terminal_phase_never_goes_back() -> None:
    assert pod_phase("Always", [], [record("running")], previous="Succeeded") == "Succeeded"


def test_final_phase_of_a_deleted_pod() -> None:
    assert final_phase([record("terminated", 0)], "Running") == "Succeeded"
    assert final_phase([record("terminated", 143)], "Running") == "Failed"


def view(pod: dict[str, Any], app: list[ContainerRecord], now: datetime = T1) -> PodView:
    return PodView(pod=pod, init=[], app=app, host_ip="10.0.0.7", pod_ip="", sandbox_ready=True, started_at=T0, now=now)


def test_crash_looping_container_state_and_last_state() -> None:
    """Waiting CrashLoopBackOff with the last exit as lastState; restartCount from containers made."""
    crashed = record("waiting", crashed=True)
    crashed.created = 3
    status = pod_status(view({"spec": {}, "status": {}}, [crashed]))
    c = status["containerStatuses"][0]
    assert c["state"] == {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}
    assert c["lastState"]["terminated"]["exitCode"] == 1 and c["restartCount"] == 2
    assert c["ready"] is False and c["started"] is False


def test_conditions_keep_transition_times_while_unchanged() -> None:
    """A condition whose status stays keeps its lastTransitionTime; a flipped one takes now."""
    previous = [
        {"type": "Ready", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z"},
        {"type": "Initialized", "status": "False", "lastTransitionTime": "2025-01-01T00:00:00Z"},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-12-31T00:00:00Z"},
    ]
    status = pod_status(view({"spec": {}, "status": {"conditions": previous}}, [record("running")]))
    times = {c["type"]: c["lastTransitionTime"] for c in status["conditions"]}
    assert times["Ready"] == "2025-01-01T00:00:00Z"
    assert times["Initialized"] == "2025-01-02T03:05:00Z"
    assert times["PodScheduled"] == "2024-12-31T00:00:00Z"
    assert [c["type"] for c in status["conditions"]] == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]


def test_unready_message_names_the_containers() -> None:
    waiting = ContainerRecord("late", "img")
    status = pod_status(view({"spec": {}, "status": {}}, [record("running"), waiting]))
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "ContainersNotReady" and ready["message"] == "containers with unready status: [late]"


def test_own_part_ignores_other_fields_and_empties() -> None:
    """What 'changed' compares: our fields only, None and empty dropped (a merge patch's removals)."""
    ours: dict[str, Any] = {"phase": "Running", "podIP": None, "containerStatuses": []}
    theirs = {"phase": "Running", "qosClass": "BestEffort"}
    assert own_part(ours) == own_part(theirs)


def test_start_time_is_kept_once_set() -> None:
    status = pod_status(view({"spec": {}, "status": {"startTime": "2020-01-01T00:00:00Z"}}, [record("running")]))
    assert status["startTime"] == "2020-01-01T00:00:00Z"
    fresh = pod_status(view({"spec": {}, "status": {}}, [record("running")]))
    assert fresh["startTime"] == "2025-01-02T03:04:05Z"
    assert fresh["containerStatuses"][0]["state"]["running"]["startedAt"] == "2025-01-02T03:04:05Z"
    assert Mode.RUNNING.value == "running"
