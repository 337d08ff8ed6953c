"""Charges that admission granted and that a quota's `status.used` does not show yet.

A quota's status is written by the quota controller, some time after the objects it
counts were stored. Between the two, admission must still see what it let in, or twenty
pods created at once against `pods: 10` would each find nine in use. So every charge
granted at admission is held here, and a quota's usage is `status.used` plus the charges
held for it. A charge ends in one of three ways:
  - confirmed: the controller counted the object (at least the version this write made)
    into a status it wrote or found already right, at quota resourceVersion R; once the
    admission's copy of that quota is at R or newer, the status includes the charge;
  - gone: the object was deleted before being counted;
  - expired: the write never landed (dry run, a failed write) within `unwritten_seconds`,
    or was never confirmed within `unconfirmed_seconds` (no controller running).
Everything runs on the event loop without awaits, so it needs no lock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from edgekube.service.quota_amounts import Amounts, added

# A write normally commits within milliseconds; the margin is for a slow disk under load.
UNWRITTEN_SECONDS = 10.0
# The controller counts a stored object within moments; this only bounds a charge's life
# when it never does (the controller stopped).
UNCONFIRMED_SECONDS = 300.0

QuotaId = tuple[str, str]  # (name, uid): a quota deleted and made again is another quota


@dataclass(frozen=True, slots=True)
class Target:
    """The object a charge is for: its storage resource (`core/pods`), namespace and name."""

    resource: str
    namespace: str
    name: str


@dataclass(slots=True)
class Reservation:
    quota: QuotaId
    target: Target
    uid: str  # the object's uid: a new object of the same name is not this one
    after: int  # the object's resourceVersion before this write; 0 for a create
    amounts: Amounts
    deadline: float  # clock time after which the charge lapses
    written: bool = False
    confirmed_at: int | None = None  # the quota resourceVersion whose status includes it


class Ledger:
    """The charges held per namespace."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        unwritten_seconds: float = UNWRITTEN_SECONDS,
        unconfirmed_seconds: float = UNCONFIRMED_SECONDS,
    ) -> None:
        self.clock = clock
        self.unwritten_seconds = unwritten_seconds
        self.unconfirmed_seconds = unconfirmed_seconds
        self._held: dict[str, list[Reservation]] = {}

    def reserve(self, quota: QuotaId, target: Target, uid: str, after: int, amounts: Amounts) -> None:
        deadline = self.clock() + self.unwritten_seconds
        self._held.setdefault(target.namespace, []).append(
            Reservation(quota, target, uid, after, dict(amounts), deadline)
        )

    def prune(self, namespace: str, revisions: Mapping[QuotaId, int]) -> None:
        """Drop the lapsed charges of `namespace`, and those its quotas (at `revisions`) now show."""
        held = self._held.get(namespace)
        if not held:
            return
        now = self.clock()
        keep = [r for r in held if r.deadline > now and r.quota in revisions and not _shown(r, revisions)]
        if keep:
            self._held[namespace] = keep
        else:
            del self._held[namespace]

    def charged(self, namespace: str, quota: QuotaId) -> Amounts:
        total: Amounts = {}
        for r in self._held.get(namespace, ()):
            if r.quota == quota:
                total = added(total, r.amounts)
        return total

    def pending(self, namespace: str) -> list[Reservation]:
        """The charges held in `namespace`, for the controller to confirm."""
        return list(self._held.get(namespace, ()))

    def confirm(self, reservation: Reservation, quota_revision: int) -> None:
        if reservation.confirmed_at is None or quota_revision < reservation.confirmed_at:
            reservation.confirmed_at = quota_revision

    def waiting(self, target: Target) -> bool:
        return any(r.target == target for r in self._held.get(target.namespace, ()))

    def written(self, target: Target, uid: str, revision: int) -> None:
        """The store committed `target` at `revision`: its charges now wait for the controller."""
        for r in self._held.get(target.namespace, ()):
            if r.target == target and r.uid == uid and revision > r.after and not r.written:
                r.written = True
                r.deadline = self.clock() + self.unconfirmed_seconds

    def gone(self, target: Target) -> None:
        """`target` is deleted (or being deleted): what it was charged no longer counts."""
        held = self._held.get(target.namespace)
        if held:
            self._held[target.namespace] = [r for r in held if r.target != target]


def _shown(r: Reservation, revisions: Mapping[QuotaId, int]) -> bool:
    return r.confirmed_at is not None and revisions[r.quota] >= r.confirmed_at
