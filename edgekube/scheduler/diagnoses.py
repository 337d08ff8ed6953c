"""Why a pod fits nowhere, in the words `kubectl describe pod` shows under FailedScheduling.

Kubernetes' shape: "0/3 nodes are available: 1 Insufficient memory, 2 node(s) had
untolerated taint {node-role.kubernetes.io/control-plane: }." Each node contributes the
reasons of the first filter that rejected it (NodeResourcesFit may give several); the
reasons are counted over all nodes, written "<count> <reason>", and those strings are
sorted as text (so "10 Insufficient cpu" sorts before "2 Too many pods", as there). When a
pre-filter rejected the pod itself, its message replaces the per-node list. We do not
preempt, so the "preemption: ..." sentence Kubernetes appends is left out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from edgekube.scheduler.statuses import Code, Status

NO_NODES = "no nodes available to schedule pods"


@dataclass
class FitError:
    """No node fits; `statuses` has the rejection of every node that was checked."""

    num_nodes: int
    statuses: dict[str, Status] = field(default_factory=dict)
    pre_filter: Status | None = None

    @property
    def message(self) -> str:
        if self.num_nodes == 0:
            return NO_NODES
        text = f"0/{self.num_nodes} nodes are available:"
        if self.pre_filter is not None:
            return f"{text} {self.pre_filter.message}."
        counts = Counter(reason for status in self.statuses.values() for reason in status.reasons)
        listed = sorted(f"{count} {reason}" for reason, count in counts.items())
        return f"{text} {', '.join(listed)}." if listed else text

    @property
    def plugins(self) -> frozenset[str]:
        """The plugins that rejected the pod somewhere: only events they care about can help."""
        found = {s.plugin for s in self.statuses.values() if s.plugin}
        if self.pre_filter is not None and self.pre_filter.plugin:
            found.add(self.pre_filter.plugin)
        return frozenset(found)

    @property
    def resolvable(self) -> bool:
        """Whether evicting pods could make room somewhere (some rejection is not UNRESOLVABLE)."""
        return any(s.code is Code.UNSCHEDULABLE for s in self.statuses.values())


@dataclass
class SchedulingError:
    """A plugin failed (a bug, or an object it cannot read): retry later with backoff."""

    message: str
    plugin: str = ""
