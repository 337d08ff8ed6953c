"""The resource quota controller: keeps each quota's `status.hard` and `status.used` true.

Keys are namespace names: the quotas of a namespace share the objects they count.
Pods, Services, claims and quotas come from shared informers; a pod, Service or claim
queues its namespace when it appears, goes, or changes what it charges (a pod finishing
or being deleted). Other kinds a quota counts are listed from the store when needed,
and their creates and deletes queue the namespace (`feeding`). Every `RESYNC_SECONDS`
all namespaces with quotas are counted again, in case anything slipped.

sync(namespace), for each quota by name:
  read the quota from the store (not the cache: the status it compares with must be the
  newest) -> count the objects it tracks -> write the status if it differs, with the
  read's resourceVersion as precondition -> confirm to admission the charges this status
  now includes, at the resourceVersion that holds it.
"""

from __future__ import annotations

import asyncio
import copy

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.informing import Handlers, Informer, InformerFactory
from edgekube.controllers.quotas.counting import Counted, Objects, count, desired_status, needed
from edgekube.controllers.quotas.feeding import follow_counts
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.running import Controller
from edgekube.errors import NotFound
from edgekube.resources.kinds.common_fields import text
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import Strategy
from edgekube.service.options import ListOptions, WriteOptions
from edgekube.service.quota_usage import usage
from edgekube.service.quotas import find_admission, quota_id
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)

# Seconds between full recounts; Kubernetes' quota controller also recounts every five minutes.
RESYNC_SECONDS = 300.0


class ResourceQuotaController(Controller):
    name = "resourcequota-controller"

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
        self.quotas = factory.informer("", "v1", "ResourceQuota")
        self.strategy = self.quotas.strategy
        self.cached: dict[str, Informer] = {"resourcequotas": self.quotas}
        for kind in ("Pod", "Service", "PersistentVolumeClaim"):
            informer = factory.informer("", "v1", kind)
            self.cached[informer.strategy.kind.resource] = informer
            informer.add_handlers(self._object_handlers(informer.strategy.kind.resource))
        self.quotas.add_handlers(
            Handlers(
                on_add=self._quota_changed,
                on_update=lambda _old, new: self._quota_changed(new),
                on_delete=self._quota_changed,
            )
        )
        self._by_resource = {s.kind.resource: s for s in service.registry}
        self._admission = find_admission(list(service.admission))

    # -- events -----------------------------------------------------------------------------

    def _quota_changed(self, quota: Obj) -> None:
        self.enqueue(text(get_path(quota, "metadata", "namespace")))

    def _object_handlers(self, resource: str) -> Handlers:
        def counts_here(obj: Obj) -> str | None:
            namespace = text(get_path(obj, "metadata", "namespace"))
            return namespace if any(resource in needed(q) for q in self.quotas.list(namespace)) else None

        def changed(obj: Obj) -> None:
            namespace = counts_here(obj)
            if namespace is not None:
                self.enqueue(namespace)

        def updated(old: Obj, new: Obj) -> None:
            # Most updates (a pod's status) change no charge; those need no recount.
            namespace = counts_here(new)
            if namespace is not None and usage(resource, old) != usage(resource, new):
                self.enqueue(namespace)

        return Handlers(on_add=changed, on_update=updated, on_delete=changed)

    def _counted_elsewhere(self, store_key: str, namespace: str) -> bool:
        strategy = self.service.registry.by_store_key(store_key)
        if strategy is None or strategy.kind.resource in self.cached:
            return False
        return any(strategy.kind.resource in needed(q) for q in self.quotas.list(namespace))

    def _enqueue_all(self) -> None:
        for namespace in {text(get_path(q, "metadata", "namespace")) for q in self.quotas.list()}:
            self.enqueue(namespace)

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        store = self.service.store
        # Opened before any sync lists, so no create or delete falls between a list and the watch.
        stream = store.watch(None, None, store.revision)
        helpers = [
            asyncio.create_task(
                follow_counts(
                    store=store,
                    stream=stream,
                    counted=self._counted_elsewhere,
                    enqueue=self.enqueue,
                    enqueue_all=self._enqueue_all,
                ),
                name=f"{self.name}-feed",
            ),
            asyncio.create_task(self._resync(), name=f"{self.name}-resync"),
        ]
        try:
            await super().run()
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            stream.close()

    async def _resync(self) -> None:
        while True:
            await asyncio.sleep(RESYNC_SECONDS)
            self._enqueue_all()

    # -- syncing ----------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        for cached in sorted(self.quotas.list(key), key=lambda q: text(get_path(q, "metadata", "name"))):
            await self._sync_quota(key, text(get_path(cached, "metadata", "name")))

    async def _sync_quota(self, namespace: str, name: str) -> None:
        try:
            quota, revision = await self.service.read(self.strategy, namespace, name)
        except NotFound:
            return
        counted = count(quota, await self._objects(namespace, needed(quota)))
        status = desired_status(quota, counted.used)
        if quota.get("status") != status:
            body = copy.deepcopy(quota)
            body["status"] = status
            body["metadata"]["resourceVersion"] = str(revision)
            written = await self.service.update(
                self.strategy, namespace, name, body, WriteOptions(), subresource="status"
            )
            revision = int(written["metadata"]["resourceVersion"])
            log.debug("quota status written", namespace=namespace, quota=name, used=status["used"])
        self._confirm(namespace, quota, counted, revision)

    async def _objects(self, namespace: str, resources: set[str]) -> list[Objects]:
        out = []
        for resource in sorted(resources):
            strategy = self._by_resource.get(resource)
            if strategy is None or not strategy.kind.namespaced:
                continue  # a kind this server does not serve counts nothing
            out.append(Objects(resource, strategy.kind.store_key, await self._list(strategy, namespace)))
        return out

    async def _list(self, strategy: Strategy, namespace: str) -> list[Obj]:
        informer = self.cached.get(strategy.kind.resource)
        if informer is not None:
            return informer.list(namespace)
        page = await self.service.list(strategy, namespace, ListOptions())
        return page.decoded if page.decoded is not None else [item.decode() for item in page.items]

    def _confirm(self, namespace: str, quota: Obj, counted: Counted, revision: int) -> None:
        """Tell admission which of its charges the status at `revision` includes."""
        if self._admission is None:
            return
        ledger = self._admission.ledger
        this = quota_id(quota)
        for held in ledger.pending(namespace):
            if held.quota != this:
                continue
            seen = counted.seen.get((held.target.resource, held.target.name))
            if seen is not None and seen[0] == held.uid and seen[1] > held.after:
                ledger.confirm(held, revision)
