"""`NodeState`: what the agent knows of its own Node between writes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from edgekube.nodeinfo import KUBELET_PORT, NodeFacts

Obj = dict[str, Any]


@dataclass
class NodeState:
    name: str
    ip: str
    labels: dict[str, str]
    uid: str = ""
    kubelet_port: int = KUBELET_PORT
    """Where the node serves logs and exec (`status.daemonEndpoints`)."""
    annotations: dict[str, str] = field(default_factory=dict)
    """Annotations the agent owns on its Node (the streaming certificate's fingerprint)."""
    facts: NodeFacts | None = None
    lease: Obj | None = None
    """The Lease as last written, sent back with a new renewTime."""
    conditions: list[Obj] = field(default_factory=list)
    """The conditions as last written, so transition times stay put."""
    written: Obj | None = None
    """The status last written, heartbeat times left out: what "changed" compares with."""
    written_at: float = 0.0
    registered: asyncio.Event = field(default_factory=asyncio.Event)

    def report_again(self) -> None:
        """Write the status at the next check even if nothing changed: after an outage the server
        has marked our conditions Unknown, which our last write does not show."""
        self.written = None

    def remember(self, node: Obj) -> None:
        self.uid = str(node["metadata"].get("uid", ""))
        status = node.get("status") or {}
        self.conditions = list(status.get("conditions") or self.conditions)
        self.written = without_heartbeats(status)
        self.written_at = asyncio.get_running_loop().time()


def without_heartbeats(status: Obj) -> Obj:
    conditions = [{k: v for k, v in c.items() if k != "lastHeartbeatTime"} for c in status.get("conditions") or []]
    return {**status, "conditions": conditions}
