"""The probe worker's state machine: thresholds, timing and stop rules, with a fake clock and handler."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agent.probes import ProbeKind, ProbeResult, ProbeTarget, ProbeTiming, ProbeWorker
from agent.runtime.fake import FakeRuntime
from agent.runtime.interface import ContainerId

S, F = True, False


class FakeClock:
    """Time that moves only when the worker sleeps (or a handler says it took a while)."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


class Script:
    """Answers results in order and records when each attempt started; ends the test when out."""

    def __init__(self, clock: FakeClock, results: list[bool], *, takes: float = 0.0, error_at: int = -1) -> None:
        self.clock, self.results, self.takes, self.error_at = clock, list(results), takes, error_at
        self.started: list[float] = []

    async def check(self, target: ProbeTarget, timeout_seconds: float) -> ProbeResult:
        if not self.results:
            raise asyncio.CancelledError  # the agent cancels the worker
        self.started.append(self.clock.t)
        self.clock.t += self.takes
        if len(self.started) - 1 == self.error_at:
            self.results.pop(0)
            raise RuntimeError("handler bug")
        ok = self.results.pop(0)
        return ProbeResult(ok, "" if ok else "boom")


TARGET = ProbeTarget(FakeRuntime(), ContainerId("c1"))


async def drive(
    kind: ProbeKind, probe: dict[str, Any], results: list[bool], **script: Any
) -> tuple[ProbeWorker, list[bool], Script, FakeClock]:
    """Run a worker over scripted results until it stops or the script ends."""
    clock = FakeClock()
    handler = Script(clock, results, **script)
    changes: list[bool] = []
    worker = ProbeWorker(kind, probe, TARGET, changes.append, clock=clock, handler=handler)
    try:
        await worker.run()
    except asyncio.CancelledError:
        pass
    return worker, changes, handler, clock


@pytest.mark.parametrize(
    ("kind", "probe", "results", "changes", "attempts"),
    [
        # liveness: 3 failures in a row (a success in between resets the count), then stop
        (ProbeKind.LIVENESS, {}, [S, F, F, S, F, F, F, S], [F], 7),
        (ProbeKind.LIVENESS, {"failureThreshold": 1}, [S, F, S], [F], 2),
        (ProbeKind.LIVENESS, {}, [S, S, F, F, S], [], 5),
        # readiness starts not ready; flips both ways by the thresholds and keeps going
        (ProbeKind.READINESS, {}, [S, F, F, F, S], [S, F, S], 5),
        (ProbeKind.READINESS, {"successThreshold": 2, "failureThreshold": 2}, [S, F, S, S, F, S, F, F], [S, F], 8),
        (ProbeKind.READINESS, {}, [F, F, F, F], [], 4),
        # startup: True once it succeeds, then the worker stops; failing out also stops it
        (ProbeKind.STARTUP, {}, [F, F, S, S], [S], 3),
        (ProbeKind.STARTUP, {"failureThreshold": 2}, [F, F, S], [F], 2),
    ],
)
async def test_thresholds(
    kind: ProbeKind, probe: dict[str, Any], results: list[bool], changes: list[bool], attempts: int
) -> None:
    """State flips after successThreshold/failureThreshold equal results in a row; on_change sees only flips."""
    worker, seen, handler, _ = await drive(kind, probe, results)
    assert seen == changes
    assert len(handler.started) == attempts
    assert worker.attempts == attempts


async def test_liveness_success_threshold_is_one() -> None:
    """A liveness probe's successThreshold is always 1, whatever the spec says."""
    assert ProbeTiming.from_probe({"successThreshold": 3}, ProbeKind.LIVENESS).success_threshold == 1
    assert ProbeTiming.from_probe({"successThreshold": 3}, ProbeKind.READINESS).success_threshold == 3


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        ({}, ProbeTiming(0, 10, 1, 1, 3)),
        ({"periodSeconds": 0, "timeoutSeconds": 0, "failureThreshold": 0}, ProbeTiming(0, 10, 1, 1, 3)),
        ({"initialDelaySeconds": 5, "periodSeconds": 2, "timeoutSeconds": 3, "failureThreshold": 4},
         ProbeTiming(5, 2, 3, 1, 4)),
    ],
)  # fmt: skip
def test_timing_defaults(probe: dict[str, Any], expected: ProbeTiming) -> None:
    """Unset or zero fields take the Kubernetes defaults."""
    assert ProbeTiming.from_probe(probe, ProbeKind.READINESS) == expected


async def test_schedule() -> None:
    """The first attempt waits initialDelaySeconds; then one attempt per period, start to start."""
    probe = {"initialDelaySeconds": 5, "periodSeconds": 10}
    _, _, handler, _ = await drive(ProbeKind.READINESS, probe, [S, S, S], takes=3)
    assert handler.started == [5, 15, 25]


async def test_slow_attempt_does_not_overlap() -> None:
    """An attempt longer than the period is followed by the next one at once."""
    _, _, handler, _ = await drive(ProbeKind.READINESS, {"periodSeconds": 2}, [S, S, S], takes=3)
    assert handler.started == [0, 3, 6]


async def test_handler_error_counts_as_failure() -> None:
    """A handler that raises is a failed attempt with the error as message; probing goes on."""
    worker, changes, handler, _ = await drive(ProbeKind.READINESS, {}, [S, S, S, S], error_at=1)
    assert changes == [True]  # one error is below the failure threshold of 3
    assert len(handler.started) == 4
    assert worker.last_result == ProbeResult(True, "")


async def test_on_change_errors_do_not_stop_the_worker() -> None:
    """A failing on_change callback is logged; the worker keeps probing."""
    clock = FakeClock()
    handler = Script(clock, [S, F, F, F, S])

    def broken(state: bool) -> None:
        raise ValueError("agent bug")

    worker = ProbeWorker("readiness", {}, TARGET, broken, clock=clock, handler=handler)
    with pytest.raises(asyncio.CancelledError):
        await worker.run()
    assert len(handler.started) == 5 and worker.state is True


def test_initial_states() -> None:
    """Liveness starts alive, readiness not ready, startup unknown."""
    states = {kind: ProbeWorker(kind, {}, TARGET, print).state for kind in ProbeKind}
    assert states == {ProbeKind.LIVENESS: True, ProbeKind.READINESS: False, ProbeKind.STARTUP: None}
