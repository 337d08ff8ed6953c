"""Pod statuses to the server: sent when they differ from what the server has, kept while it is away.

Workers `post` a pod's status after every sync; most are equal to what the server holds
and cost nothing. "What the server holds" is the newer of the watch cache's copy and the
answer to our own last write (the watch echo of a write may lag behind the next sync).
A status the server cannot take now stays pending, is written to the local copy
(`LocalCache.store_status`) so an agent restart still sends it, and goes out when the
server answers again (`nudge`, called when connectivity returns).

Writes are merge patches of the agent-owned fields on pods/status, so fields owned by
others (qosClass, nominatedNodeName) are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from agent.cache import LocalCache
from agent.connectivity import Connectivity
from agent.pods.statuses import own_part
from agent.waiting import wait_event
from edgekube.client import PODS, ApiClient, ApiError, NotFound, ServerUnreachable

log = structlog.get_logger(__name__)
Obj = dict[str, Any]
FIRST_RETRY = 0.5

ServerView = Callable[[str, str], Obj | None]
"""(namespace, name) -> the pod as the watch cache has it, or None."""


@dataclass
class Pending:
    namespace: str
    name: str
    uid: str
    status: Obj
    on_disk: bool = False
    """A file in the local copy holds a status of this pod (maybe an older one)."""
    saved: bool = False
    """That file holds this very status."""

    def record(self) -> Obj:
        return {"namespace": self.namespace, "name": self.name, "uid": self.uid, "status": self.status}


def _revision(obj: Obj | None) -> int:
    try:
        return int((obj or {}).get("metadata", {}).get("resourceVersion") or 0)
    except (TypeError, ValueError):
        return 0


class StatusPoster:
    def __init__(
        self,
        *,
        client: ApiClient,
        cache: LocalCache,
        connectivity: Connectivity,
        server_view: ServerView,
        retry_max: float,
    ) -> None:
        self._client = client
        self._cache = cache
        self._connectivity = connectivity
        self._server_view = server_view
        self._retry_max = retry_max
        self._pending: dict[str, Pending] = {}
        self._written: dict[str, Obj] = {}
        self._wake = asyncio.Event()
        self._delay = FIRST_RETRY
        self._lock = asyncio.Lock()
        self.writes = 0
        """Status writes that went out (tests and metrics)."""

    def latest(self, namespace: str, name: str, uid: str) -> Obj | None:
        """The newest copy of the pod the server is known to hold (None: unknown or another pod)."""
        cached = self._server_view(namespace, name)
        if cached is not None and (cached.get("metadata") or {}).get("uid") != uid:
            cached = None
        written = self._written.get(uid)
        if written is None:
            return cached
        if cached is None:
            return written
        return written if _revision(written) > _revision(cached) else cached

    def post(self, namespace: str, name: str, uid: str, status: Obj) -> None:
        """Have the server hold `status` (agent-owned fields; None values remove a field)."""
        held = self.latest(namespace, name, uid)
        if held is not None and own_part(held.get("status") or {}) == own_part(status):
            stale = self._pending.pop(uid, None)
            if stale is not None and stale.on_disk:
                self._spawn_forget(uid)
            return
        old = self._pending.get(uid)
        if old is not None and old.status == status:
            return
        self._pending[uid] = Pending(namespace, name, uid, status, on_disk=bool(old and old.on_disk))
        self._wake.set()

    def has_pending(self, uid: str) -> bool:
        return uid in self._pending

    def forget(self, uid: str) -> None:
        self._pending.pop(uid, None)
        self._written.pop(uid, None)

    def nudge(self) -> None:
        """The server is back: send now, and start retry delays afresh."""
        self._delay = FIRST_RETRY
        self._wake.set()

    async def load(self) -> None:
        """Statuses an earlier run could not send: pending again (a worker's fresher one replaces them)."""
        for uid, rec in (await self._cache.load_statuses()).items():
            if isinstance(rec.get("status"), dict) and rec.get("name") and uid not in self._pending:
                self._pending[uid] = Pending(
                    str(rec.get("namespace", "")), str(rec["name"]), uid, rec["status"], on_disk=True, saved=True
                )
        if self._pending:
            self._wake.set()

    async def run(self) -> None:
        """Send pending statuses until cancelled; on the way out, keep the unsent ones on disk."""
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                if await self._send_all():
                    self._delay = FIRST_RETRY
                    continue
                await self._persist_all()
                with contextlib.suppress(TimeoutError):
                    await wait_event(self._wake.wait(), self._delay)
                self._delay = min(self._retry_max, self._delay * 2)
                self._wake.set()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._persist_all())

    async def send_now(self, namespace: str, name: str, uid: str, status: Obj) -> None:
        """Write this status at once (before a final delete); raises ServerUnreachable."""
        self.post(namespace, name, uid, status)
        pending = self._pending.get(uid)
        if pending is not None:
            await self._send(pending)

    async def _send_all(self) -> bool:
        """Send every pending status; False if the server was unreachable."""
        for uid in list(self._pending):
            pending = self._pending.get(uid)
            if pending is None:
                continue
            try:
                await self._send(pending)
            except ServerUnreachable as err:
                self._connectivity.lost(err)
                return False
        return True

    async def _send(self, pending: Pending) -> None:
        async with self._lock:
            if self._pending.get(pending.uid) is not pending:
                return  # replaced or dropped while we waited
            held = self.latest(pending.namespace, pending.name, pending.uid)
            if held is None or own_part(held.get("status") or {}) != own_part(pending.status):
                try:
                    written = await self._client.patch_status(
                        PODS, pending.name, {"status": pending.status}, pending.namespace
                    )
                except NotFound:
                    written = None  # the pod is gone: nothing to report to
                except ApiError as err:
                    log.warning("status write refused", pod=f"{pending.namespace}/{pending.name}", error=err.message)
                    written = None
                else:
                    self.writes += 1
                    self._connectivity.reached()
                if written is not None and (written.get("metadata") or {}).get("uid") == pending.uid:
                    self._written[pending.uid] = written
            if self._pending.get(pending.uid) is pending:
                del self._pending[pending.uid]
            if pending.on_disk:
                await self._cache.forget_status(pending.uid)

    async def _persist_all(self) -> None:
        for pending in list(self._pending.values()):
            if not pending.saved:
                await self._cache.store_status(pending.uid, pending.record())
                pending.on_disk = pending.saved = True

    def _spawn_forget(self, uid: str) -> None:
        task = asyncio.get_running_loop().create_task(self._cache.forget_status(uid))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
