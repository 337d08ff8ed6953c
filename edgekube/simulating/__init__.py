"""Simulated nodes: a fleet of fake kubelets in one asyncio process.

For trying a fleet of hundreds of devices on one machine, for benchmarks, and as the
fake agent of controller tests. Each node registers, renews its Lease, and moves the pods
bound to it through the statuses a kubelet would write, without running anything.

    async with Fleet(client, Settings(nodes=NodeSettings(count=3))) as fleet:
        fleet.stop_heartbeat("sim-0001")
"""

from edgekube.simulating.fleet import Fleet, simulate
from edgekube.simulating.nodes import SIMULATED_LABEL, SimNode
from edgekube.simulating.pods import EXIT_AFTER, FAIL
from edgekube.simulating.settings import HeartbeatSettings, LimitSettings, NodeSettings, PodSettings, Settings
from edgekube.simulating.stats import Stats

__all__ = [
    "EXIT_AFTER",
    "FAIL",
    "SIMULATED_LABEL",
    "Fleet",
    "HeartbeatSettings",
    "LimitSettings",
    "NodeSettings",
    "PodSettings",
    "Settings",
    "SimNode",
    "Stats",
    "simulate",
]
