"""Opening a TCP connection from inside a pod's network namespace.

Pods may run with no network the agent can route to (`network none`: only `lo`), so
probes connect from inside the pod's namespace. A socket belongs to the namespace it
was created in, whichever thread uses it later; so a short-lived thread enters the
namespace with setns(2), creates and connects the socket, returns to the agent's
namespace, and hands the connected socket back to the event loop. setns changes only
the calling thread, and the thread is never reused, so nothing else of the agent ever
runs in a pod's namespace.

`os.setns` exists from Python 3.12; on 3.11 libc's setns is called through ctypes.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import socket
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def setns(fd: int, nstype: int = CLONE_NEWNET) -> None:
    setns_call = getattr(os, "setns", None)
    if setns_call is not None:
        setns_call(fd, nstype)
        return
    if _libc.setns(fd, nstype) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"setns: {os.strerror(errno)}")


def _in_netns(netns_path: str | None, work: Callable[[], T]) -> T:
    """Run `work` in this (fresh) thread after entering `netns_path`; come back afterwards."""
    if netns_path is None:
        return work()
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            setns(target)
        finally:
            os.close(target)
        try:
            return work()
        finally:
            setns(own)
    finally:
        os.close(own)


async def run_in_netns(netns_path: str | None, work: Callable[[], T]) -> T:
    """Run blocking `work` in a new thread inside the network namespace at `netns_path`
    (None: the agent's own). A socket it returns after the caller gave up is closed."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(result: T | None, error: BaseException | None) -> None:
        if future.cancelled():
            _discard(result)
        elif error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def thread_main() -> None:
        result: T | None = None
        error: BaseException | None = None
        try:
            result = _in_netns(netns_path, work)
        except BaseException as err:  # handed to the awaiting coroutine
            error = err
        try:
            loop.call_soon_threadsafe(deliver, result, error)
        except RuntimeError:  # the loop is closed: nobody will take it
            _discard(result)

    threading.Thread(target=thread_main, name="probe-netns", daemon=True).start()
    return await future


def _discard(result: object) -> None:
    if isinstance(result, socket.socket):
        result.close()


def _connect(host: str, port: int, timeout_seconds: float) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout_seconds)
    sock.setblocking(False)
    return sock


async def open_socket(netns_path: str | None, host: str, port: int, timeout_seconds: float) -> socket.socket:
    """A non-blocking socket connected to `host:port`, from inside `netns_path` if given."""
    return await run_in_netns(netns_path, lambda: _connect(host, port, timeout_seconds))
