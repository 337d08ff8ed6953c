"""Taint-based eviction: pods leave nodes whose NoExecute taints they do not tolerate.

Kubernetes' taint eviction controller, level-triggered. Keys are pods; a pod is looked at
when it changes and when the NoExecute taints of its node change. `sync(pod)`:
  - not bound, already being deleted, or its node untainted -> nothing;
  - a NoExecute taint it does not tolerate (or tolerates for <= 0 s) -> deleted now;
  - tolerated for `tolerationSeconds` -> deleted once that many seconds have passed since
    the taint's `timeAdded`; until then the key is requeued for exactly that moment;
  - tolerated without `tolerationSeconds` -> stays.
A lifted taint needs no cancelling: the requeued sync finds nothing left to do.

The delete is an ordinary (graceful) one, as Kubernetes does it: on a node that is
unreachable the pod stays Terminating until `podgc` decides its node will not finish it.
The DaemonSet's pods tolerate not-ready and unreachable for ever, so they stay.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.informing import Handlers, InformerFactory, object_key, split_key
from edgekube.controllers.nodes.indexes import NODE_INDEX, index_pods
from edgekube.controllers.nodes.taints import NO_EXECUTE, eviction_time, taints_of, tolerations_of
from edgekube.controllers.nodes.timing import seconds_until
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.running import Controller, Requeue
from edgekube.errors import Conflict, NotFound
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.times import Clock, utc_now
from edgekube.service import deleting
from edgekube.service.options import DeleteOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)


def _no_execute(node: Obj | None) -> list[tuple[str, str, str]]:
    """What of a node's NoExecute taints matters for eviction, comparable between versions."""
    return sorted(
        (str(t.get("key") or ""), str(t.get("value") or ""), str(t.get("timeAdded") or ""))
        for t in taints_of(node, NO_EXECUTE)
    )


class TaintEvictionController(Controller):
    name = "taint-eviction"
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
        self.nodes = factory.informer("", "v1", "Node")
        self.pods = factory.informer("", "v1", "Pod")
        index_pods(self.pods)
        # NoExecute taints written without `timeAdded` count from when we first saw them.
        self._first_seen: dict[str, dict[tuple[str, str], datetime]] = {}
        self.pods.add_handlers(Handlers(on_add=self._on_pod, on_update=lambda _old, new: self._on_pod(new)))
        self.nodes.add_handlers(
            Handlers(on_add=self._on_node_added, on_update=self._on_node_updated, on_delete=self._on_node_deleted)
        )

    # -- events ---------------------------------------------------------------------------

    def _on_pod(self, pod: Obj) -> None:
        if get_path(pod, "spec", "nodeName") and not get_path(pod, "metadata", "deletionTimestamp"):
            self.enqueue(object_key(pod))

    def _on_node_added(self, node: Obj) -> None:
        if taints_of(node, NO_EXECUTE):
            self._enqueue_pods_on(object_key(node))

    def _on_node_updated(self, old: Obj, new: Obj) -> None:
        if _no_execute(old) != _no_execute(new):
            self._forget_lifted(new)
            self._enqueue_pods_on(object_key(new))

    def _on_node_deleted(self, node: Obj) -> None:
        self._first_seen.pop(object_key(node), None)

    def _enqueue_pods_on(self, node_name: str) -> None:
        for pod in self.pods.by_index(NODE_INDEX, node_name):
            self._on_pod(pod)

    def _forget_lifted(self, node: Obj) -> None:
        seen = self._first_seen.get(object_key(node))
        if seen is None:
            return
        present = {(str(t.get("key") or ""), NO_EXECUTE) for t in taints_of(node, NO_EXECUTE)}
        for gone in set(seen) - present:
            del seen[gone]

    # -- sync -----------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        pod = self.pods.get(key)
        if pod is None or get_path(pod, "metadata", "deletionTimestamp"):
            return
        node_name = get_path(pod, "spec", "nodeName")
        node = self.nodes.get(str(node_name)) if node_name else None
        taints = taints_of(node, NO_EXECUTE)
        if not taints:
            return
        now = self.clock()
        seen = self._first_seen.setdefault(str(node_name), {})
        for taint in taints:
            if not taint.get("timeAdded"):
                seen.setdefault((str(taint.get("key") or ""), NO_EXECUTE), now)
        deadline = eviction_time(taints, tolerations_of(pod.get("spec")), now, added=seen)
        if deadline is None:
            return
        if deadline > now:
            raise Requeue(seconds_until(deadline, now))
        await self._evict(key, pod)

    async def _evict(self, key: str, pod: Obj) -> None:
        namespace, name = split_key(key)
        self.recorder.normal(pod, "TaintManagerEviction", f"Marking for deletion Pod {key}")
        opts = DeleteOptions(precondition_uid=get_path(pod, "metadata", "uid"))
        try:
            await deleting.delete(self.service, self.pods.strategy, namespace, name, opts)
        except NotFound:
            return
        except Conflict as err:
            if err.message.startswith("Precondition failed"):
                return  # a new pod of the same name: its own sync decides
            raise
        log.info("evicted pod from tainted node", pod=key, node=get_path(pod, "spec", "nodeName"))
