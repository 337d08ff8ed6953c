"""The endpoint slice controller: the EndpointSlices of each Service with a selector.

sync(`namespace/name`), in order:
  the Service is gone or has no selector -> delete the slices this controller made for it
  otherwise -> match desired slices to existing ones with the same ports (by name, in
               order): update those whose content differs, create the missing ones
               (`<service>-<random>`), delete the rest (and any left by an older Service
               of the same name, or of another address type)
Each slice carries the `kubernetes.io/service-name` and managed-by labels and a
controller ownerReference to its Service, so the garbage collector removes them too.

Slices have random names, so a sync that ran before the cache showed a slice this
controller just created would create a second one. The controller remembers its
creates until the cache shows them (or EXPECT_SECONDS pass) and holds the Service's
sync back until then.
"""

from __future__ import annotations

import time

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.endpoints.selecting import address_family, selects, service_selector
from edgekube.controllers.endpoints.slices import (
    SERVICE_NAME_LABEL,
    SliceContent,
    desired_slices,
    is_managed,
    new_slice,
    owned_by,
    owner_reference,
    port_key,
    same_content,
    slice_labels,
)
from edgekube.controllers.endpoints.watching import pod_handlers, service_handlers
from edgekube.controllers.informing import Handlers, InformerFactory, split_key
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.running import Controller, Requeue
from edgekube.errors import Forbidden, NotFound
from edgekube.resources.kinds.common_fields import mapping
from edgekube.resources.objects import Obj, get_path
from edgekube.service import deleting
from edgekube.service.options import DeleteOptions, WriteOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)

EXPECT_SECONDS = 5.0  # longest wait for the cache to show a slice this controller created
RECHECK_SECONDS = 0.05  # how soon to look again while a created slice is not in the cache


class EndpointSliceController(Controller):
    name = "endpointslice-controller"
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
        self.services = factory.informer("", "v1", "Service")
        self.pods = factory.informer("", "v1", "Pod")
        self.slices = factory.informer("discovery.k8s.io", "v1", "EndpointSlice")
        self.strategy = self.slices.strategy
        # Service key -> {slice name: when created} for creates the cache has not shown yet.
        self._expected: dict[str, dict[str, float]] = {}
        self.services.add_handlers(service_handlers(self.enqueue))
        self.pods.add_handlers(pod_handlers(self.services, self.enqueue))
        self.slices.add_handlers(
            Handlers(on_update=lambda _old, new: self._slice_changed(new), on_delete=self._slice_changed)
        )

    def _slice_changed(self, slice_: Obj) -> None:
        service_name = mapping(get_path(slice_, "metadata", "labels")).get(SERVICE_NAME_LABEL)
        if service_name:
            self.enqueue(f"{get_path(slice_, 'metadata', 'namespace')}/{service_name}")

    def _awaiting_cache(self, key: str, namespace: str) -> bool:
        """Whether a slice created for `key` is not in the cache yet (forgetting old ones)."""
        expected = self._expected.get(key)
        if not expected:
            return False
        now = time.monotonic()
        for name, created in list(expected.items()):
            if self.slices.get(f"{namespace}/{name}") is not None or now - created > EXPECT_SECONDS:
                del expected[name]
        if not expected:
            del self._expected[key]
        return bool(expected)

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        if self._awaiting_cache(key, namespace):
            raise Requeue(RECHECK_SECONDS)
        svc = self.services.get(key)
        existing = sorted(
            (s for s in self.slices.list(namespace) if is_managed(s, name)),
            key=lambda s: str(s["metadata"]["name"]),
        )
        if svc is None or service_selector(svc) is None:
            for slice_ in existing:
                await self._delete(slice_)
            return
        pods = [p for p in self.pods.list(namespace) if selects(svc, p)]
        family = address_family(svc)
        reusable = [s for s in existing if owned_by(s, svc) and s.get("addressType") == family]
        stale = [s for s in existing if s not in reusable]
        for content in desired_slices(svc, pods):
            match = next((s for s in reusable if port_key(s.get("ports")) == content.key), None)
            if match is None:
                await self._create(key, svc, content)
                continue
            reusable.remove(match)
            if not same_content(match, svc, content):
                await self._update(match, svc, content)
        for slice_ in reusable + stale:
            await self._delete(slice_)

    async def _create(self, key: str, svc: Obj, content: SliceContent) -> None:
        namespace = str(svc["metadata"]["namespace"])
        try:
            created = await self.service.create(self.strategy, namespace, new_slice(svc, content), WriteOptions())
        except Forbidden:  # the namespace is being deleted: its Services go too
            log.debug("namespace terminating; slice not created", namespace=namespace, service=key)
            return
        self._expected.setdefault(key, {})[str(created["metadata"]["name"])] = time.monotonic()

    async def _update(self, slice_: Obj, svc: Obj, content: SliceContent) -> None:
        async def mutate(current: Obj) -> Obj:
            current["endpoints"] = content.endpoints
            current["ports"] = content.ports
            md = current.setdefault("metadata", {})
            md["labels"] = slice_labels(svc)
            md["ownerReferences"] = [owner_reference(svc)]
            return current

        md = slice_["metadata"]
        await self.service.guaranteed_update(self.strategy, md["namespace"], md["name"], mutate, WriteOptions())

    async def _delete(self, slice_: Obj) -> None:
        md = slice_["metadata"]
        opts = DeleteOptions(precondition_uid=md.get("uid"))
        try:
            await deleting.delete(self.service, self.strategy, md["namespace"], md["name"], opts, gc_running=True)
        except NotFound:
            pass
