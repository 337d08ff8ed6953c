"""What a new cluster starts with: the four namespaces and a `default` ServiceAccount in each.

Runs at every start and creates only what is missing, through the normal write path.
"""

from __future__ import annotations

import structlog

from edgekube.errors import AlreadyExists
from edgekube.resources.registry import Registry
from edgekube.service.options import WriteOptions
from edgekube.service.resources import ResourceService
from edgekube.store.types import Key

log = structlog.get_logger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


async def ensure_defaults(service: ResourceService, registry: Registry) -> None:
    namespaces = registry.by_kind("", "v1", "Namespace")
    accounts = registry.by_kind("", "v1", "ServiceAccount")
    assert namespaces is not None and accounts is not None
    for name in SYSTEM_NAMESPACES:
        if await service.store.get(Key(namespaces.kind.store_key, "", name)) is None:
            try:
                await service.create(namespaces, None, {"metadata": {"name": name}}, WriteOptions())
                log.info("created namespace", namespace=name)
            except AlreadyExists:
                pass
        if await service.store.get(Key(accounts.kind.store_key, name, "default")) is None:
            try:
                await service.create(accounts, name, {"metadata": {"name": "default"}}, WriteOptions())
            except AlreadyExists:
                pass
