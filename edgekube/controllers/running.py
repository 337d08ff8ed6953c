"""The worker loop every controller shares: take a key, sync it, retry it with backoff on error."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod

import structlog

from edgekube.controllers.queueing import ShutDown, WorkQueue
from edgekube.errors import Conflict, NotFound

log = structlog.get_logger(__name__)


class Requeue(Exception):
    """Sync again after `delay` seconds; not an error (waiting for time to pass)."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"requeue after {delay}s")
        self.delay = delay


class Controller(ABC):
    """Subclasses set `name`, wire informer handlers to `self.queue`, and implement `sync`."""

    name = "controller"
    workers = 1

    def __init__(self) -> None:
        self.queue = WorkQueue(self.name)

    @abstractmethod
    async def sync(self, key: str) -> None:
        """Bring the object at `key` to its desired state. Raise to retry with backoff."""

    def enqueue(self, key: str) -> None:
        self.queue.add(key)

    async def run(self) -> None:
        """Runs the workers until cancelled."""
        workers = [asyncio.create_task(self._work(), name=f"{self.name}-{i}") for i in range(self.workers)]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            await self.queue.shut_down()

    async def _work(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                await self.sync(key)
            except Requeue as again:
                self.queue.forget(key)
                self.queue.add_after(key, again.delay)
            except (Conflict, NotFound) as err:
                # Someone wrote in between (or the object went away): the next sync sees it.
                delay = self.queue.add_rate_limited(key)
                log.debug("sync raced a write; retrying", controller=self.name, key=key, error=str(err), delay=delay)
            except asyncio.CancelledError:
                raise
            except Exception as err:
                delay = self.queue.add_rate_limited(key)
                log.warning("sync failed", controller=self.name, key=key, error=repr(err), retry_in=delay)
            else:
                self.queue.forget(key)
            finally:
                self.queue.done(key)
