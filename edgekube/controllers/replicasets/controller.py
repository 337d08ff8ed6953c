"""The ReplicaSet controller: keeps `spec.replicas` active pods of the template running.

Handlers only enqueue `namespace/name` of the ReplicaSet concerned (and tick off
expectations as the controller's own creates and deletes arrive). `sync(key)`:
  1. reads the ReplicaSet from the cache (gone: forget it);
  2. claims its pods: the active pods that match its selector and that it controls,
     adopting matching orphans and releasing owned pods that stopped matching;
  3. deleting: status only; expectations outstanding: status only (its own writes are
     still on their way, so the cache may be short of pods it already created);
  4. otherwise creates the missing pods in slow-start batches, or deletes the least
     valuable extra ones, recording what it expects to see;
  5. writes status (through the status subresource, only when it changed), then raises
     the create/delete error for a retry, or requeues for when a ready pod becomes available.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.informing import Handlers, InformerFactory, object_key
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.replicasets.batching import slow_start
from edgekube.controllers.replicasets.claiming import (
    adopt,
    claim_candidates,
    controller_ref,
    index_for_claims,
    plan_claims,
    release,
)
from edgekube.controllers.replicasets.expectations import Expectations
from edgekube.controllers.replicasets.ranking import pods_to_delete
from edgekube.controllers.replicasets.readiness import is_active, is_deleting
from edgekube.controllers.replicasets.statuses import replica_set_status, status_changed
from edgekube.controllers.replicasets.templating import pod_from_template
from edgekube.controllers.running import Controller, Requeue
from edgekube.errors import ApiError, Forbidden, NotFound
from edgekube.resources.kinds.workload_causes import as_int, mapping
from edgekube.resources.kinds.workload_selectors import usable_selector
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.selectors import LabelSelector
from edgekube.resources.times import Clock, utc_now
from edgekube.service import deleting
from edgekube.service.options import DeleteOptions, WriteOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)

BURST_REPLICAS = 500  # the most pods one sync creates or deletes
AVAILABILITY_MARGIN = 0.05  # seconds added to a requeue, so the pod is surely available by then


def labels_of(obj: Obj) -> dict[str, str]:
    return {k: v for k, v in mapping(get_path(obj, "metadata", "labels")).items() if isinstance(v, str)}


class ReplicaSetController(Controller):
    name = "replicaset-controller"
    workers = 4

    def __init__(
        self,
        *,
        factory: InformerFactory,
        service: ResourceService,
        recorder: EventRecorder,
        settings: ControllerSettings,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__()
        self.service = service
        self.recorder = recorder
        self.settings = settings
        self.clock = clock
        self.expectations = Expectations()
        self.replicasets = factory.informer("apps", "v1", "ReplicaSet")
        self.pods = factory.informer("", "v1", "Pod")
        index_for_claims(self.pods)
        self.replicasets.add_handlers(
            Handlers(
                on_add=lambda rs: self.enqueue(object_key(rs)),
                on_update=lambda _old, rs: self.enqueue(object_key(rs)),
                on_delete=lambda rs: self.expectations.forget(object_key(rs)),
            )
        )
        self.pods.add_handlers(
            Handlers(on_add=self._pod_added, on_update=self._pod_updated, on_delete=self._pod_deleted)
        )

    # -- handlers: find the ReplicaSet concerned, tick off expectations, enqueue ------------

    def _owner_key(self, pod: Obj) -> str | None:
        """The key of the ReplicaSet in the cache that controls `pod`, if any."""
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet" or not str(ref.get("apiVersion", "")).startswith("apps/"):
            return None
        key = f"{get_path(pod, 'metadata', 'namespace')}/{ref.get('name')}"
        rs = self.replicasets.get(key)
        if rs is None or get_path(rs, "metadata", "uid") != ref.get("uid"):
            return None
        return key

    def _matching(self, pod: Obj) -> list[str]:
        """Keys of the ReplicaSets whose selector matches an orphan pod (they may adopt it)."""
        labels = labels_of(pod)
        keys = []
        for rs in self.replicasets.list(str(get_path(pod, "metadata", "namespace") or "")):
            selector = usable_selector(get_path(rs, "spec", "selector"))
            if selector is not None and selector.matches(labels):
                keys.append(object_key(rs))
        return keys

    def _pod_added(self, pod: Obj) -> None:
        if is_deleting(pod):
            self._pod_deleted(pod)  # seen for the first time already on its way out
            return
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.enqueue(key)
        elif controller_ref(pod) is None:
            for match in self._matching(pod):
                self.enqueue(match)

    def _pod_updated(self, old: Obj, pod: Obj) -> None:
        key, old_key = self._owner_key(pod), self._owner_key(old)
        if is_deleting(pod) and key is not None:
            # A graceful delete: the pod no longer counts, so the delete is as good as seen.
            self.expectations.deletion_observed(key, object_key(pod))
        if old_key is not None and old_key != key:
            self.enqueue(old_key)
        if key is not None:
            self.enqueue(key)
        elif controller_ref(pod) is None and (labels_of(pod) != labels_of(old) or controller_ref(old) is not None):
            for match in self._matching(pod):
                self.enqueue(match)

    def _pod_deleted(self, pod: Obj) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, object_key(pod))
            self.enqueue(key)

    # -- sync -------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        cached = self.replicasets.get(key)
        if cached is None:
            self.expectations.forget(key)
            return
        rs = copy.deepcopy(cached)
        selector = usable_selector(get_path(rs, "spec", "selector"))
        if selector is None:
            log.warning("replicaset has no usable selector", key=key)
            return
        pods = await self._claim(rs, selector)
        failure = None
        if not is_deleting(rs) and self.expectations.satisfied(key):
            failure = await self._manage(key, rs, pods)
        recheck = await self._update_status(rs, pods, failure)
        if failure is not None:
            raise failure
        if recheck is not None:
            raise Requeue(recheck + AVAILABILITY_MARGIN)

    async def _claim(self, rs: Obj, selector: LabelSelector) -> list[Obj]:
        """The active pods `rs` controls after adopting and releasing as its selector says."""
        active = [p for p in claim_candidates(self.pods, rs) if is_active(p)]
        claims = plan_claims(rs, lambda pod: selector.matches(labels_of(pod)), active)
        owned = list(claims.owned)
        if claims.adopt and await self._may_adopt(rs):
            for pod in claims.adopt:
                adopted = await adopt(self.service, self.pods.strategy, pod, rs)
                if adopted is not None:
                    owned.append(adopted)
        for pod in claims.release:
            await release(self.service, self.pods.strategy, pod, rs)
        return owned

    async def _may_adopt(self, rs: Obj) -> bool:
        """Adopt only for the ReplicaSet as stored now: not replaced, not being deleted."""
        md = rs["metadata"]
        try:
            fresh, _ = await self.service.read(self.replicasets.strategy, md.get("namespace"), str(md.get("name")))
        except NotFound:
            return False
        return get_path(fresh, "metadata", "uid") == md.get("uid") and not is_deleting(fresh)

    async def _manage(self, key: str, rs: Obj, pods: list[Obj]) -> Exception | None:
        """Create or delete pods towards `spec.replicas`; the first error, if any."""
        diff = len(pods) - (as_int(get_path(rs, "spec", "replicas")) or 0)
        if diff < 0:
            return await self._create_pods(key, rs, min(-diff, BURST_REPLICAS))
        if diff > 0:
            return await self._delete_pods(key, rs, pods_to_delete(pods, min(diff, BURST_REPLICAS)))
        return None

    async def _create_pods(self, key: str, rs: Obj, count: int) -> Exception | None:
        self.expectations.expect(key, adds=count)
        namespace = get_path(rs, "metadata", "namespace")

        async def create_one() -> None:
            try:
                pod = await self.service.create(self.pods.strategy, namespace, pod_from_template(rs), WriteOptions())
            except Forbidden as err:
                if "being terminated" not in err.message:
                    raise
                self.expectations.creation_observed(key)  # nothing will arrive; nothing to retry
                return
            self.recorder.normal(rs, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}")

        created, error = await slow_start(count, create_one)
        for _ in range(count - created):
            self.expectations.creation_observed(key)  # never sent (or refused): never arrives
        if error is not None:
            self.recorder.warning(rs, "FailedCreate", f"Error creating: {_message(error)}")
            log.info("pod creation failed", replicaset=key, created=created, wanted=count, error=_message(error))
        return error

    async def _delete_pods(self, key: str, rs: Obj, victims: list[Obj]) -> Exception | None:
        self.expectations.expect(key, deletes=[object_key(p) for p in victims])

        async def delete_one(pod: Obj) -> Exception | None:
            md = pod["metadata"]
            try:
                await deleting.delete(
                    self.service,
                    self.pods.strategy,
                    md.get("namespace"),
                    str(md.get("name")),
                    DeleteOptions(precondition_uid=md.get("uid")),
                )
            except NotFound:
                self.expectations.deletion_observed(key, object_key(pod))
                return None
            except ApiError as err:
                self.expectations.deletion_observed(key, object_key(pod))
                self.recorder.warning(rs, "FailedDelete", f"Error deleting: {err.message}")
                return err
            self.recorder.normal(rs, "SuccessfulDelete", f"Deleted pod: {md.get('name')}")
            return None

        results = await asyncio.gather(*(delete_one(p) for p in victims))
        return next((r for r in results if r is not None), None)

    async def _update_status(self, rs: Obj, pods: list[Obj], failure: Exception | None) -> float | None:
        """Write the status if it changed; seconds until the next pod becomes available."""
        status, recheck = replica_set_status(rs, pods, failure, self.clock())
        if not status_changed(rs.get("status"), status):
            return recheck
        md = rs["metadata"]

        async def mutate(current: Obj) -> Obj:
            if get_path(current, "metadata", "uid") == md.get("uid"):  # not a new one of that name
                current["status"] = copy.deepcopy(status)
            return current

        await self.service.guaranteed_update(
            self.replicasets.strategy,
            md.get("namespace"),
            str(md.get("name")),
            mutate,
            WriteOptions(),
            subresource="status",
        )
        return recheck


def _message(error: Any) -> str:
    return str(getattr(error, "message", None) or error)
