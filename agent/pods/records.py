"""What a pod worker knows about each of its containers between syncs.

One `ContainerRecord` per container name (init containers too), surviving the
container's restarts: the current runtime container, the one before it (kept for
`kubectl logs --previous`), how many were created, how the current one ended, and the
waiting reason when nothing runs. `statuses` renders records into the pod status; the
worker is the only writer.

`mode` is the state Kubernetes shows: WAITING (not started, backing off, pulling),
RUNNING, or TERMINATED (ended and not going to be restarted).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from agent.pods.backoffs import Backoff
from agent.runtime.interface import ContainerId, ContainerStatus

CONTAINER_ID_PREFIX = "podman://"


class Mode(enum.Enum):
    WAITING = "waiting"
    RUNNING = "running"
    TERMINATED = "terminated"


@dataclass(frozen=True)
class Termination:
    exit_code: int
    reason: str
    """OOMKilled, Completed (exit 0), Error, or ContainerCannotRun (the process never started)."""
    started_at: datetime | None
    finished_at: datetime | None
    container_id: str
    """The runtime id ('' : no container was left behind)."""
    message: str = ""

    @classmethod
    def of(cls, status: ContainerStatus) -> Termination:
        code = status.exit_code if status.exit_code is not None else 0
        reason = "OOMKilled" if status.oom_killed else ("Completed" if code == 0 else "Error")
        return cls(code, reason, status.started_at, status.finished_at, status.id, status.message)


@dataclass
class ContainerRecord:
    name: str
    image: str
    init: bool = False
    current: ContainerId | None = None
    previous: ContainerId | None = None
    """The container before `current`, kept for `logs --previous`; older ones are removed."""
    created: int = 0
    """Containers created so far under this name; the next one's restart-count label."""
    mode: Mode = Mode.WAITING
    waiting_reason: str = "ContainerCreating"
    waiting_message: str = ""
    running_since: datetime | None = None
    exit: Termination | None = None
    """How `current` ended, once it has."""
    last_termination: Termination | None = None
    """How `previous` ended: the status's lastState while `current` runs."""
    image_id: str = ""
    ready: bool = False
    """Readiness: the readiness probe's last verdict (True without a probe, once running)."""
    started: bool = False
    """The startup probe passed (True without one, once running)."""
    crash: Backoff = field(default_factory=Backoff)
    crash_of: str = ""
    """The container id whose exit `crash` was computed for, so one exit counts once."""
    retry: Backoff = field(default_factory=Backoff)
    """Back-off of a failed pull or create: ErrImagePull then ImagePullBackOff, CreateContainerError."""
    restart_requested: bool = False
    """A liveness or startup probe failed: the current container is to be killed and restarted."""

    @property
    def restart_count(self) -> int:
        return max(0, self.created - 1)

    @property
    def succeeded(self) -> bool:
        return self.exit is not None and self.exit.exit_code == 0 and self.mode is Mode.TERMINATED

    def wait(self, reason: str, message: str = "") -> None:
        self.mode, self.waiting_reason, self.waiting_message = Mode.WAITING, reason, message
        self.running_since = None
        self.ready = False

    def run(self, since: datetime | None) -> None:
        self.mode, self.running_since = Mode.RUNNING, since
        self.waiting_reason, self.waiting_message = "", ""

    def end(self, termination: Termination) -> None:
        """`current` ended and stays ended (no restart by policy)."""
        self.exit = termination
        self.mode, self.running_since, self.ready = Mode.TERMINATED, None, False

    def replaced_by(self, container: ContainerId) -> None:
        """A new container takes over: the current one becomes the previous."""
        if self.current is not None:
            self.previous = self.current
            self.last_termination = self.exit or self.last_termination
        self.current, self.exit = container, None
        self.created += 1
        self.ready = self.started = False
        self.restart_requested = False
