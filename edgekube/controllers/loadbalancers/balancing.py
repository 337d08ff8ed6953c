"""The load balancer controller: `status.loadBalancer.ingress` of each LoadBalancer Service.

Keys are Service keys (`namespace/name`). A Service added or changed queues itself; a
node joining, leaving, or changing readiness, schedulability or address queues every
LoadBalancer Service (clusters here are small: a few dozen nodes, a few Services).

sync(`namespace/name`), in order:
  the Service is gone                     -> nothing
  it has a loadBalancerClass              -> nothing: another implementation owns it
  its status already says what it should  -> nothing (a resync writes nothing)
  otherwise                               -> write the status: the nodes' addresses for a
                                             LoadBalancer, an empty `loadBalancer` for a
                                             Service that stopped being one
NodePorts stay with the allocator: a LoadBalancer keeps them by default
(`allocateLoadBalancerNodePorts: true`), and they are how node addresses reach it.
"""

from __future__ import annotations

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.informing import Handlers, InformerFactory, object_key, split_key
from edgekube.controllers.loadbalancers.addresses import current_ingress, desired_ingress, is_ours, node_view
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.running import Controller
from edgekube.errors import NotFound
from edgekube.resources.objects import Obj
from edgekube.service.options import WriteOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)


class LoadBalancerController(Controller):
    name = "loadbalancer-controller"

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
        self.nodes = factory.informer("", "v1", "Node")
        self.strategy = self.services.strategy
        self.services.add_handlers(
            Handlers(on_add=self._service_changed, on_update=lambda _old, new: self._service_changed(new))
        )
        self.nodes.add_handlers(
            Handlers(
                on_add=lambda _node: self._nodes_changed(),
                on_update=self._node_updated,
                on_delete=lambda _node: self._nodes_changed(),
            )
        )

    def _service_changed(self, svc: Obj) -> None:
        # Any type: one that stopped being a LoadBalancer may still carry ingress to clear.
        if is_ours(svc) or current_ingress(svc):
            self.enqueue(object_key(svc))

    def _node_updated(self, old: Obj, new: Obj) -> None:
        if node_view(old) != node_view(new):
            self._nodes_changed()

    def _nodes_changed(self) -> None:
        for svc in self.services.list():
            if is_ours(svc):
                self.enqueue(object_key(svc))

    async def sync(self, key: str) -> None:
        svc = self.services.get(key)
        if svc is None:
            return
        wanted = desired_ingress(svc, self.nodes.list())
        if wanted is None or current_ingress(svc) == wanted:
            return
        namespace, name = split_key(key)

        async def mutate(current: Obj) -> Obj:
            status = current.setdefault("status", {})
            fresh = desired_ingress(current, self.nodes.list())
            if fresh is None:
                return current  # it took a loadBalancerClass meanwhile
            status["loadBalancer"] = {"ingress": fresh} if fresh else {}
            return current

        try:
            await self.service.guaranteed_update(
                self.strategy, namespace, name, mutate, WriteOptions(), subresource="status"
            )
        except NotFound:
            return
        log.info("load balancer status written", service=key, ingress=[e["ip"] for e in wanted])
