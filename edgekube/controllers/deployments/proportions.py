"""Proportional scaling: resizing a Deployment in the middle of a rollout.

When `replicas` changes while several ReplicaSets have pods, each keeps its share of
the pods rather than the newest taking all the change. A ReplicaSet's share is its size
over the `max-replicas` it was sized for (falling back to the Deployment's
`status.replicas`); the change goes to the largest first, and whatever rounding leaves
over goes to (or comes from) the largest one.

Worked example: replicas 10 -> 20 with maxSurge 25% mid-rollout: old RS 8 and new RS 5,
both annotated max-replicas 13 (10 + 3). Allowed now: 20 + 5 = 25, so 12 to add.
  old: 8 * 25 / 13 = 15.4 -> 15, so +7 (at most the 12 left)
  new: 5 * 25 / 13 = 9.6 -> 10, so +5 (at most the 5 left)
  leftover 12 - 12 = 0                                          -> old 15, new 10
Scaling down to 0 takes every ReplicaSet to 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Share:
    """One active ReplicaSet as proportional scaling sees it."""

    replicas: int
    max_replicas: int | None  # its max-replicas annotation, when readable


def _round_ratio(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def fraction(share: Share, desired: int, surge: int, fallback_total: int) -> int:
    """How much `share` would change if it kept its proportion of the new total."""
    if desired == 0:
        return -share.replicas
    base = share.max_replicas if share.max_replicas is not None else fallback_total
    if base <= 0:
        return 0
    return _round_ratio(share.replicas * (desired + surge), base) - share.replicas


def proportion(share: Share, desired: int, surge: int, fallback_total: int, to_add: int, added: int) -> int:
    """`share`'s part of `to_add`, never past what is left of it."""
    if share.replicas == 0 or to_add == 0 or to_add == added:
        return 0
    wanted = fraction(share, desired, surge, fallback_total)
    left = to_add - added
    return min(wanted, left) if to_add > 0 else max(wanted, left)


def proportional_sizes(shares: Sequence[Share], desired: int, surge: int, fallback_total: int) -> list[int]:
    """New sizes for `shares`, given in scaling order (largest first)."""
    allowed = desired + surge if desired > 0 else 0
    to_add = allowed - sum(s.replicas for s in shares)
    sizes = [s.replicas for s in shares]
    if to_add == 0 or not shares:
        return sizes
    added = 0
    for i, share in enumerate(shares):
        part = proportion(share, desired, surge, fallback_total, to_add, added)
        sizes[i] += part
        added += part
    sizes[0] = max(0, sizes[0] + to_add - added)
    return sizes
