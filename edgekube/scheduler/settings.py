"""Settings of the scheduler, each with its unit and why it has its default."""

from __future__ import annotations

from dataclasses import dataclass

from edgekube.scheduler.podinfos import DEFAULT_SCHEDULER
from edgekube.scheduler.queueing import INITIAL_BACKOFF, MAX_BACKOFF, MAX_UNSCHEDULABLE_SECONDS


@dataclass
class SchedulerSettings:
    scheduler_name: str = DEFAULT_SCHEDULER
    """Pods whose `spec.schedulerName` is this are ours; others are left to their scheduler."""
    percentage_of_nodes_to_score: int = 0
    """Percent of nodes to find feasible before scoring (0: adaptive, as kube-scheduler)."""
    binds_in_flight: int = 64
    """Binding and status writes running at once; decisions stay one at a time. Enough to
    fill the store's group commits; more only queues inside the store."""
    initial_backoff_seconds: float = INITIAL_BACKOFF
    """Wait after a pod's first failed attempt; doubles per failed attempt."""
    max_backoff_seconds: float = MAX_BACKOFF
    """The longest wait between attempts at one pod."""
    max_unschedulable_seconds: float = MAX_UNSCHEDULABLE_SECONDS
    """A pod no event has woken is retried after this long anyway (kube-scheduler: 5 min)."""
    flush_interval_seconds: float = 30.0
    """How often parked pods are checked against `max_unschedulable_seconds`."""
