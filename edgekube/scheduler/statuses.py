"""What a plugin answers: a code and the reasons a person reads, instead of exceptions.

A filter that rejects a node says why with reason strings; the scheduler counts them over
all nodes into the FailedScheduling message ("2 Insufficient memory"). `UNSCHEDULABLE`
rejections might go away if other pods left (preemption could help); `UNRESOLVABLE` ones
do not (a taint, a missing label). `SKIP`, from a pre-step, means the plugin has nothing to
check for this pod, so its per-node step is not called at all.

Success is the one shared `SUCCESS` object, so the per-node hot path allocates nothing,
and plugins keep their fixed rejections as module constants for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum


class Code(IntEnum):
    SUCCESS = 0
    ERROR = 1  # a bug or a broken object: retry with backoff, report the message
    UNSCHEDULABLE = 2  # does not fit now; freeing resources could change that
    UNRESOLVABLE = 3  # does not fit, and no eviction would change it
    SKIP = 4  # from pre_filter/pre_score: nothing to do for this pod


@dataclass(frozen=True, slots=True)
class Status:
    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @property
    def ok(self) -> bool:
        return self.code is Code.SUCCESS

    @property
    def rejected(self) -> bool:
        """The node (or pod) does not fit: unschedulable or unresolvable."""
        return self.code is Code.UNSCHEDULABLE or self.code is Code.UNRESOLVABLE

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)

    def by(self, plugin: str) -> Status:
        """The same status, attributed to `plugin` (when it does not say already)."""
        return self if self.plugin or self.ok else replace(self, plugin=plugin)


SUCCESS = Status()
SKIP = Status(Code.SKIP)


def unschedulable(*reasons: str, plugin: str = "") -> Status:
    return Status(Code.UNSCHEDULABLE, reasons, plugin)


def unresolvable(*reasons: str, plugin: str = "") -> Status:
    return Status(Code.UNRESOLVABLE, reasons, plugin)


def error(message: str, plugin: str = "") -> Status:
    return Status(Code.ERROR, (message,), plugin)
