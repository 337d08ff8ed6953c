"""Helpers of the probe tests: the httpd container's command, exec, a running worker."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from agent.probes import ProbeTarget, ProbeWorker
from agent.runtime.interface import exec_output

HTTPD = ("sh", "-c", "httpd -f -p 8080 -h /www & echo $! > /tmp/httpd.pid; exec sleep 300")


async def sh(target: ProbeTarget, script: str) -> None:
    result = await exec_output(target.runtime, target.container_id, ["sh", "-c", script], timeout_seconds=10)
    assert result.exit_code == 0, result.stderr


@dataclass
class Running:
    """A worker running as a task, and the states it reported."""

    worker: ProbeWorker
    task: asyncio.Task[None]
    changes: asyncio.Queue[bool] = field(default_factory=asyncio.Queue)

    async def next_change(self, within: float = 10.0) -> bool:
        async with asyncio.timeout(within):
            return await self.changes.get()
