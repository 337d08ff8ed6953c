"""Zone disruption: how fast nodes may gain NoExecute taints, and when not at all.

Kubernetes does not trust a mass outage. Nodes are grouped into zones (region + zone
labels; a fleet without them is one zone) and each zone is:
  - Normal: at most `eviction_rate` nodes per second gain a NoExecute taint (0.1: one
    node every 10 s);
  - PartialDisruption: more than 2 nodes and at least `unhealthy_zone_threshold` (55 %)
    of them not Ready. A zone of at most `large_cluster_threshold` (50) nodes then taints
    no more nodes at all, a larger one `secondary_rate` per second: a failing switch
    should not empty a rack;
  - FullDisruption: no node Ready. If every zone is in it, the control plane itself is
    the likely casualty (its network is down), so every NoExecute taint of ours is
    removed and none added until some node reports again. If only some zones are, the
    others are fine and the dead zone is tainted at the normal rate.

At the edge this is what keeps a server that lost its uplink from evicting the whole
fleet: the agents keep their pods running offline and nothing is deleted meanwhile.
Swapping not-ready for unreachable and removing taints are never rate-limited.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from edgekube.resources.objects import Obj, get_path

ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"


class ZoneState(StrEnum):
    NORMAL = "Normal"
    PARTIAL = "PartialDisruption"
    FULL = "FullDisruption"


@dataclass(frozen=True)
class DisruptionSettings:
    eviction_rate: float = 0.1
    """Nodes per second that may gain a NoExecute taint in a Normal zone."""
    secondary_rate: float = 0.01
    """The same, in a partially disrupted zone larger than `large_cluster_threshold`."""
    unhealthy_zone_threshold: float = 0.55
    """Share of not-Ready nodes (with more than 2 of them) that makes a zone partially disrupted."""
    large_cluster_threshold: int = 50
    """Zones of at most this many nodes taint no more nodes while partially disrupted."""


def zone_of(node: Obj) -> str:
    labels = get_path(node, "metadata", "labels")
    labels = labels if isinstance(labels, dict) else {}
    return f"{labels.get(REGION_LABEL) or ''}:{labels.get(ZONE_LABEL) or ''}"


def zone_state(ready: int, not_ready: int, threshold: float) -> ZoneState:
    if ready == 0 and not_ready > 0:
        return ZoneState.FULL
    if not_ready > 2 and not_ready / (ready + not_ready) >= threshold:
        return ZoneState.PARTIAL
    return ZoneState.NORMAL


@dataclass(frozen=True)
class Zone:
    state: ZoneState
    size: int


Tally = dict[str, list[int]]  # zone -> [ready, not ready]


def count_zones(nodes: Iterable[Obj], is_ready: Callable[[Obj], bool]) -> Tally:
    counts: Tally = {}
    for node in nodes:
        counts.setdefault(zone_of(node), [0, 0])[0 if is_ready(node) else 1] += 1
    return counts


def zone_states(counts: Tally, threshold: float) -> dict[str, Zone]:
    return {z: Zone(zone_state(r, n, threshold), r + n) for z, (r, n) in counts.items() if r + n > 0}


def all_fully_disrupted(zones: dict[str, Zone]) -> bool:
    return bool(zones) and all(z.state is ZoneState.FULL for z in zones.values())


def taint_rate(zone: Zone, settings: DisruptionSettings) -> float:
    """Nodes per second of this zone that may gain a NoExecute taint (not all zones down)."""
    if zone.state is ZoneState.PARTIAL:
        return settings.secondary_rate if zone.size > settings.large_cluster_threshold else 0.0
    return settings.eviction_rate


@dataclass
class TokenBucket:
    """One token per tainted node, refilled at the zone's rate; starts full (burst 1)."""

    burst: float = 1.0
    tokens: float = 1.0
    last: datetime | None = field(default=None)

    def take(self, rate: float, now: datetime) -> float:
        """0 when a token was taken; otherwise the seconds until one will be there (inf: never).

        A rate of 0 allows nothing, even with a token left (Kubernetes swaps in a limiter
        that never allows, not an empty one).
        """
        if rate <= 0:
            return math.inf
        if self.last is not None:
            elapsed = max(0.0, (now - self.last).total_seconds())
            self.tokens = min(self.burst, self.tokens + elapsed * rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / rate
