"""The three node controllers wired together and run for real, with timers shortened."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from edgekube.config import ControllerSettings
from edgekube.controllers.managing import run_controllers
from edgekube.controllers.nodes import NodeLifecycleController, PodGCController, TaintEvictionController
from edgekube.service.resources import ResourceService
from tests.unit.controllers.nodes.harness import Bench


async def eventually(check: object, within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():  # type: ignore[operator]
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_dead_node_is_tainted_and_its_pods_evicted_then_released(service: ResourceService) -> None:
    """Lease stops: taints; evictions at once and after ~1 s; then, unreachable past their grace, force-deleted."""
    bench = Bench(service)
    bench.clock.now = datetime.now(UTC)
    for name in ("alive", "dead"):
        await bench.node(name)
        await bench.lease(name)
    await bench.pod("doomed", "dead", tolerations=[], grace=1)
    await bench.pod(
        "patient",
        "dead",
        grace=1,
        tolerations=[
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 1,
            }
        ],
    )
    await bench.pod("loyal", "dead", tolerations=[{"operator": "Exists"}])
    settings = ControllerSettings(node_monitor_period=0.05, node_monitor_grace_period=0.5)

    async def heartbeat() -> None:
        while True:
            bench.clock.now = datetime.now(UTC)
            await bench.lease("alive")
            await asyncio.sleep(0.1)

    beating = asyncio.create_task(heartbeat())
    running = asyncio.create_task(
        run_controllers(
            service=service,
            settings=settings,
            classes=[NodeLifecycleController, TaintEvictionController, PodGCController],
        )
    )
    try:

        async def tainted() -> bool:
            node = await bench.get("", "Node", None, "dead")
            return any(t["effect"] == "NoExecute" for t in (node or {}).get("spec", {}).get("taints") or [])

        async def gone(name: str) -> bool:
            return await bench.get("", "Pod", "default", name) is None

        await eventually(tainted)
        await eventually(lambda: gone("doomed"))
        await eventually(lambda: gone("patient"), within=5)
        alive = await bench.get("", "Node", None, "alive")
        assert alive is not None and "taints" not in alive["spec"]
        await asyncio.sleep(0.3)
        loyal = await bench.get("", "Pod", "default", "loyal")
        assert loyal is not None and not loyal["metadata"].get("deletionTimestamp")
    finally:
        for task in (running, beating):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
