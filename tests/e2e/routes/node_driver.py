"""Runs the route reconciler inside one lab "node" namespace, fed Node objects instead of a server.

Started by the tests as `ip netns exec NODE-NS python tests/e2e/routes/node_driver.py` with a
JSON request on stdin (or as the one argument): {"action": "sync" | "remove" | "run", "settings": {NetworkSettings
fields}, "node": {name, ip, pod_cidr, interface, mtu}, "nodes": [Node objects] or
"nodes_file": path}. `sync` reconciles once and prints the outcome as JSON; `remove` runs
remove_routes and prints what went; `run` runs run_routes until SIGTERM with a watch that
re-reads `nodes_file` whenever it changes (the server's part played by a file).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from agent.network.local import LocalNode
from agent.network.routing import RouteReconciler, remove_routes, run_routes
from agent.settings import NetworkSettings

Obj = dict[str, Any]


class FileNodes:
    """A ListWatcher look-alike over a JSON file of Nodes: synced after the first read."""

    def __init__(self, path: Path, handler: Callable[[str, Obj], None]) -> None:
        self.path = path
        self.handler = handler
        self.cache: dict[str, Obj] = {}
        self.synced = asyncio.Event()
        self._seen = b""

    async def wait_synced(self) -> None:
        await self.synced.wait()

    async def poll(self) -> None:
        while True:
            with contextlib.suppress(FileNotFoundError):
                data = self.path.read_bytes()
                if data != self._seen:
                    self._seen = data
                    self.cache = {n["metadata"]["name"]: n for n in json.loads(data)}
                    self.synced.set()
                    self.handler("MODIFIED", {})
            await asyncio.sleep(0.05)


class FileWatches:
    """The one part of SharedWatches that run_routes uses: watch(NODES, handler)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tasks: list[asyncio.Task[None]] = []

    def watch(self, resource: object, handler: Callable[[str, Obj], None]) -> FileNodes:
        nodes = FileNodes(self.path, handler)
        self.tasks.append(asyncio.get_running_loop().create_task(nodes.poll()))
        return nodes


async def main(request: Obj) -> Obj:
    settings = NetworkSettings(**request.get("settings", {}))
    if request["action"] == "remove":
        return {"removed": await remove_routes(settings)}
    raw = request["node"]
    node = LocalNode(
        raw["name"],
        ipaddress.IPv4Address(raw["ip"]),
        ipaddress.IPv4Network(raw["pod_cidr"]),
        raw["interface"],
        raw["mtu"],
    )
    if request["action"] == "sync":
        outcome = await RouteReconciler(settings, node).sync(request["nodes"])
        return {
            "plan": outcome.plan.summary(),
            "skipped": [[s.node, s.reason] for s in outcome.skipped],
            "failures": outcome.failures,
        }
    watches = FileWatches(Path(request["nodes_file"]))
    task = asyncio.get_running_loop().create_task(run_routes(settings=settings, watches=watches, node=node))  # type: ignore[arg-type]
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    print(json.dumps({"started": True}), flush=True)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    for poller in watches.tasks:
        poller.cancel()
    return {"stopped": True}


if __name__ == "__main__":
    # Logs to stderr: stdout carries the JSON answer.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    request = json.loads(sys.argv[1]) if len(sys.argv) > 1 else json.load(sys.stdin)
    print(json.dumps(asyncio.run(main(request))), flush=True)
