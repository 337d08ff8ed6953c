"""Events (`kind: Event`) that tell the story of an object, aggregated as Kubernetes does.

A repeat of the same (object, type, reason, message, source) within the aggregation window
bumps `count` and `lastTimestamp` on the existing Event instead of writing a new one, so a
pod that fails to schedule every few seconds shows one line with a growing count in
`kubectl describe` and `kubectl get events`. Recording never blocks or fails the caller:
events go through a bounded queue and a full queue drops them.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
import time
from dataclasses import dataclass

import structlog

from edgekube.errors import ApiError
from edgekube.resources.objects import Obj
from edgekube.service.metadata import now_rfc3339
from edgekube.service.options import WriteOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)

AGGREGATE_SECONDS = 600.0
QUEUE_LIMIT = 1000
WRITERS = 8  # events written concurrently; one at a time fell behind a busy scheduler


@dataclass(frozen=True)
class _Pending:
    involved: Obj
    type: str
    reason: str
    message: str


class EventRecorder:
    def __init__(self, service: ResourceService, component: str) -> None:
        self.service = service
        self.component = component
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(QUEUE_LIMIT)
        # (uid, type, reason, message) -> (namespace, event name, when last written)
        self._recent: dict[tuple[str, str, str, str], tuple[str, str, float]] = {}

    def normal(self, obj: Obj, reason: str, message: str) -> None:
        self.record(obj, "Normal", reason, message)

    def warning(self, obj: Obj, reason: str, message: str) -> None:
        self.record(obj, "Warning", reason, message)

    def record(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        try:
            self._queue.put_nowait(_Pending(obj, type_, reason, message))
        except asyncio.QueueFull:
            log.debug("event dropped: queue full", reason=reason)

    async def run(self) -> None:
        writers = [asyncio.create_task(self._writer(), name=f"event-writer-{i}") for i in range(WRITERS)]
        try:
            await asyncio.gather(*writers)
        finally:
            for w in writers:
                w.cancel()

    async def _writer(self) -> None:
        while True:
            pending = await self._queue.get()
            try:
                await self._write(pending)
            except asyncio.CancelledError:
                raise
            except ApiError as err:
                log.debug("event not written", reason=pending.reason, error=err.message)
            except Exception as err:
                log.warning("event not written", reason=pending.reason, error=repr(err))

    async def _write(self, p: _Pending) -> None:
        strategy = self.service.registry.by_kind("", "v1", "Event")
        assert strategy is not None
        meta = p.involved.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        key = (str(meta.get("uid")), p.type, p.reason, p.message)
        now = now_rfc3339()
        recent = self._recent.get(key)
        if recent is not None and time.monotonic() - recent[2] < AGGREGATE_SECONDS:
            ns, name, _ = recent

            async def bump(current: Obj) -> Obj:
                current["count"] = int(current.get("count") or 1) + 1
                current["lastTimestamp"] = now
                return current

            try:
                await self.service.guaranteed_update(strategy, ns, name, bump, WriteOptions())
                self._recent[key] = (ns, name, time.monotonic())
                return
            except ApiError:
                pass  # gone (expired or deleted): write a new one
        name = f"{meta.get('name')}.{secrets.token_hex(8)}"
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {
                "kind": p.involved.get("kind"),
                "apiVersion": p.involved.get("apiVersion"),
                "namespace": meta.get("namespace") or "",
                "name": meta.get("name"),
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": p.reason,
            "message": p.message,
            "type": p.type,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "source": {"component": self.component},
            "reportingComponent": self.component,
        }
        await self.service.create(strategy, namespace, copy.deepcopy(event), WriteOptions())
        self._recent[key] = (namespace, name, time.monotonic())
        if len(self._recent) > 10_000:  # forget the oldest half; aggregation is best-effort
            for k in sorted(self._recent, key=lambda k: self._recent[k][2])[:5000]:
                del self._recent[k]
