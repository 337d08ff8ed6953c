"""The scheduler as a controller of the server: informers in, decisions one at a time, writes in the background.

  informers -> ClusterEvents -> cache + queue
  loop: pop a pod -> Algorithm.schedule (synchronous) ->
        fits:     assume it in the cache, then bind in a background task
                  (bind failed: forget the assumption, back off; bound: "Scheduled" event)
        no fit:   park it in the queue; in the background set PodScheduled=False and
                  record the FailedScheduling warning
        error:    back off; report the error the same way
Decisions never overlap (each sees every earlier assumption); up to `binds_in_flight`
writes run concurrently, so the store can commit them in groups. The loop yields to the
event loop after each decision so watches and API requests keep flowing under load.

Events come from a recorder of our own whose source is the profile's scheduler name
(`default-scheduler`), which is what `kubectl describe` shows in the From column.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.informing import Handlers, InformerFactory
from edgekube.controllers.recording import EventRecorder
from edgekube.errors import ApiError, Conflict, NotFound
from edgekube.resources.objects import Obj
from edgekube.scheduler import binding
from edgekube.scheduler.algorithm import Algorithm, ScheduleResult
from edgekube.scheduler.caching import SchedulerCache
from edgekube.scheduler.diagnoses import FitError
from edgekube.scheduler.handling import ClusterEvents
from edgekube.scheduler.podinfos import PodInfo, is_pending_for
from edgekube.scheduler.profiles import Profile, build_profile
from edgekube.scheduler.queueing import Popped, SchedulingQueue, ShutDown
from edgekube.scheduler.settings import SchedulerSettings
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)

FAILED_SCHEDULING = "FailedScheduling"
SCHEDULED = "Scheduled"


class Scheduler:
    name = "scheduler"

    def __init__(
        self,
        *,
        factory: InformerFactory,
        service: ResourceService,
        recorder: EventRecorder | None = None,
        settings: ControllerSettings | None = None,
        scheduling: SchedulerSettings | None = None,
        profile: Profile | None = None,
        rng: random.Random | None = None,
    ) -> None:
        # `recorder` and `settings` are the controller manager's shared ones; the scheduler
        # records under its own name and has settings of its own.
        del recorder, settings
        self.settings = scheduling or SchedulerSettings()
        self.profile = profile or build_profile(self.settings.scheduler_name)
        self.service = service
        pods = service.registry.by_kind("", "v1", "Pod")
        assert pods is not None
        self.pods_strategy = pods
        self.recorder = EventRecorder(service, self.profile.scheduler_name)
        self.cache = SchedulerCache()
        self.queue = SchedulingQueue(
            initial_backoff=self.settings.initial_backoff_seconds,
            max_backoff=self.settings.max_backoff_seconds,
            max_unschedulable_seconds=self.settings.max_unschedulable_seconds,
        )
        self.algorithm = Algorithm(
            self.profile, self.cache, percentage=self.settings.percentage_of_nodes_to_score, rng=rng
        )
        self.events = ClusterEvents(self.cache, self.queue, self.profile.scheduler_name)
        self.pods = factory.informer("", "v1", "Pod")
        nodes = factory.informer("", "v1", "Node")
        namespaces = factory.informer("", "v1", "Namespace")
        ev = self.events
        namespaces.add_handlers(Handlers(ev.namespace_added, ev.namespace_updated, ev.namespace_deleted))
        nodes.add_handlers(Handlers(ev.node_added, ev.node_updated, ev.node_deleted))
        self.pods.add_handlers(Handlers(ev.pod_added, ev.pod_updated, ev.pod_deleted))
        self._writes: set[asyncio.Task[None]] = set()
        self._slots: asyncio.Semaphore | None = None
        self.scheduled = 0  # pods bound by this scheduler (for tests and benchmarks)

    async def run(self) -> None:
        """Runs until cancelled."""
        tasks = [
            asyncio.create_task(self.recorder.run(), name="scheduler-events"),
            asyncio.create_task(self._flush_parked(), name="scheduler-flush"),
            asyncio.create_task(self._loop(), name="scheduler-loop"),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            self.queue.close()
            pending = [*tasks, *self._writes]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _loop(self) -> None:
        self._slots = asyncio.Semaphore(self.settings.binds_in_flight)
        while True:
            await self._slots.acquire()  # before popping: no await between pop and decision
            try:
                popped = await self.queue.pop()
            except ShutDown:
                return
            self.schedule_one(popped)
            await asyncio.sleep(0)

    async def _flush_parked(self) -> None:
        while True:
            await asyncio.sleep(self.settings.flush_interval_seconds)
            self.queue.flush_stale()

    # -- one pod -----------------------------------------------------------------------------

    def schedule_one(self, popped: Popped) -> None:
        """Decide for one popped pod and start its write; holds one write slot until that ends."""
        pod = self.pods.get(popped.key)
        if pod is None or not is_pending_for(pod, self.profile.scheduler_name) or self.cache.is_assumed(popped.key):
            self.queue.done(popped.key)
            self._release()
            return
        try:
            info = PodInfo.of(pod)
        except ValueError as err:
            self.queue.failed(popped)
            self._start(self._report(pod, binding.SCHEDULER_ERROR, str(err)))
            return
        outcome = self.algorithm.schedule(info)
        if isinstance(outcome, ScheduleResult):
            self.cache.assume(info, outcome.node)
            self.queue.done(popped.key)
            self._start(self._bind(info, outcome.node, popped))
        elif isinstance(outcome, FitError):
            self.queue.unschedulable(popped, outcome.plugins)
            log.debug("pod fits no node", pod=popped.key, message=outcome.message)
            self._start(self._report(pod, binding.UNSCHEDULABLE, outcome.message))
        else:
            self.queue.failed(popped)
            log.warning("scheduling failed", pod=popped.key, error=outcome.message, plugin=outcome.plugin)
            self._start(self._report(pod, binding.SCHEDULER_ERROR, outcome.message))

    def _start(self, write: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(write)
        self._writes.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._writes.discard(task)
        self._release()

    def _release(self) -> None:
        if self._slots is not None:
            self._slots.release()

    async def _bind(self, info: PodInfo, node: str, popped: Popped) -> None:
        try:
            bound = await binding.bind(self.service, self.pods_strategy, info.namespace, info.name, info.uid, node)
        except asyncio.CancelledError:
            raise
        except Exception as err:
            self.cache.forget(info.key)
            # Deleted, replaced or bound elsewhere meanwhile (the informer will say so and
            # drop it from the queue), or a failed write: try again after the backoff.
            if self.pods.get(info.key) is not None:
                self.queue.failed(popped)
            level = log.debug if isinstance(err, Conflict | NotFound) else log.warning
            level("bind failed", pod=info.key, node=node, error=repr(err))
            return
        self.scheduled += 1
        self.recorder.normal(bound, SCHEDULED, f"Successfully assigned {info.namespace}/{info.name} to {node}")

    async def _report(self, pod: Obj, reason: str, message: str) -> None:
        self.recorder.warning(pod, FAILED_SCHEDULING, message)
        meta = pod.get("metadata") or {}
        try:
            await binding.mark_unscheduled(
                self.service, self.pods_strategy, str(meta.get("namespace")), str(meta.get("name")),
                str(meta.get("uid")), reason, message,
            )
        except asyncio.CancelledError:
            raise
        except NotFound:
            pass
        except ApiError as err:
            log.debug("PodScheduled condition not written", pod=meta.get("name"), error=err.message)
        except Exception as err:
            log.warning("PodScheduled condition not written", pod=meta.get("name"), error=repr(err))
