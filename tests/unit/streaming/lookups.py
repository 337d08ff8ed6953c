"""A container lookup over the runtime's adoption labels, for tests of the streaming server.

The agent core keeps its own table; this one asks the runtime each time. The current
incarnation of a container is the one with the highest restart count, the previous one
the next lower, as the agent's restarts label them.
"""

from __future__ import annotations

from agent.runtime.interface import LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, Runtime


class LabelLookup:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def container_id(self, namespace: str, pod: str, container: str, previous: bool) -> str | None:
        labels = {LABEL_POD_NAMESPACE: namespace, LABEL_POD_NAME: pod, LABEL_CONTAINER_NAME: container}
        found = sorted(await self.runtime.list_containers(labels), key=lambda c: c.restart_count, reverse=True)
        index = 1 if previous else 0
        return found[index].id if len(found) > index else None
