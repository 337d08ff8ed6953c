"""How the streaming server finds a container: the plug-in point the agent core implements."""

from __future__ import annotations

from typing import Protocol

from agent.runtime.errors import ContainerRuntimeError, NotFoundError
from agent.runtime.interface import ContainerId, ContainerStatus, Runtime
from agent.streaming import statuses


class ContainerLookup(Protocol):
    async def container_id(self, namespace: str, pod: str, container: str, previous: bool) -> str | None:
        """The runtime id of container `container` of pod `namespace/pod`, None if there is none.

        `previous`: the incarnation before the current one (`kubectl logs --previous`),
        which the agent keeps until the next restart replaces it.
        """
        ...


async def resolve(
    runtime: Runtime, lookup: ContainerLookup, namespace: str, pod: str, container: str, *, previous: bool
) -> ContainerStatus:
    """The container as the runtime sees it now, or the refusal the kubelet would give."""
    found = await lookup.container_id(namespace, pod, container, previous)
    if found is None:
        if previous:
            raise statuses.bad_request(f'previous terminated container "{container}" in pod "{pod}" not found')
        raise statuses.bad_request(f'container "{container}" in pod "{pod}" is not available (not created yet?)')
    try:
        return await runtime.inspect_container(ContainerId(found))
    except NotFoundError:
        raise statuses.not_found(f'container "{container}" in pod "{pod}" is gone from the runtime') from None
    except ContainerRuntimeError as err:
        raise statuses.internal(f'container "{container}" in pod "{pod}": {err}') from err
