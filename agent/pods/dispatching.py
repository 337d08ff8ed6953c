"""The pods of this node: from the desired set (server or local copy) to one `PodWorker` per pod uid.

The desired set is the pod watch's cache (`spec.nodeName=<node>`) once its first list
has arrived, and the local copy on disk until then: after a restart while the server is
unreachable, pods come back from the copy (ARCHITECTURE principle 5). The watch's event
handler only marks the set dirty; `reconcile` then, in this order:

    1. starts a worker for each desired pod without one, and hands the others their pod;
    2. keeps the local copy level with the server (a file per pod, rewritten on change);
    3. with the server's answer in hand: tells workers of pods that left it to stop, and
       removes sandboxes and containers labelled with our node that no desired pod owns.

Nothing is removed on the word of the local copy alone: an agent that cannot reach the
server keeps every pod it knows.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from agent.pods.contexts import PodContext
from agent.pods.labels import LABEL_NODE
from agent.pods.working import PodWorker
from agent.runtime.interface import LABEL_POD_UID
from agent.waiting import wait_event
from edgekube.client import PODS, ApiClient, ListWatcher

log = structlog.get_logger(__name__)
Obj = dict[str, Any]


def _uid(pod: Obj) -> str:
    return str((pod.get("metadata") or {}).get("uid", ""))


class PodDispatcher:
    def __init__(
        self, ctx: PodContext, client: ApiClient, *, initial_sync_wait: float = 3.0, collect_interval: float = 60.0
    ) -> None:
        self.ctx = ctx
        self.watcher = ListWatcher(
            client, PODS, field_selector=f"spec.nodeName={ctx.node_name}", on_event=self._on_event
        )
        self.workers: dict[str, PodWorker] = {}
        self.local: dict[str, Obj] = {}
        """The local copy, by uid."""
        self.ready = asyncio.Event()
        """Set after the first reconcile: workers exist for every known pod."""
        self._initial_sync_wait = initial_sync_wait
        self._collect_interval = collect_interval
        self._finished: set[str] = set()
        self._dirty = asyncio.Event()
        self._collect_due = True
        self._last_collect = -1e18
        self._watch_task: asyncio.Task[None] | None = None

    # --- hooks --------------------------------------------------------------------------

    def server_view(self, namespace: str, name: str) -> Obj | None:
        """The pod as the watch has it (the poster compares statuses with it)."""
        return self.watcher.get(f"{namespace}/{name}")

    def _on_event(self, kind: str, obj: Obj) -> None:
        self._dirty.set()

    def server_returned(self) -> None:
        """List again now instead of after the watch's growing retry delay; clean up after it."""
        self._start_watch()
        self._collect_due = True
        for worker in self.workers.values():
            worker.wake()  # a final delete or status that waited for the server goes out now

    def _start_watch(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
        self._watch_task = asyncio.get_running_loop().create_task(self.watcher.run(), name="pod watch")

    def _worker_finished(self, uid: str) -> None:
        self.workers.pop(uid, None)
        self.local.pop(uid, None)
        self._finished.add(uid)
        self._dirty.set()

    # --- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        cache = self.ctx.cache
        await cache.open()
        self.local = {uid: pod for uid, pod in (await cache.load_pods()).items() if _uid(pod) == uid}
        if self.local:
            log.info("local copy loaded", pods=len(self.local))
        self._start_watch()
        with contextlib.suppress(TimeoutError):
            # Reachable servers answer in milliseconds; otherwise carry on from the local copy.
            await wait_event(self.watcher.wait_synced(), self._initial_sync_wait)
        try:
            while True:
                self._dirty.clear()
                await self.reconcile()
                self.ready.set()
                with contextlib.suppress(TimeoutError):
                    await wait_event(self._dirty.wait(), self._collect_interval)
        finally:
            if self._watch_task is not None:
                self._watch_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._watch_task
            await asyncio.gather(*(w.stop() for w in list(self.workers.values())))

    def desired(self) -> tuple[dict[str, Obj], bool]:
        """The desired pods by uid, and whether the server said so (False: the local copy)."""
        if self.watcher.synced.is_set():
            return {_uid(p): p for p in self.watcher.cache.values() if _uid(p)}, True
        return dict(self.local), False

    async def reconcile(self) -> None:
        desired, authoritative = self.desired()
        for uid, pod in desired.items():
            worker = self.workers.get(uid)
            if worker is None:
                if uid in self._finished:
                    continue  # stopped and deleted; the watch has not told us yet
                worker = PodWorker(self.ctx, pod, on_finished=self._worker_finished)
                self.workers[uid] = worker
                worker.start()
            elif worker.pod is not pod:
                worker.update(pod)
            if authoritative:
                self.local[uid] = pod
                await self.ctx.cache.store_pod(pod)
        if not authoritative:
            return
        for uid, worker in self.workers.items():
            if uid not in desired and not worker.gone:
                worker.remove()
        for uid in [u for u in self.local if u not in desired and u not in self.workers]:
            del self.local[uid]
            await self.ctx.cache.forget_pod(uid)
        self._finished &= desired.keys()
        now = asyncio.get_running_loop().time()
        if self._collect_due or now - self._last_collect >= self._collect_interval:
            self._collect_due = False
            self._last_collect = now
            await self.collect_orphans(desired)

    async def collect_orphans(self, desired: dict[str, Obj]) -> None:
        """Remove our node's sandboxes and containers that no desired pod or worker owns."""
        runtime = self.ctx.runtime
        # Our extra labels too: agents of the same node name may share one Podman store (tests).
        mine = {LABEL_NODE: self.ctx.node_name, **self.ctx.extra_labels}
        try:
            sandboxes = await runtime.list_pod_sandboxes(mine)
            containers = await runtime.list_containers(mine)
        except Exception as err:  # the runtime is down: the next pass tries again
            log.warning("cannot list the runtime's pods for cleanup", error=str(err))
            self._collect_due = True
            return
        keep = set(desired) | set(self.workers)
        for sandbox in sandboxes:
            if sandbox.pod_uid not in keep:
                log.info("removing a pod no longer wanted", sandbox=sandbox.name, pod_uid=sandbox.pod_uid)
                await runtime.remove_pod_sandbox(sandbox.id)
        for container in containers:
            if container.labels.get(LABEL_POD_UID, "") not in keep:
                await runtime.remove_container(container.id)
        volumes = self.ctx.volumes
        try:
            for uid in await volumes.pods_on_disk():
                if uid not in keep:
                    await volumes.cleanup(uid)
            await volumes.reconcile_volumes()
        except Exception as err:  # the server may be away (claims); the next pass tries again
            log.warning("volume cleanup failed", error=str(err))
