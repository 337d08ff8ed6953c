"""ResourceQuota admission: refuse writes that would take a namespace past its quotas.

Two halves, as in `allocating`:
  - the informer (`run`) lists the stored quotas, then follows one watch over every
    resource: quota events keep the copy of each namespace's quotas current; the events
    of objects that hold charges tell the ledger that their writes landed (or that they
    were deleted), so a write that never happens (a dry run) frees its charge quickly;
  - the admission plug-in (`__call__`) takes each CREATE and UPDATE in a namespace that
    has quotas, decides it (`quota_checking`) against `status.used` plus the charges
    held (`quota_reservations`), and holds what it grants. DELETE drops what the object
    still had held; the quota controller recounts from the stored objects.

Deciding and holding run without an await in between, so concurrent creates on the one
event loop see each other's charges: twenty pods created at once against `pods: 10`
leave ten. The quota controller confirms charges once its status includes them
(`confirm` through `ledger`); until then they count on top of the status.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

from edgekube.errors import Details, Forbidden, InternalError
from edgekube.resources.kinds.common_fields import mapping, text
from edgekube.resources.kinds.resourcequotas import amounts_of
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import Strategy
from edgekube.service.quota_amounts import added
from edgekube.service.quota_checking import QuotaState, check
from edgekube.service.quota_reservations import Ledger, QuotaId, Target
from edgekube.store.errors import Compacted
from edgekube.store.store import Store
from edgekube.store.types import Event, EventType
from edgekube.store.watching import WatcherOverflow

log = structlog.get_logger(__name__)

QUOTAS = "core/resourcequotas"
# Seconds a write waits for the informer's first list before giving up (500).
SYNC_TIMEOUT = 10.0


def quota_id(quota: Obj) -> QuotaId:
    md = mapping(quota.get("metadata"))
    return text(md.get("name")), text(md.get("uid"))


def _revision(obj: Obj) -> int:
    value = get_path(obj, "metadata", "resourceVersion")
    return int(value) if isinstance(value, str) and value.isdigit() else 0


class QuotaAdmission:
    """Admission plug-in and informer for ResourceQuotas: append it to `ResourceService.admission`."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ledger = Ledger(clock)
        self._quotas: dict[str, dict[str, Obj]] = {}  # namespace -> name -> stored quota
        self._synced = asyncio.Event()

    # -- admission --------------------------------------------------------------------------

    async def __call__(self, operation: str, strategy: Strategy, obj: Obj, old: Obj | None) -> None:
        kind = strategy.kind
        if not kind.namespaced:
            return
        md = mapping(obj.get("metadata"))
        namespace, name = text(md.get("namespace")), text(md.get("name"))
        target = Target(kind.store_key, namespace, name)
        if operation == "DELETE":
            self.ledger.gone(target)
            return
        if operation not in ("CREATE", "UPDATE"):
            return
        if not self._synced.is_set():
            await self._wait_synced()
        if not self._quotas.get(namespace):
            return
        # From here to the charges: no await, so concurrent writes see each other's charges.
        outcome = check(kind.resource, operation, obj, old if operation == "UPDATE" else None, self.states(namespace))
        if outcome.refusal:
            raise Forbidden(
                f'{kind.resource} "{name}" is forbidden: {outcome.refusal}',
                details=Details(name=name, group=kind.group, kind=kind.plural),
            )
        after = _revision(old) if operation == "UPDATE" and old is not None else 0
        for charge in outcome.charges:
            self.ledger.reserve(quota_id(charge.quota.quota), target, text(md.get("uid")), after, charge.amounts)

    def states(self, namespace: str) -> list[QuotaState]:
        """The namespace's quotas with their usage: status.used plus the charges held for them."""
        quotas = list(self._quotas.get(namespace, {}).values())
        self.ledger.prune(namespace, {quota_id(q): _revision(q) for q in quotas})
        out = []
        for quota in quotas:
            reported = amounts_of(get_path(quota, "status", "used"))
            used = added(reported, self.ledger.charged(namespace, quota_id(quota)))
            out.append(QuotaState(quota, amounts_of(get_path(quota, "status", "hard")), used, frozenset(reported)))
        return out

    async def _wait_synced(self) -> None:
        try:
            await asyncio.wait_for(self._synced.wait(), SYNC_TIMEOUT)
        except TimeoutError as err:
            raise InternalError(
                "Internal error occurred: resource quota admission has not loaded the stored quotas yet; try again"
            ) from err

    # -- informer ---------------------------------------------------------------------------

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    async def run(self) -> None:
        """List the stored quotas, then follow every change until cancelled; re-list when the watch breaks."""
        while True:
            page = await self.store.list(QUOTAS, None)
            self._quotas = {}
            for item in page.items:
                self._quotas.setdefault(item.key.namespace, {})[item.key.name] = item.decode()
            self._synced.set()
            log.info("quota admission synced", revision=page.revision, quotas=len(page.items))
            try:
                stream = self.store.watch(None, None, page.revision)
                try:
                    while True:
                        event = await stream.next(None)
                        if event is not None:
                            self._follow(event)
                finally:
                    stream.close()
            except (Compacted, WatcherOverflow):
                log.info("quota admission re-listing after a broken watch")
                self._synced.clear()
                await asyncio.sleep(0.1)

    def _follow(self, event: Event) -> None:
        key = event.key
        if key.resource == QUOTAS:
            held = self._quotas.setdefault(key.namespace, {})
            if event.type is EventType.DELETED:
                held.pop(key.name, None)
            else:
                held[key.name] = event.decoded()
            if not held:
                del self._quotas[key.namespace]
        target = Target(key.resource, key.namespace, key.name)
        if not self.ledger.waiting(target):
            return
        if event.type is EventType.DELETED:
            self.ledger.gone(target)
        else:
            self.ledger.written(target, text(get_path(event.decoded(), "metadata", "uid")), event.revision)


def find_admission(plugins: list[object]) -> QuotaAdmission | None:
    """The quota plug-in among a service's admission plug-ins, for the controller to confirm charges."""
    return next((p for p in plugins if isinstance(p, QuotaAdmission)), None)


__all__ = ["QuotaAdmission", "find_admission"]
