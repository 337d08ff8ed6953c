"""The DaemonSet controller: one pod of the template on every node that admits it.

Events put DaemonSet keys on the queue: a DaemonSet's own changes; a pod's changes (its
controlling DaemonSet, counting off expectations on the way); a node's arrival,
departure, or change of labels or spec (every DaemonSet). `sync(namespace/name)`, in
Kubernetes' order:
  1. gone or being deleted -> nothing (the garbage collector removes its pods);
  2. the template's hash, recorded on the DaemonSet (annotation) when it changed;
  3. expectations met -> `planning.plan_nodes`: create and delete (failed pods after a
     backoff); if that had nothing to do and the strategy is RollingUpdate ->
     `rolling.rolling_deletes`. OnDelete leaves old pods until someone deletes them;
  4. status from the snapshot the sync started with; a requeue for when a pod becomes
     available (minReadySeconds) or a failed-pod backoff ends.
Creates go one at a time in node-name order and stop at the first error (the sync is
then retried with backoff), so a namespace being deleted or a refusing admission does
not draw a storm of failing writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.daemonsets.backoff import FailedPodBackoff
from edgekube.controllers.daemonsets.expectations import Expectations
from edgekube.controllers.daemonsets.placing import should_run
from edgekube.controllers.daemonsets.planning import Placement, plan_nodes
from edgekube.controllers.daemonsets.pods import (
    HASH_ANNOTATION,
    controller_uid,
    deleting,
    new_pod,
    target_node,
    template_hash,
    terminal,
)
from edgekube.controllers.daemonsets.rolling import max_unavailable, rolling_deletes
from edgekube.controllers.daemonsets.statuses import daemon_status, merged_status
from edgekube.controllers.informing import Handlers, InformerFactory, object_key
from edgekube.controllers.nodes.indexes import OWNER_INDEX, index_pods
from edgekube.controllers.nodes.timing import seconds_until
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.running import Controller, Requeue
from edgekube.errors import ApiError, NotFound
from edgekube.resources.kinds.workload_selectors import usable_selector
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.selectors import LabelSelector
from edgekube.resources.times import Clock, utc_now
from edgekube.service import deleting as deletes
from edgekube.service.options import DeleteOptions, WriteOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)


def owner_key(pod: Obj) -> str | None:
    """`namespace/name` of the DaemonSet controlling `pod`, if one does."""
    for ref in get_path(pod, "metadata", "ownerReferences") or []:
        if not isinstance(ref, dict) or ref.get("controller") is not True:
            continue
        if ref.get("kind") == "DaemonSet" and str(ref.get("apiVersion") or "").startswith("apps/"):
            return f"{get_path(pod, 'metadata', 'namespace')}/{ref.get('name')}"
        return None
    return None


def _min_ready(daemonset: Obj) -> int:
    value = get_path(daemonset, "spec", "minReadySeconds")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class DaemonSetController(Controller):
    name = "daemonset"
    workers = 2

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
        self.clock = clock
        self.daemonsets = factory.informer("apps", "v1", "DaemonSet")
        self.nodes = factory.informer("", "v1", "Node")
        self.pods = factory.informer("", "v1", "Pod")
        index_pods(self.pods)
        self.expectations = Expectations()
        self.backoff = FailedPodBackoff()
        self.daemonsets.add_handlers(
            Handlers(
                on_add=self._on_daemonset,
                on_update=lambda _old, new: self._on_daemonset(new),
                on_delete=self._on_daemonset,
            )
        )
        self.pods.add_handlers(
            Handlers(on_add=self._on_pod_added, on_update=self._on_pod_updated, on_delete=self._on_pod_deleted)
        )
        self.nodes.add_handlers(
            Handlers(on_add=self._on_node, on_update=self._on_node_updated, on_delete=self._on_node)
        )

    # -- events ---------------------------------------------------------------------------

    def _on_daemonset(self, daemonset: Obj) -> None:
        self.enqueue(object_key(daemonset))

    def _on_pod_added(self, pod: Obj) -> None:
        key = owner_key(pod)
        if key is None:
            return
        if deleting(pod):
            self.expectations.deleted(key)
        else:
            self.expectations.created(key)
        self.enqueue(key)

    def _on_pod_updated(self, old: Obj, new: Obj) -> None:
        key, old_key = owner_key(new), owner_key(old)
        if old_key is not None and old_key != key:
            self.enqueue(old_key)
        if key is None:
            return
        if deleting(new) and not deleting(old):
            self.expectations.deleted(key)
        self.enqueue(key)

    def _on_pod_deleted(self, pod: Obj) -> None:
        key = owner_key(pod)
        if key is None:
            return
        if not deleting(pod):
            self.expectations.deleted(key)
        self.enqueue(key)

    def _on_node(self, _node: Obj) -> None:
        for key in self.daemonsets.keys():
            self.enqueue(key)

    def _on_node_updated(self, old: Obj, new: Obj) -> None:
        """Heartbeats and status do not move daemons; labels and spec (taints, cordon) do."""
        if get_path(old, "metadata", "labels") != get_path(new, "metadata", "labels") or old.get("spec") != new.get(
            "spec"
        ):
            self._on_node(new)

    # -- sync -----------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        daemonset = self.daemonsets.get(key)
        if daemonset is None:
            self.expectations.forget(key)
            self.backoff.forget_prefix(f"{key}/")
            return
        selector = usable_selector(get_path(daemonset, "spec", "selector"))
        if deleting(daemonset) or selector is None:
            return
        daemonset = await self._record_hash(daemonset)
        revision_hash = template_hash(get_path(daemonset, "spec", "template"))
        nodes = {object_key(n): n for n in self.nodes.list()}
        names = sorted(nodes)
        placement = {name: should_run(daemonset, nodes[name]) for name in names}
        by_node = self._pods_by_node(daemonset, selector)
        now = self.clock()
        waits: list[float] = []
        if self.expectations.satisfied(key):
            acted = await self._manage(key, daemonset, names, by_node, placement, revision_hash, now, waits)
            strategy = get_path(daemonset, "spec", "updateStrategy", "type") or "RollingUpdate"
            if not acted and strategy == "RollingUpdate":
                wanted = [n for n in names if placement[n][0]]
                limit = max_unavailable(daemonset, len(wanted))
                old = rolling_deletes(wanted, by_node, revision_hash, limit, _min_ready(daemonset), now)
                await self._apply(key, daemonset, [], old, revision_hash)
        status, next_available = daemon_status(daemonset, names, by_node, placement, revision_hash, now)
        await self._write_status(daemonset, status)
        if next_available is not None:
            waits.append(seconds_until(next_available, now))
        if waits:
            raise Requeue(min(waits))

    def _pods_by_node(self, daemonset: Obj, selector: LabelSelector) -> dict[str, list[Obj]]:
        """The DaemonSet's pods by the node they are on (or pinned to), oldest first."""
        uid = get_path(daemonset, "metadata", "uid")
        namespace = get_path(daemonset, "metadata", "namespace")
        found: dict[str, list[Obj]] = {}
        for pod in self.pods.by_index(OWNER_INDEX, str(uid)):
            if controller_uid(pod) != uid or get_path(pod, "metadata", "namespace") != namespace:
                continue
            labels = get_path(pod, "metadata", "labels")
            if not selector.matches(labels if isinstance(labels, dict) else None):
                continue  # Kubernetes would release it; it is no longer this DaemonSet's
            node = target_node(pod)
            if node is None or (terminal(pod) and deleting(pod)):
                continue
            found.setdefault(node, []).append(pod)
        return found

    async def _record_hash(self, daemonset: Obj) -> Obj:
        """The annotation carries the hash of the template as stored (read again on write)."""
        if get_path(daemonset, "metadata", "annotations", HASH_ANNOTATION) == template_hash(
            get_path(daemonset, "spec", "template")
        ):
            return daemonset

        async def mutate(current: Obj) -> Obj:
            meta = current.setdefault("metadata", {})
            annotations = meta.get("annotations")
            annotations = annotations if isinstance(annotations, dict) else {}
            annotations[HASH_ANNOTATION] = template_hash(get_path(current, "spec", "template"))
            meta["annotations"] = annotations
            return current

        ns, name = get_path(daemonset, "metadata", "namespace"), get_path(daemonset, "metadata", "name")
        return await self.service.guaranteed_update(self.daemonsets.strategy, ns, name, mutate, WriteOptions())

    async def _manage(
        self,
        key: str,
        daemonset: Obj,
        names: list[str],
        by_node: dict[str, list[Obj]],
        placement: Placement,
        revision_hash: str,
        now: datetime,
        waits: list[float],
    ) -> bool:
        plan = plan_nodes(names, by_node, placement)
        doomed = list(plan.delete)
        for node, pod in plan.failed:
            backoff_key = f"{key}/{node}"
            wait = self.backoff.wait(backoff_key, now)
            if wait > 0:
                waits.append(wait)
                continue
            self.backoff.step(backoff_key, now)
            self.recorder.warning(
                daemonset,
                "FailedDaemonPod",
                f"Found failed daemon pod {object_key(pod)} on node {node}, will try to kill it",
            )
            doomed.append(pod)
        return await self._apply(key, daemonset, plan.create, doomed, revision_hash)

    async def _apply(
        self, key: str, daemonset: Obj, create_on: list[str], doomed: list[Obj], revision_hash: str
    ) -> bool:
        """Create pods on `create_on`, delete `doomed`; False when there was nothing to do."""
        if not create_on and not doomed:
            return False
        self.expectations.expect(key, adds=len(create_on), deletes=len(doomed))
        failure: ApiError | None = None
        namespace = get_path(daemonset, "metadata", "namespace")
        for i, node in enumerate(create_on):
            try:
                pod = await self.service.create(
                    self.pods.strategy, namespace, new_pod(daemonset, node, revision_hash), WriteOptions()
                )
            except ApiError as err:
                for _ in create_on[i:]:
                    self.expectations.created(key)  # none of the rest will show up
                self.recorder.warning(daemonset, "FailedCreate", f"Error creating: {err.message}")
                failure = err
                break
            self.recorder.normal(daemonset, "SuccessfulCreate", f"Created pod: {get_path(pod, 'metadata', 'name')}")
        for pod in doomed:
            error = await self._delete(pod)
            if error is not None:
                self.expectations.deleted(key)
                if not isinstance(error, NotFound):
                    self.recorder.warning(daemonset, "FailedDelete", f"Error deleting: {error.message}")
                    failure = failure or error
                continue
            self.recorder.normal(daemonset, "SuccessfulDelete", f"Deleted pod: {get_path(pod, 'metadata', 'name')}")
        if failure is not None:
            raise failure
        return True

    async def _delete(self, pod: Obj) -> ApiError | None:
        meta: Any = pod.get("metadata") or {}
        opts = DeleteOptions(precondition_uid=meta.get("uid"))
        try:
            await deletes.delete(self.service, self.pods.strategy, meta.get("namespace"), meta.get("name"), opts)
        except ApiError as err:
            return err
        return None

    async def _write_status(self, daemonset: Obj, computed: dict[str, Any]) -> None:
        if merged_status(daemonset.get("status"), computed) == daemonset.get("status"):
            return

        async def mutate(current: Obj) -> Obj:
            current["status"] = merged_status(current.get("status"), computed)
            return current

        ns, name = get_path(daemonset, "metadata", "namespace"), get_path(daemonset, "metadata", "name")
        await self.service.guaranteed_update(
            self.daemonsets.strategy, ns, name, mutate, WriteOptions(), subresource="status"
        )
