"""The ownership graph, read from the shared informer caches of every collectable kind.

Edges are ownerReferences; dependents of an owner are found through an index of every
cache by owner uid, owners of a dependent by resolving each reference (apiVersion and
kind to a served kind; namespace from the dependent, or none for cluster-scoped owners).
Queue keys carry the kind: `apps/replicasets|default/web-5d8f`.
"""

from __future__ import annotations

from edgekube.controllers.garbage.owners import OwnerRef
from edgekube.controllers.informing import Informer, InformerFactory, by_owner_uid, object_key, split_key
from edgekube.resources.objects import Obj
from edgekube.resources.registry import Registry
from edgekube.resources.strategy import Strategy

OWNER_INDEX = "owner_uid"
# Events are the busiest kind, expire by themselves, and nothing gives them owners:
# caching them all would cost memory on small devices for nothing.
UNCOLLECTED = frozenset({"core/events"})


class Graph:
    def __init__(self, factory: InformerFactory, registry: Registry) -> None:
        self.registry = registry
        self.informers: dict[str, Informer] = {}
        for strategy in registry:
            kind = strategy.kind
            if kind.store_key in UNCOLLECTED:
                continue
            informer = factory.informer(kind.group, kind.version, kind.kind)
            informer.add_indexer(OWNER_INDEX, by_owner_uid)
            self.informers[kind.store_key] = informer

    # -- keys -----------------------------------------------------------------------------

    @staticmethod
    def key(strategy: Strategy, obj: Obj) -> str:
        return f"{strategy.kind.store_key}|{object_key(obj)}"

    def parse_key(self, key: str) -> tuple[Strategy, str, str] | None:
        store_key, _, rest = key.partition("|")
        strategy = self.registry.by_store_key(store_key)
        if strategy is None:
            return None
        namespace, name = split_key(rest)
        return strategy, namespace, name

    # -- reading --------------------------------------------------------------------------

    def cached(self, strategy: Strategy, namespace: str, name: str) -> Obj | None:
        informer = self.informers.get(strategy.kind.store_key)
        if informer is None:
            return None
        return informer.get(f"{namespace}/{name}" if namespace else name)

    def dependents(self, owner_uid: str) -> list[tuple[Strategy, Obj]]:
        """Every cached object referencing `owner_uid`, in a fixed order (kind, then key)."""
        found: list[tuple[Strategy, Obj]] = []
        for store_key in sorted(self.informers):
            informer = self.informers[store_key]
            objs = informer.by_index(OWNER_INDEX, owner_uid) if owner_uid else []
            found += [(informer.strategy, o) for o in sorted(objs, key=object_key)]
        return found

    def has_dependents(self, owner_uid: str) -> bool:
        return bool(owner_uid) and any(i.by_index(OWNER_INDEX, owner_uid) for i in self.informers.values())

    def resolve(self, ref: OwnerRef) -> Strategy | None:
        """The served kind a reference names; another version of a served group/kind will do."""
        api_version, kind = str(ref.get("apiVersion") or ""), str(ref.get("kind") or "")
        exact = self.registry.by_api_version(api_version, kind)
        if exact is not None:
            return exact
        group = api_version.rpartition("/")[0]
        return next((s for s in self.registry if s.kind.group == group and s.kind.kind == kind), None)

    def owner_of(self, dependent: Obj, ref: OwnerRef) -> tuple[Strategy, str, str] | None:
        """(kind, namespace, name) of the owner `ref` names, or None when it cannot name one.

        A namespaced owner lives in its dependent's namespace; a cluster-scoped dependent
        cannot have a namespaced owner (Kubernetes leaves such references alone, too).
        """
        strategy = self.resolve(ref)
        name = ref.get("name")
        if strategy is None or not isinstance(name, str) or not name or not ref.get("uid"):
            return None
        namespace = str((dependent.get("metadata") or {}).get("namespace") or "")
        if not strategy.kind.namespaced:
            return strategy, "", name
        if not namespace:
            return None
        return strategy, namespace, name

    def owner_keys(self, dependent: Obj, refs: list[OwnerRef]) -> list[str]:
        """Queue keys of the owners that `refs` (references of `dependent`) name."""
        keys = []
        for ref in refs:
            target = self.owner_of(dependent, ref)
            if target is not None:
                strategy, namespace, name = target
                keys.append(queue_key(strategy, namespace, name))
        return keys


def queue_key(strategy: Strategy, namespace: str, name: str) -> str:
    return f"{strategy.kind.store_key}|{namespace}/{name}" if namespace else f"{strategy.kind.store_key}|{name}"
