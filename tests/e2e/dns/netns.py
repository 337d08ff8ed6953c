"""A network namespace of the test's own, and an asyncio loop on a thread that lives inside it.

setns(2) moves only the calling thread, so sockets the loop creates (the resolver's, the
fake upstream's, the forwarder's per-query ones, the test's queries) all belong to the
namespace while pytest itself stays in the host's. The namespace's default route ends in a
sink device (HOST.md): a packet nothing answers dies there instead of leaving the machine.
This host's kernel has no `dummy` link type, so the sink is a veth pair with both ends in the
namespace (what leaves sink0 arrives at sink1 and is dropped: no address, no forwarding), and
the cluster DNS address sits on a port-less bridge.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import secrets
import subprocess
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
PREFIX = "h5dns"


def ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, ["ip", *args], result.stdout, result.stderr.strip())


class OwnNetns:
    """`ip netns add h5dns-<random>` with lo up, a sink default route and a bridge for the DNS address."""

    def __init__(self) -> None:
        self.name = f"{PREFIX}-{os.getpid() % 10000}-{secrets.token_hex(2)}"
        self.dns_device = f"{PREFIX}0"

    def create(self) -> OwnNetns:
        ip("netns", "add", self.name)
        try:
            ip("-n", self.name, "link", "set", "lo", "up")
            ip("-n", self.name, "link", "add", "sink0", "type", "veth", "peer", "name", "sink1")
            ip("-n", self.name, "addr", "add", "192.0.2.1/24", "dev", "sink0")
            ip("-n", self.name, "link", "set", "sink0", "up")
            ip("-n", self.name, "link", "set", "sink1", "up")
            ip("-n", self.name, "route", "add", "default", "dev", "sink0")
            ip("-n", self.name, "link", "add", self.dns_device, "type", "bridge")
            ip("-n", self.name, "link", "set", self.dns_device, "up")
        except subprocess.CalledProcessError:
            self.delete()
            raise
        return self

    def add_address(self, cidr: str) -> None:
        ip("-n", self.name, "addr", "add", cidr, "dev", self.dns_device)

    def exec(self, *args: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *args], capture_output=True, text=True, timeout=timeout, check=False
        )

    def delete(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], check=False, capture_output=True)


class NetnsLoop:
    """An event loop running on a thread that entered `netns`; `run(coro)` waits for its result."""

    def __init__(self, netns: str) -> None:
        self._netns = netns
        self.loop = asyncio.new_event_loop()
        self._entered = threading.Event()
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._main, name=f"loop in {netns}", daemon=True)

    def start(self) -> NetnsLoop:
        self._thread.start()
        self._entered.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def _main(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/run/netns/{self._netns}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                self._error = OSError(ctypes.get_errno(), "setns failed")
        finally:
            os.close(fd)
        self._entered.set()
        if self._error is None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
        """Start `coro` as a task on the loop; the returned future is cancelled by `stop`."""
        return self.run(_create_task(coro))

    def stop(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


async def _create_task(coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_task(coro)
