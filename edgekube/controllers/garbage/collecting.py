"""The garbage collector controller: one key per object that has owners or waits on dependents.

`sync(key)` takes the object from the cache and checks, in this order:
  orphaning  (deleting, `orphan` finalizer)      -> unlink every dependent, drop the finalizer
  foreground (deleting, `foregroundDeletion`)    -> settle every dependent; drop the finalizer
                                                    once no blocking dependent remains
  deleting otherwise                             -> nothing (it goes when its finalizers do)
  a dependent                                    -> settle it: keep, unlink dead owners, or delete
Dropping an object's last finalizer completes its deletion (the service does that).

Invariants: an owner is absent only when the store says so (a cache miss is checked with a
live read, because a new owner may reach its cache after its dependents reach theirs); a
dependent is judged again from the store before it is changed (its cached references may
be older than its owner's state); a delete names the judged object's uid as
precondition, so a namesake created meanwhile survives. Events requeue what they affect:
a deleted object requeues its dependents (now orphans) and its owners (one may be
waiting for it).
"""

from __future__ import annotations

from enum import Enum

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.garbage.graph import Graph
from edgekube.controllers.garbage.owners import (
    Action,
    OwnerRef,
    OwnerState,
    Verdict,
    blocks_owner,
    deletion_policy,
    is_deleting,
    judge,
    needs_collector,
    orphans_dependents,
    owner_refs,
    ref_to,
    uid_of,
    waits_for_dependents,
    without_finalizer,
    without_refs,
)
from edgekube.controllers.informing import Handlers, InformerFactory
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.running import Controller
from edgekube.errors import Conflict, NotFound
from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy
from edgekube.service import deleting
from edgekube.service.deleting import FOREGROUND, ORPHAN
from edgekube.service.options import DeleteOptions, WriteOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)


class Outcome(Enum):
    """What settling a dependent did."""

    KEPT = "kept"
    UNLINKED = "unlinked"
    GONE = "gone"
    DELETING = "deleting"  # marked for deletion; stays until its finalizers are gone


