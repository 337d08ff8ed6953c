"""Container probes (liveness, readiness, startup): `ProbeWorker` runs one probe of one container.

The agent builds a `ProbeTarget` (runtime, container id, the sandbox's netns path, the
pod IP, the container's named ports), starts `ProbeWorker(...).run()` as a task, and
acts on `on_change`. Modules: `results` (data and timing), `handlers` (exec, httpGet,
tcpSocket), `netns` (connecting from inside a pod's network namespace), `clocks`,
`probing` (the worker's state machine).
"""

from agent.probes.clocks import LOOP_CLOCK, Clock, LoopClock
from agent.probes.handlers import Handler, handler_for
from agent.probes.probing import ProbeWorker
from agent.probes.results import ProbeKind, ProbeResult, ProbeTarget, ProbeTiming

__all__ = [
    "LOOP_CLOCK",
    "Clock",
    "Handler",
    "LoopClock",
    "ProbeKind",
    "ProbeResult",
    "ProbeTarget",
    "ProbeTiming",
    "ProbeWorker",
    "handler_for",
]
