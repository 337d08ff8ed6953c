"""Crash-loop and pull back-off arithmetic, restart rules and their wording."""

from __future__ import annotations

import pytest

from agent.pods.backoffs import Backoff, after_crash, after_pull_failure
from agent.pods.restarts import crash_message, go_duration, should_restart


def test_crash_waits_double_from_the_second_crash_up_to_the_cap() -> None:
    """Crash 1 restarts at once; then 10, 20, 40 ... 300 s (each measured from the exit)."""
    state, waits = Backoff(), []
    for finished in range(0, 9000, 1000):
        state = after_crash(state, finished_at=finished, ran_for=1.0, initial=10, maximum=300, reset=600)
        waits.append(state.retry_at - finished)
    assert waits == [0, 10, 20, 40, 80, 160, 300, 300, 300]


def test_a_long_run_resets_the_back_off() -> None:
    """A container that ran 10 minutes before crashing restarts at once, as if it never crashed."""
    state = Backoff(next_delay=160.0)
    state = after_crash(state, finished_at=5.0, ran_for=600.0, initial=10, maximum=300, reset=600)
    assert state.retry_at == 5.0 and state.next_delay == 10


def test_pull_failures_wait_from_the_first() -> None:
    state, waits = Backoff(), []
    for failed in (0.0, 100.0, 200.0, 300.0):
        state = after_pull_failure(state, failed_at=failed, initial=10, maximum=25)
        waits.append(state.retry_at - failed)
    assert waits == [10, 20, 25, 25]


@pytest.mark.parametrize(
    ("policy", "init", "code", "restart"),
    [
        ("Always", False, 0, True),
        ("Always", False, 1, True),
        ("OnFailure", False, 0, False),
        ("OnFailure", False, 1, True),
        ("Never", False, 1, False),
        ("Always", True, 0, False),
        ("Always", True, 1, True),
        ("OnFailure", True, 1, True),
        ("Never", True, 1, False),
    ],
)
def test_should_restart(policy: str, init: bool, code: int, restart: bool) -> None:
    """Which exits restart, per policy; init containers run until they succeed."""
    assert should_restart(policy, init=init, exit_code=code) is restart


@pytest.mark.parametrize(("seconds", "text"), [(10, "10s"), (0.5, "0.5s"), (80, "1m20s"), (300, "5m0s")])
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_crash_message_is_the_kubelets() -> None:
    assert (
        crash_message(20, "app", "web", "prod", "u1") == "back-off 20s restarting failed container=app pod=web_prod(u1)"
    )
