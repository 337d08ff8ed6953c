"""Which runtime container is which: (namespace, pod, container) -> the current and previous container.

The logs/exec server asks here (`kubectl logs`, `logs --previous`, `exec`); pod workers
keep it current as they start and restart containers.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.runtime.interface import ContainerId


@dataclass(frozen=True)
class ContainerEntry:
    pod_uid: str
    current: ContainerId | None
    previous: ContainerId | None


class ContainerDirectory:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str], ContainerEntry] = {}

    def set(
        self,
        namespace: str,
        pod: str,
        container: str,
        *,
        uid: str,
        current: ContainerId | None,
        previous: ContainerId | None,
    ) -> None:
        self._entries[(namespace, pod, container)] = ContainerEntry(uid, current, previous)

    def forget_pod(self, uid: str) -> None:
        for key in [k for k, e in self._entries.items() if e.pod_uid == uid]:
            del self._entries[key]

    def lookup(self, namespace: str, pod: str, container: str, *, previous: bool = False) -> ContainerId | None:
        """The container's runtime id (its previous incarnation's with `previous`), None if unknown."""
        entry = self._entries.get((namespace, pod, container))
        if entry is None:
            return None
        return entry.previous if previous else entry.current

    async def container_id(self, namespace: str, pod: str, container: str, previous: bool) -> str | None:
        """The streaming server's `ContainerLookup`."""
        return self.lookup(namespace, pod, container, previous=previous)

    def containers(self, namespace: str, pod: str) -> list[str]:
        """Names of the pod's containers the agent knows, for "which container?" answers."""
        return sorted(c for (ns, p, c) in self._entries if ns == namespace and p == pod)
