"""`PodContext`: what every pod worker shares (runtime, client, settings, the seams), and `ApiReferences`.

`ApiReferences` reads the ConfigMaps and Secrets that environment variables refer to.
It keeps the last copy of each in memory, so a container restarted while the server is
unreachable gets the same values it had (ARCHITECTURE principle 5); a value never seen
cannot be made up and raises EnvError until the server answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.cache import LocalCache
from agent.plugins import PodNetwork, Probing, Volumes
from agent.pods.directory import ContainerDirectory
from agent.pods.envs import EnvError, References
from agent.runtime.interface import Runtime
from agent.settings import PodSettings
from edgekube.client import CONFIGMAPS, SECRETS, ApiClient, ApiError, NotFound, Resource, ServerUnreachable

Obj = dict[str, Any]


class ApiReferences:
    def __init__(self, client: ApiClient) -> None:
        self._client = client
        self._seen: dict[tuple[str, str, str], Obj | None] = {}

    async def _get(self, resource: Resource, namespace: str, name: str) -> Obj | None:
        key = (resource.plural, namespace, name)
        try:
            found: Obj | None = await self._client.get(resource, name, namespace)
        except NotFound:
            found = None
        except ServerUnreachable as err:
            if key in self._seen:
                return self._seen[key]
            raise EnvError(f"cannot read {resource.kind} {namespace}/{name}: the server is unreachable") from err
        except ApiError as err:
            raise EnvError(f"cannot read {resource.kind} {namespace}/{name}: {err.message}") from err
        self._seen[key] = found
        return found

    async def configmap(self, namespace: str, name: str) -> Obj | None:
        return await self._get(CONFIGMAPS, namespace, name)

    async def secret(self, namespace: str, name: str) -> Obj | None:
        return await self._get(SECRETS, namespace, name)

    def forget_namespace(self, namespace: str) -> None:
        for key in [k for k in self._seen if k[1] == namespace]:
            del self._seen[key]


class StatusSink(Protocol):
    """Where workers put statuses (`posting.StatusPoster`; a recorder in unit tests)."""

    def post(self, namespace: str, name: str, uid: str, status: Obj) -> None: ...

    def latest(self, namespace: str, name: str, uid: str) -> Obj | None: ...

    async def send_now(self, namespace: str, name: str, uid: str, status: Obj) -> None: ...

    def forget(self, uid: str) -> None: ...


class PodApi(Protocol):
    """The one API verb workers call themselves: the final delete of a stopped pod."""

    async def delete(
        self,
        resource: Resource,
        name: str,
        namespace: str | None = None,
        *,
        grace_period_seconds: int | None = None,
        uid: str | None = None,
    ) -> Obj: ...


@dataclass
class PodContext:
    runtime: Runtime
    client: PodApi
    node_name: str
    node_ip: str
    settings: PodSettings
    poster: StatusSink
    cache: LocalCache
    volumes: Volumes
    references: References
    directory: ContainerDirectory = field(default_factory=ContainerDirectory)
    probing: Probing | None = None
    network: PodNetwork | None = None
    """Pod networking (None: --flannel-backend none, pods get loopback only)."""
    extra_labels: dict[str, str] = field(default_factory=dict)
    allocatable: dict[str, str] = field(default_factory=dict)
    """The node's allocatable resources (resourceFieldRef of an unlimited container)."""
