"""`ProbeWorker`: one probe of one container, run on its schedule, reporting state flips.

The state machine is the kubelet's:

- The state starts at the kind's initial value: liveness True (a container is alive
  until proven otherwise), readiness False, startup None (unknown: both a success and
  failureThreshold failures flip it).
- After `initialDelaySeconds`, one attempt every `periodSeconds` (measured from the start
  of one attempt to the start of the next), each bounded by `timeoutSeconds`.
- Consecutive equal results are counted; the state becomes True after
  `successThreshold` successes in a row and False after `failureThreshold` failures in a
  row. Worked example: failureThreshold 3, period 10 s: a server that dies just after a
  successful probe is declared dead by the third failed probe, 30 s later.
- `on_change(state)` is called only when the state flips.

What happens next is per kind:

- liveness: False means "restart the container". The worker then stops (the kubelet
  holds its worker until the container is replaced); the agent starts a new worker for
  the new container.
- startup: True once it succeeded, after which the worker stops and the agent starts
  the liveness and readiness workers; False (failureThreshold reached) means restart, as
  for liveness, and the worker stops too.
- readiness: flips both ways for as long as the worker runs; the agent cancels it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import structlog

from agent.probes.clocks import LOOP_CLOCK, Clock
from agent.probes.handlers import Handler, handler_for
from agent.probes.results import ProbeKind, ProbeResult, ProbeTarget, ProbeTiming

log = structlog.get_logger(__name__)

INITIAL_STATE: dict[ProbeKind, bool | None] = {
    ProbeKind.LIVENESS: True,
    ProbeKind.READINESS: False,
    ProbeKind.STARTUP: None,
}


class ProbeWorker:
    def __init__(
        self,
        kind: ProbeKind | str,
        probe: Mapping[str, Any],
        target: ProbeTarget,
        on_change: Callable[[bool], None],
        *,
        clock: Clock = LOOP_CLOCK,
        handler: Handler | None = None,
    ) -> None:
        self.kind = ProbeKind(kind)
        self.timing = ProbeTiming.from_probe(probe, self.kind)
        self.target = target
        self.handler = handler or handler_for(probe)
        self._on_change = on_change
        self._clock = clock
        self.state: bool | None = INITIAL_STATE[self.kind]
        """The probe's current verdict (see the module docstring)."""
        self.last_result: ProbeResult | None = None
        """The latest attempt, for Events ('Liveness probe failed: ...')."""
        self.attempts = 0
        """Attempts completed."""
        self._last_success: bool | None = None
        self._run = 0
        self._log = log.bind(probe=self.kind.value, container=str(target.container_id)[:12])

    async def run(self) -> None:
        """Probe until cancelled, or until a liveness/startup verdict ends this worker's job."""
        await self._clock.sleep(self.timing.initial_delay)
        while True:
            started = self._clock.now()
            result = await self.probe_once()
            if self.record(result) and self._finished():
                return
            await self._clock.sleep(max(0.0, started + self.timing.period - self._clock.now()))

    async def probe_once(self) -> ProbeResult:
        """One attempt; a handler's unexpected error counts as a failure, never ends the worker."""
        try:
            result = await self.handler.check(self.target, self.timing.timeout)
        except Exception as err:  # a handler bug must not stop probing (cancellation still does)
            self._log.exception("probe handler failed")
            result = ProbeResult(False, f"probe error: {err}")
        self.attempts += 1
        self.last_result = result
        if not result.success:
            self._log.debug("probe failed", message=result.message)
        return result

    def record(self, result: ProbeResult) -> bool:
        """Count `result` in; True when the state flipped (and `on_change` was called)."""
        if result.success == self._last_success:
            self._run += 1
        else:
            self._last_success, self._run = result.success, 1
        threshold = self.timing.success_threshold if result.success else self.timing.failure_threshold
        if self._run < threshold or result.success == self.state:
            return False
        self.state = result.success
        self._log.info("probe state changed", state=result.success, message=result.message)
        try:
            self._on_change(result.success)
        except Exception:  # the agent's bug must not stop probing
            self._log.exception("on_change failed")
        return True

    def _finished(self) -> bool:
        if self.kind is ProbeKind.READINESS:
            return False
        return self.kind is ProbeKind.STARTUP or not self.state
