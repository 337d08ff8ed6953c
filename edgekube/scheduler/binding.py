"""The scheduler's writes: bind a pod to its node, or record on the pod why it waits.

Both go through the resource service like any client's write: binding through the
pods/binding subresource (which sets `spec.nodeName` once and `PodScheduled=True`), the
waiting reason through the status subresource (`PodScheduled=False`, reason
`Unschedulable`, the FailedScheduling message). A status write that would change nothing
(the same reason and message as last time) writes nothing, so a pod retried every few
seconds does not rewrite the database each time.
"""

from __future__ import annotations

from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy
from edgekube.service import subresources
from edgekube.service.metadata import now_rfc3339
from edgekube.service.options import WriteOptions
from edgekube.service.resources import ResourceService

POD_SCHEDULED = "PodScheduled"
UNSCHEDULABLE = "Unschedulable"
SCHEDULER_ERROR = "SchedulerError"


async def bind(service: ResourceService, pods: Strategy, namespace: str, name: str, uid: str, node: str) -> Obj:
    """Bind the pod (only if it is still the one with `uid`) to `node`."""
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": name, "namespace": namespace, "uid": uid},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    }
    return await subresources.bind(service, pods, namespace, name, binding, WriteOptions())


async def mark_unscheduled(
    service: ResourceService, pods: Strategy, namespace: str, name: str, uid: str, reason: str, message: str
) -> None:
    """Set `PodScheduled=False` with `reason` and `message` on a pod that is still unassigned."""

    async def mutate(current: Obj) -> Obj:
        meta = current.get("metadata") or {}
        spec = current.get("spec") or {}
        if spec.get("nodeName") or meta.get("uid") != uid or meta.get("deletionTimestamp"):
            return current  # bound, replaced or going away meanwhile: nothing to say
        status = current.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
        old = next((c for c in conditions if c.get("type") == POD_SCHEDULED), None)
        if old is not None and old.get("status") == "False":
            if old.get("reason") == reason and old.get("message") == message:
                return current
            since = old.get("lastTransitionTime") or now_rfc3339()
        else:
            since = now_rfc3339()
        condition = {
            "type": POD_SCHEDULED,
            "status": "False",
            "lastProbeTime": None,
            "lastTransitionTime": since,
            "reason": reason,
            "message": message,
        }
        status["conditions"] = [c for c in conditions if c.get("type") != POD_SCHEDULED] + [condition]
        return current

    await service.guaranteed_update(pods, namespace, name, mutate, WriteOptions(), subresource="status")
