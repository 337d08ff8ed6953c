"""Starts the scheduler and every controller, with their shared informers, from one place.

Each controller module exposes a class taking keyword-only `factory`, `service`, `recorder`
and `settings`; it registers its informer handlers in `__init__` and does its work in
`run()`. This module creates them, starts every informer, waits until all have listed, and
then starts the controllers, so no controller acts on a half-filled cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.informing import InformerFactory
from edgekube.controllers.recording import EventRecorder
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)


class Runnable(Protocol):
    name: str

    async def run(self) -> None: ...


ControllerFactory = Callable[..., Runnable]


def controller_classes() -> list[ControllerFactory]:
    """The controllers this server runs, in start order. Each is imported here only."""
    from edgekube.controllers.daemonsets import DaemonSetController
    from edgekube.controllers.deployments import DeploymentController
    from edgekube.controllers.endpoints import EndpointsController, EndpointSliceController
    from edgekube.controllers.garbage import GarbageCollector
    from edgekube.controllers.loadbalancers import LoadBalancerController
    from edgekube.controllers.namespaces import NamespaceController
    from edgekube.controllers.nodes import NodeLifecycleController, PodGCController, TaintEvictionController
    from edgekube.controllers.quotas import ResourceQuotaController
    from edgekube.controllers.replicasets import ReplicaSetController
    from edgekube.controllers.serviceaccounts import ServiceAccountController
    from edgekube.scheduler.scheduling import Scheduler

    found: list[ControllerFactory] = [
        Scheduler,
        GarbageCollector,
        NamespaceController,
        ServiceAccountController,
        EndpointsController,
        EndpointSliceController,
        LoadBalancerController,
        NodeLifecycleController,
        TaintEvictionController,
        PodGCController,
        DaemonSetController,
        ReplicaSetController,
        DeploymentController,
        ResourceQuotaController,
    ]
    return found


async def run_controllers(
    *,
    service: ResourceService,
    settings: ControllerSettings,
    classes: list[ControllerFactory] | None = None,
) -> None:
    """Runs until cancelled."""
    factory = InformerFactory(service)
    recorder = EventRecorder(service, "edgekube-controller-manager")
    controllers: list[Any] = [
        cls(factory=factory, service=service, recorder=recorder, settings=settings)
        for cls in (classes if classes is not None else controller_classes())
    ]
    tasks = [asyncio.create_task(i.run(), name=f"informer-{i.strategy.kind.plural}") for i in factory.all()]
    tasks.append(asyncio.create_task(recorder.run(), name="event-recorder"))
    try:
        await factory.wait_synced()
        log.info("informers synced", kinds=[i.strategy.kind.plural for i in factory.all()])
        tasks += [asyncio.create_task(c.run(), name=c.name) for c in controllers]
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
