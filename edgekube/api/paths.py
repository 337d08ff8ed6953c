"""Resource URLs -> (kind, namespace, name, subresource).

/api/v1/{plural}[/{name}[/{sub}]]                          cluster-scoped kinds, or all namespaces
/api/v1/namespaces/{ns}/{plural}[/{name}[/{sub}]]          namespaced kinds
/apis/{group}/{version}/...                                the same below a named group
"""

from __future__ import annotations

from dataclasses import dataclass

from edgekube.errors import NotFound
from edgekube.resources.registry import Registry
from edgekube.resources.strategy import Strategy

NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(frozen=True)
class Target:
    strategy: Strategy
    namespace: str | None  # None: all namespaces (or a cluster-scoped kind)
    name: str = ""
    subresource: str = ""


def parse(registry: Registry, path: str) -> Target:
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise NotFound(f"the server could not find the requested resource: {path}")
    if not registry.in_group_version(group, version):
        gv = f"{group}/{version}" if group else version
        raise NotFound(f"the server could not find the requested resource: group version {gv} is not served")
    namespace: str | None = None
    namespaced_path = len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in NAMESPACE_SUBRESOURCES
    if namespaced_path:
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise NotFound(f"the server could not find the requested resource: {path}")
    plural = rest[0]
    strategy = registry.by_url(group, version, plural)
    if strategy is None:
        gv = f"{group}/{version}" if group else version
        raise NotFound(f'the server does not serve the resource "{plural}" in {gv} (see `kubectl api-resources`)')
    if namespaced_path and not strategy.kind.namespaced:
        raise NotFound(f"{strategy.kind.resource} is cluster-scoped: it has no namespaced URL")
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    return Target(strategy, namespace, name, sub)
