"""The endpoints controller: the `Endpoints` object named after each Service with a selector.

sync(`namespace/name`), in order:
  the Service is gone             -> delete its Endpoints (Kubernetes gives them no owner)
  the Service has no selector     -> nothing: its Endpoints belong to whoever wrote them
  otherwise                       -> create or update the Endpoints when the subsets or
                                     labels differ from what the pods say; never otherwise
"""

from __future__ import annotations

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.endpoints.selecting import derived_labels, selects, service_selector
from edgekube.controllers.endpoints.subsets import desired_subsets
from edgekube.controllers.endpoints.watching import pod_handlers, service_handlers
from edgekube.controllers.informing import Handlers, InformerFactory, object_key, split_key
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.running import Controller
from edgekube.errors import AlreadyExists, Forbidden, NotFound
from edgekube.resources.kinds.common_fields import mapping
from edgekube.resources.objects import Obj, get_path
from edgekube.service import deleting
from edgekube.service.options import DeleteOptions, WriteOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)


class EndpointsController(Controller):
    name = "endpoints-controller"
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
        self.endpoints = factory.informer("", "v1", "Endpoints")
        self.strategy = self.endpoints.strategy
        self.services.add_handlers(service_handlers(self.enqueue))
        self.pods.add_handlers(pod_handlers(self.services, self.enqueue))
        # Someone else changed or deleted our Endpoints: put them back as the pods say.
        self.endpoints.add_handlers(
            Handlers(on_update=lambda _old, new: self._endpoints_changed(new), on_delete=self._endpoints_changed)
        )

    def _endpoints_changed(self, endpoints: Obj) -> None:
        key = object_key(endpoints)
        if self.services.get(key) is not None:
            self.enqueue(key)

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        svc = self.services.get(key)
        current = self.endpoints.get(key)
        if svc is None:
            if current is not None:
                await self._delete(namespace, name)
            return
        if service_selector(svc) is None:
            return
        pods = [p for p in self.pods.list(namespace) if selects(svc, p)]
        subsets = desired_subsets(svc, pods)
        labels = derived_labels(svc)
        if current is None:
            await self._create(namespace, name, subsets, labels)
        elif (current.get("subsets") or []) != subsets or mapping(get_path(current, "metadata", "labels")) != labels:
            await self._update(namespace, name, subsets, labels)

    async def _create(self, namespace: str, name: str, subsets: list[Obj], labels: dict[str, str]) -> None:
        metadata: Obj = {"name": name, "namespace": namespace}
        if labels:
            metadata["labels"] = labels
        body = {"apiVersion": "v1", "kind": "Endpoints", "metadata": metadata, "subsets": subsets}
        try:
            await self.service.create(self.strategy, namespace, body, WriteOptions())
        except AlreadyExists:  # our cache was behind: update what is there instead
            await self._update(namespace, name, subsets, labels)
        except Forbidden:  # the namespace is being deleted: its Services go too
            log.debug("namespace terminating; endpoints not created", namespace=namespace, name=name)

    async def _update(self, namespace: str, name: str, subsets: list[Obj], labels: dict[str, str]) -> None:
        async def mutate(current: Obj) -> Obj:
            current["subsets"] = subsets
            md = current.setdefault("metadata", {})
            if labels:
                md["labels"] = labels
            else:
                md.pop("labels", None)
            return current

        await self.service.guaranteed_update(self.strategy, namespace, name, mutate, WriteOptions())

    async def _delete(self, namespace: str, name: str) -> None:
        try:
            await deleting.delete(self.service, self.strategy, namespace, name, DeleteOptions(), gc_running=True)
        except NotFound:
            pass
