"""The pod indexes the node and daemon controllers read, registered once on the shared informer."""

from __future__ import annotations

from edgekube.controllers.informing import IndexFunc, Informer, by_node_name, by_owner_uid

NODE_INDEX = "by_node_name"
OWNER_INDEX = "by_owner_uid"


def ensure_index(informer: Informer, name: str, func: IndexFunc) -> None:
    """Add an indexer unless one of that name exists (informers are shared between controllers)."""
    if name not in informer.indexers:
        informer.add_indexer(name, func)


def index_pods(informer: Informer) -> None:
    ensure_index(informer, NODE_INDEX, by_node_name)
    ensure_index(informer, OWNER_INDEX, by_owner_uid)
