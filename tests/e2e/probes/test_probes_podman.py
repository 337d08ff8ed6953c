"""Probes against a real container in a pod without a network: httpGet, tcpSocket and exec."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from agent.probes import ProbeTarget, handler_for
from tests.e2e.probes.helpers import Running, sh

pytestmark = pytest.mark.timeout(60)

Start = Callable[[str, dict[str, object], ProbeTarget], Running]
FAST = {"periodSeconds": 0.2, "timeoutSeconds": 1, "failureThreshold": 2}
"""Sub-second periods keep the tests short (the API allows whole seconds only)."""


async def test_http_get_probe(web: ProbeTarget, start: Start) -> None:
    """httpGet inside the pod's namespace: ready while httpd serves, not ready once it is killed."""
    readiness = start("readiness", {"httpGet": {"path": "/index.html", "port": "http"}, **FAST}, web)
    assert await readiness.next_change() is True
    missing = await handler_for({"httpGet": {"path": "/missing", "port": 8080}}).check(web, 2)
    assert (missing.success, missing.message) == (False, "HTTP probe failed with statuscode: 404")

    await sh(web, "kill $(cat /tmp/httpd.pid)")
    assert await readiness.next_change() is False
    assert readiness.worker.last_result is not None and "refused" in readiness.worker.last_result.message
    assert not readiness.task.done()  # readiness keeps probing


async def test_tcp_socket_liveness_probe(web: ProbeTarget, start: Start) -> None:
    """tcpSocket liveness: alive while something listens, False (restart) once not, then the worker stops."""
    tcp = handler_for({"tcpSocket": {"port": 8080}})
    async with asyncio.timeout(10):
        while True:  # until httpd listens
            if (await tcp.check(web, 1)).success:
                break
            await asyncio.sleep(0.05)
    liveness = start("liveness", {"tcpSocket": {"port": 8080}, **FAST}, web)
    await asyncio.sleep(0.7)
    assert liveness.changes.empty() and liveness.worker.state is True

    await sh(web, "kill $(cat /tmp/httpd.pid)")
    assert await liveness.next_change() is False
    async with asyncio.timeout(5):
        await liveness.task  # on hold until the agent replaces the container


async def test_exec_probe(web: ProbeTarget, start: Start) -> None:
    """An exec probe `test -f /tmp/healthy` flips with the file."""
    readiness = start("readiness", {"exec": {"command": ["test", "-f", "/tmp/healthy"]}, **FAST}, web)
    await asyncio.sleep(0.6)
    assert readiness.changes.empty() and readiness.worker.attempts >= 1
    assert readiness.worker.state is False
    await sh(web, "touch /tmp/healthy")
    assert await readiness.next_change() is True
    await sh(web, "rm /tmp/healthy")
    assert await readiness.next_change() is False


async def test_startup_probe_stops_after_success(web: ProbeTarget, start: Start) -> None:
    """A startup probe reports True once and its worker ends."""
    startup = start("startup", {"httpGet": {"port": 8080}, **FAST}, web)
    assert await startup.next_change() is True
    async with asyncio.timeout(5):
        await startup.task
