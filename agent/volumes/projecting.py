"""The payload of a configMap, secret, downwardAPI or projected volume, read from the API.

`Projector` fetches the ConfigMaps and Secrets a volume names (one GET each) and hands
the objects to the pure `payloads` functions. `prepare` reads fresh; `refresh` may take
an object fetched by another pod's refresh within the last `cache_seconds`, so pods
sharing a ConfigMap cost one GET per period. A missing object is `None` (optional
sources then project nothing); an unreachable server raises `ServerUnreachable`, which
callers turn into "keep what is on disk".
"""

from __future__ import annotations

import os
import time
from decimal import Decimal
from typing import Any

from agent.volumes.errors import UnsupportedVolumeError
from agent.volumes.payloads import (
    DEFAULT_MODE,
    Payload,
    configmap_data,
    downward_payload,
    file_mode,
    key_payload,
    secret_data,
    unsupported_projection,
)
from edgekube.client import CONFIGMAPS, SECRETS, ApiClient, NotFound, Resource

Obj = dict[str, Any]
PROJECTED_KINDS = ("configMap", "secret", "downwardAPI", "projected")


def node_allocatable(resource: str) -> Decimal:
    """What the node has of `resource`, for downwardAPI limits a container leaves unset."""
    if resource == "cpu":
        return Decimal(os.cpu_count() or 1)
    if resource == "memory":
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return Decimal(int(line.split()[1]) * 1024)
        return Decimal(0)
    stats = os.statvfs("/")
    return Decimal(stats.f_blocks * stats.f_frsize)


class Projector:
    def __init__(self, client: ApiClient, *, cache_seconds: float = 10.0) -> None:
        self._client = client
        self._cache_seconds = cache_seconds
        self._cache: dict[tuple[str, str, str], tuple[float, Obj | None]] = {}

    async def _object(self, resource: Resource, namespace: str, name: str, *, fresh: bool) -> Obj | None:
        key = (resource.plural, namespace, name)
        now = time.monotonic()
        cached = self._cache.get(key)
        if not fresh and cached is not None and now - cached[0] < self._cache_seconds:
            return cached[1]
        try:
            obj: Obj | None = await self._client.get(resource, name, namespace)
        except NotFound:
            obj = None
        self._cache[key] = (now, obj)
        if len(self._cache) > 1024:  # forget the oldest: a cache, not a mirror of the cluster
            for stale in sorted(self._cache, key=lambda k: self._cache[k][0])[:512]:
                del self._cache[stale]
        return obj

    async def payload(self, pod: Obj, kind: str, source: Obj, *, fresh: bool = True) -> Payload:
        """The files of volume source `source` (`pod.spec.volumes[i][kind]`)."""
        namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
        default_mode = file_mode(source.get("defaultMode"), DEFAULT_MODE)
        if kind == "projected":
            payload: Payload = {}
            for item in source.get("sources") or []:
                payload.update(await self._projection(pod, namespace, item, default_mode, fresh=fresh))
            return payload
        if kind == "downwardAPI":
            return downward_payload(pod, source.get("items"), default_mode, node_allocatable)
        name_key = "name" if kind == "configMap" else "secretName"
        return await self._keys(namespace, kind, source, str(source.get(name_key, "")), default_mode, fresh=fresh)

    async def _projection(self, pod: Obj, namespace: str, item: Obj, default_mode: int, *, fresh: bool) -> Payload:
        for kind in ("configMap", "secret"):
            if isinstance(item.get(kind), dict):
                source = item[kind]
                return await self._keys(namespace, kind, source, str(source.get("name", "")), default_mode, fresh=fresh)
        if isinstance(item.get("downwardAPI"), dict):
            return downward_payload(pod, item["downwardAPI"].get("items"), default_mode, node_allocatable)
        raise unsupported_projection(item)

    async def _keys(
        self, namespace: str, kind: str, source: Obj, name: str, default_mode: int, *, fresh: bool
    ) -> Payload:
        if kind == "configMap":
            obj = await self._object(CONFIGMAPS, namespace, name, fresh=fresh)
            data = None if obj is None else configmap_data(obj)
            what = f'configmap "{name}"'
        elif kind == "secret":
            obj = await self._object(SECRETS, namespace, name, fresh=fresh)
            data = None if obj is None else secret_data(obj)
            what = f'secret "{name}"'
        else:
            raise UnsupportedVolumeError(f"{kind} is not a projected kind")
        return key_payload(what, data, source.get("items"), default_mode, optional=bool(source.get("optional")))
