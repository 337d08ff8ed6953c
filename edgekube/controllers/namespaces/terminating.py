"""The namespace controller: a Terminating namespace is emptied, then its `kubernetes`
finalizer is removed from `spec.finalizers`, which lets the deletion complete.

sync(name), in order:
  not found, not being deleted, or no `kubernetes` finalizer -> nothing to do
  a pass over the contents deleted or found anything          -> look again later
  a pass found the namespace empty                            -> drop the finalizer
Finalizing only after a pass that found nothing at all means an object created while the
first pass ran (admission saw the namespace Active a moment before) is still caught.
"""

from __future__ import annotations

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.informing import Handlers, InformerFactory
from edgekube.controllers.namespaces.emptying import empty_namespace
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.running import Controller, Requeue
from edgekube.errors import NotFound
from edgekube.resources.kinds.common_fields import mapping, strings
from edgekube.resources.kinds.namespaces import FINALIZER
from edgekube.resources.objects import Obj
from edgekube.service.options import WriteOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)

# Seconds before looking again at a namespace whose last pass deleted something (to
# confirm it is empty), and at one whose objects are still finishing (finalizers, grace).
VERIFY_SECONDS = 0.2
WAIT_SECONDS = 1.0


class NamespaceController(Controller):
    name = "namespace-controller"
    workers = 2

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
        self.namespaces = factory.informer("", "v1", "Namespace")
        self.strategy = self.namespaces.strategy
        self.namespaces.add_handlers(Handlers(on_add=self._changed, on_update=lambda _old, new: self._changed(new)))

    def _changed(self, ns: Obj) -> None:
        if _deleting(ns):
            self.enqueue(str(ns["metadata"]["name"]))

    async def sync(self, key: str) -> None:
        ns = self.namespaces.get(key)
        if ns is None or not _deleting(ns) or FINALIZER not in _spec_finalizers(ns):
            return
        emptied = await empty_namespace(self.service, key)
        if emptied.remaining:
            raise Requeue(WAIT_SECONDS)
        if emptied.deleted:
            raise Requeue(VERIFY_SECONDS)
        await self._finalize(ns)

    async def _finalize(self, ns: Obj) -> None:
        """Remove `kubernetes` from spec.finalizers; with no finalizer left the namespace goes."""
        uid = ns["metadata"].get("uid")

        async def mutate(current: Obj) -> Obj:
            if current["metadata"].get("uid") == uid:
                kept = [f for f in _spec_finalizers(current) if f != FINALIZER]
                spec = current.setdefault("spec", {})
                if kept:
                    spec["finalizers"] = kept
                else:
                    spec.pop("finalizers", None)
            return current

        name = str(ns["metadata"]["name"])
        log.info("namespace emptied; finalizing", namespace=name)
        try:
            await self.service.guaranteed_update(self.strategy, None, name, mutate, WriteOptions())
        except NotFound:
            pass


def _deleting(ns: Obj) -> bool:
    return bool(mapping(ns.get("metadata")).get("deletionTimestamp"))


def _spec_finalizers(ns: Obj) -> list[str]:
    return strings(mapping(ns.get("spec")).get("finalizers"))
