"""Run a blocking function inside another network namespace, in a thread of its own, without fork.

pyroute2's `IPRoute(netns=...)` forks a helper process per socket and SIGTERMs it when done.
In the agent that fork is harmful: the child inherits the event loop's signal wakeup fd,
so a SIGTERM that reaches the child before it exits is read by the agent's loop as its
own SIGTERM, and the agent stops. Here instead a fresh thread calls setns(2) (which moves
only that thread) and runs the function there; netlink sockets opened in it belong to the
target namespace. The thread ends with the call, so no thread of the agent ever stays in
a pod's namespace.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _enter(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns into {path}: {os.strerror(errno)}")
    finally:
        os.close(fd)


def run_in_netns(path: str, func: Callable[[], T]) -> T:
    """`func()` run in the network namespace at `path` (e.g. /proc/PID/ns/net). Blocking."""
    result: list[T] = []
    failure: list[BaseException] = []

    def body() -> None:
        try:
            _enter(path)
            result.append(func())
        except BaseException as err:  # handed to the caller's thread as is
            failure.append(err)

    thread = threading.Thread(target=body, name="netns", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]
