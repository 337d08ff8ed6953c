"""What a simulated fleet looks like and how fast it acts: one dataclass of grouped settings.

Tests build `Settings` directly (short delays, a few nodes); the `simulate` command fills
it from flags. Every field has a default that mimics a real kubelet closely enough for
controllers, while staying cheap enough for a thousand nodes in one process.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class NodeSettings:
    """The simulated machines."""

    count: int = 1
    """How many nodes to run."""
    name_prefix: str = "sim-"
    """Node names are the prefix and a four-digit index: `sim-0000`, `sim-0001`, ..."""
    first_index: int = 0
    """Index of the first node, so several processes can share a prefix without clashing."""
    cpu: str = "4"
    """Capacity and allocatable CPU (a Kubernetes quantity)."""
    memory: str = "8Gi"
    """Capacity and allocatable memory."""
    pods: int = 110
    """Pods a node takes (the kubelet's default)."""
    ephemeral_storage: str = "32Gi"
    """Capacity and allocatable ephemeral storage."""
    architecture: str = "amd64"
    """`kubernetes.io/arch` and `nodeInfo.architecture`."""
    labels: dict[str, str] = field(default_factory=dict)
    """Extra labels on every node (`--labels k=v`)."""
    unready: int = 0
    """How many nodes (the last ones) report Ready=False from the start."""


@dataclass
class HeartbeatSettings:
    """Leases and node status, as the kubelet writes them."""

    lease_interval: float = 10.0
    """Seconds between Lease renewals of one node (the kubelet's default)."""
    lease_duration_seconds: int = 40
    """`spec.leaseDurationSeconds`: how long a silent node keeps counting as alive."""
    status_report_interval: float = 300.0
    """Seconds after which node status is rewritten even when nothing changed. Between
    those writes only the Lease moves, so heartbeats do not rewrite Node objects."""
    jitter: float = 0.04
    """Each renewal comes after `lease_interval * (1 +- jitter)`, so nodes do not march in step."""


@dataclass
class PodSettings:
    """How simulated containers behave."""

    start_delay: float = 0.5
    """Seconds from a pod being bound to it running (image pull and start, simulated)."""
    ready_delay: float = 0.5
    """Seconds from running to ready; 0 writes Running and Ready together."""
    terminate_delay: float = 0.5
    """Seconds from deletionTimestamp to the final delete (capped by the pod's grace period)."""
    fail_rate: float = 0.0
    """Fraction (0..1) of pods whose containers crash (CrashLoopBackOff; Failed for restartPolicy Never).
    Chosen from the pod's uid, so a restarted simulator picks the same pods."""


@dataclass
class LimitSettings:
    """Bounds on concurrent requests, so a large fleet spreads its load instead of bursting."""

    registrations: int = 32
    """Nodes registered at once at start."""
    lease_writers: int = 16
    """Lease renewals (and node status writes) in flight at once."""
    status_writers: int = 32
    """Pod status writes and pod deletes in flight at once."""
    request_timeout: float = 30.0
    """Seconds before one API call counts as failed."""

    @property
    def connections(self) -> int:
        """HTTP connections: every writer plus the two watches and some slack."""
        return max(self.registrations, self.lease_writers + self.status_writers) + 4


@dataclass
class Settings:
    nodes: NodeSettings = field(default_factory=NodeSettings)
    heartbeat: HeartbeatSettings = field(default_factory=HeartbeatSettings)
    pods: PodSettings = field(default_factory=PodSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
