"""The kinds this server serves, looked up by URL parts, by kind name or by storage key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from edgekube.resources.kinds import (
    configmaps,
    daemonsets,
    deployments,
    endpoints,
    endpointslices,
    events,
    leases,
    namespaces,
    networkpolicies,
    nodes,
    persistentvolumeclaims,
    persistentvolumes,
    pods,
    replicasets,
    resourcequotas,
    secrets,
    serviceaccounts,
    services,
    storageclasses,
)
from edgekube.resources.strategy import Kind, Strategy

_MODULES = (
    namespaces,
    pods,
    services,
    endpoints,
    configmaps,
    secrets,
    nodes,
    events,
    serviceaccounts,
    persistentvolumes,
    persistentvolumeclaims,
    resourcequotas,
    deployments,
    replicasets,
    daemonsets,
    leases,
    storageclasses,
    endpointslices,
    networkpolicies,
)


@dataclass(frozen=True)
class GroupVersion:
    group: str
    version: str

    @property
    def path(self) -> str:
        """`api/v1` or `apis/apps/v1`: the URL prefix of this group-version."""
        return f"apis/{self.group}/{self.version}" if self.group else f"api/{self.version}"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


class Registry:
    """All served kinds. Read-only after construction."""

    def __init__(self, strategies: list[Strategy]) -> None:
        self._by_url = {(s.kind.group, s.kind.version, s.kind.plural): s for s in strategies}
        self._by_kind = {(s.kind.group, s.kind.version, s.kind.kind): s for s in strategies}
        self._by_store_key = {s.kind.store_key: s for s in strategies}

    def __iter__(self) -> Iterator[Strategy]:
        return iter(self._by_url.values())

    def by_url(self, group: str, version: str, plural: str) -> Strategy | None:
        return self._by_url.get((group, version, plural))

    def by_kind(self, group: str, version: str, kind: str) -> Strategy | None:
        return self._by_kind.get((group, version, kind))

    def by_api_version(self, api_version: str, kind: str) -> Strategy | None:
        group, _, version = api_version.rpartition("/")
        return self.by_kind(group, version, kind)

    def by_store_key(self, key: str) -> Strategy | None:
        return self._by_store_key.get(key)

    def group_versions(self) -> list[GroupVersion]:
        """Served group-versions, the core group first, then by group name."""
        seen = sorted({(k.group, k.version) for k in self.kinds()}, key=lambda gv: (gv[0] != "", gv))
        return [GroupVersion(g, v) for g, v in seen]

    def kinds(self) -> list[Kind]:
        return [s.kind for s in self]

    def in_group_version(self, group: str, version: str) -> list[Strategy]:
        return [s for s in self if s.kind.group == group and s.kind.version == version]


def default_registry() -> Registry:
    return Registry([m.STRATEGY for m in _MODULES])
