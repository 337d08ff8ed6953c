"""Counters of what the fleet has written, for the periodic report and for benchmarks."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Stats:
    lease_renewals: int = 0
    lease_failures: int = 0
    node_status_writes: int = 0
    pod_status_writes: int = 0
    pod_deletes: int = 0
    pod_failures: int = 0
    """Pod writes that failed (they are retried)."""

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