class GarbageCollector(Controller):
    name = "garbage-collector"
    workers = 4  # keys are independent; a namespace full of orphans should not wait in line

    def __init__(
        self,
        *,
        factory: InformerFactory,
        service: ResourceService,
        recorder: EventRecorder,
        settings: ControllerSettings,
    ) -> None:
        super().__init__()
        self.service = service
        self.graph = Graph(factory, service.registry)
        for informer in self.graph.informers.values():
            informer.add_handlers(self._handlers(informer.strategy))

    # -- events ---------------------------------------------------------------------------

    def _handlers(self, strategy: Strategy) -> Handlers:
        def on_add(obj: Obj) -> None:
            if needs_collector(obj):
                self.enqueue(self.graph.key(strategy, obj))

        def on_update(old: Obj, new: Obj) -> None:
            on_add(new)
            before, after = owner_refs(old), owner_refs(new)
            if before != after:  # an owner that lost (or changed) its reference may be waiting for us
                for key in self.graph.owner_keys(old, [r for r in before if r not in after]):
                    self.enqueue(key)

        def on_delete(obj: Obj) -> None:
            for dep_strategy, dep in self.graph.dependents(uid_of(obj)):
                self.enqueue(self.graph.key(dep_strategy, dep))
            for key in self.graph.owner_keys(obj, owner_refs(obj)):
                self.enqueue(key)

        return Handlers(on_add=on_add, on_update=on_update, on_delete=on_delete)

    # -- sync -----------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        parsed = self.graph.parse_key(key)
        if parsed is None:
            return
        strategy, namespace, name = parsed
        obj = self.graph.cached(strategy, namespace, name)
        if obj is None:
            return
        if orphans_dependents(obj):
            await self._orphan_dependents(strategy, obj)
        elif waits_for_dependents(obj):
            await self._delete_dependents_first(strategy, obj)
        elif not is_deleting(obj):
            await self._settle(strategy, obj)

    async def _orphan_dependents(self, strategy: Strategy, owner: Obj) -> None:
        uid = uid_of(owner)
        for dep_strategy, dep in self.graph.dependents(uid):
            await self._unlink(dep_strategy, dep, frozenset({uid}))
        await self._drop_finalizer(strategy, owner, ORPHAN)

    async def _delete_dependents_first(self, strategy: Strategy, owner: Obj) -> None:
        uid = uid_of(owner)
        blocking = 0
        for dep_strategy, dep in self.graph.dependents(uid):
            outcome = Outcome.DELETING if is_deleting(dep) else await self._settle(dep_strategy, dep)
            if outcome is Outcome.DELETING and blocks_owner(ref_to(dep, uid)):
                blocking += 1
        if blocking:
            log.debug(
                "owner waits for dependents",
                kind=strategy.kind.resource,
                key=self.graph.key(strategy, owner),
                blocking=blocking,
            )
            return  # each dependent's disappearance requeues this owner
        await self._drop_finalizer(strategy, owner, FOREGROUND)

    async def _settle(self, strategy: Strategy, obj: Obj) -> Outcome:
        """Keep `obj`, unlink its dead owners, or delete it, as its owners' states decide.

        Before any write the dependent is read again from the store and judged anew: its
        cached copy may still name an owner that has since orphaned it.
        """
        if (await self._judge(obj)).action is Action.KEEP:
            return Outcome.KEPT
        namespace, name = _where(obj)
        live = await self._read_live(strategy, namespace, name)
        if live is None or uid_of(live) != uid_of(obj):
            return Outcome.GONE
        if is_deleting(live):
            return Outcome.DELETING
        obj = live
        verdict = await self._judge(obj)
        if verdict.action is Action.KEEP:
            return Outcome.KEPT
        if verdict.action is Action.UNLINK:
            await self._unlink(strategy, obj, verdict.drop)
            return Outcome.UNLINKED
        policy = deletion_policy(obj, verdict, self.graph.has_dependents(uid_of(obj)))
        return await self._delete(strategy, obj, policy)

    async def _judge(self, obj: Obj) -> Verdict:
        return judge([(ref, await self._owner_state(obj, ref)) for ref in owner_refs(obj)])

    async def _owner_state(self, dependent: Obj, ref: OwnerRef) -> OwnerState:
        target = self.graph.owner_of(dependent, ref)
        if target is None:
            return OwnerState.UNRESOLVED
        strategy, namespace, name = target
        owner = self.graph.cached(strategy, namespace, name)
        if owner is None or uid_of(owner) != ref.get("uid"):
            owner = await self._read_live(strategy, namespace, name)
            if owner is None or uid_of(owner) != ref.get("uid"):
                return OwnerState.ABSENT
        return OwnerState.WAITING if waits_for_dependents(owner) else OwnerState.PRESENT

    async def _read_live(self, strategy: Strategy, namespace: str, name: str) -> Obj | None:
        try:
            obj, _revision = await self.service.read(strategy, namespace or None, name)
        except NotFound:
            return None
        return obj

    # -- writes ---------------------------------------------------------------------------

    async def _unlink(self, strategy: Strategy, obj: Obj, uids: frozenset[str]) -> None:
        """Remove the references to `uids` from `obj` (if it is still the object we judged)."""
        uid = uid_of(obj)

        async def mutate(current: Obj) -> Obj:
            if uid_of(current) == uid:
                without_refs(current, uids)
            return current

        namespace, name = _where(obj)
        log.info(
            "removing owner references",
            kind=strategy.kind.resource,
            namespace=namespace,
            name=name,
            owners=sorted(uids),
        )
        try:
            await self.service.guaranteed_update(strategy, namespace or None, name, mutate, WriteOptions())
        except NotFound:
            pass

    async def _drop_finalizer(self, strategy: Strategy, obj: Obj, finalizer: str) -> None:
        uid = uid_of(obj)

        async def mutate(current: Obj) -> Obj:
            if uid_of(current) == uid:
                without_finalizer(current, finalizer)
            return current

        namespace, name = _where(obj)
        try:
            await self.service.guaranteed_update(strategy, namespace or None, name, mutate, WriteOptions())
        except NotFound:
            pass

    async def _delete(self, strategy: Strategy, obj: Obj, policy: str) -> Outcome:
        namespace, name = _where(obj)
        uid = uid_of(obj)
        log.info("deleting dependent", kind=strategy.kind.resource, namespace=namespace, name=name, policy=policy)
        opts = DeleteOptions(propagation_policy=policy, precondition_uid=uid)
        try:
            result = await deleting.delete(self.service, strategy, namespace or None, name, opts, gc_running=True)
        except NotFound:
            return Outcome.GONE
        except Conflict:
            live = await self._read_live(strategy, namespace, name)
            if live is not None and uid_of(live) == uid:
                raise  # a busy object, not a namesake: retry with backoff
            return Outcome.GONE
        return Outcome.GONE if result.finished else Outcome.DELETING


def _where(obj: Obj) -> tuple[str, str]:
    md = obj.get("metadata") or {}
    return str(md.get("namespace") or ""), str(md.get("name") or "")


__all__ = ["GarbageCollector", "Outcome"]
