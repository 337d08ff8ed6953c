"""What a new cluster starts with, written through the normal write path at every start.

- the four namespaces and a `default` ServiceAccount in each (`ensure_defaults`): only
  what is missing is created;
- the `kubernetes` and `kube-dns` Services, and the `kubernetes` Endpoints and
  EndpointSlice (`ensure_cluster_services`): created when missing, and the parts that
  follow the settings (ports, endpoint address, labels) put back when they differ, so
  a changed HTTPS port or advertised address is right after the next start.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import structlog

from edgekube.errors import AlreadyExists, ApiError
from edgekube.resources.kinds.common_fields import same
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.registry import Registry
from edgekube.resources.strategy import Strategy
from edgekube.service.cluster_services import (
    API_LABELS,
    API_NAMESPACE,
    API_SERVICE,
    DNS_LABELS,
    SERVICE_NAME_LABEL,
    api_endpoint_slice,
    api_endpoints,
    api_service,
    dns_service,
    first_service_ip,
)
from edgekube.service.options import WriteOptions
from edgekube.service.resources import ResourceService
from edgekube.store.types import Key, StoredObject

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


# -- the Services every cluster has ----------------------------------------------------------


@dataclass(frozen=True)
class Wanted:
    """One object to keep as written here: created when missing, `owned` paths put back when changed."""

    group: str
    kind: str
    body: Obj
    owned: tuple[tuple[str, ...], ...]

    @property
    def namespace(self) -> str:
        return str(self.body["metadata"]["namespace"])

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])


async def ensure_cluster_services(
    service: ResourceService,
    registry: Registry,
    *,
    service_cidr: str,
    cluster_dns: str,
    https_port: int,
    api_address: str | None,
) -> None:
    """`default/kubernetes` (with its Endpoints and EndpointSlice) and `kube-system/kube-dns`.

    Runs at every start, after the Service allocator has synced (the cluster IPs are asked
    for by name and it must know they are free). A new HTTPS port or advertised address
    rewrites the endpoints; a Service whose cluster IP no longer matches the settings is
    left alone with an error in the log, since a cluster IP never changes in place.
    """
    labels = tuple(("metadata", "labels", key) for key in API_LABELS)
    wanted = [
        Wanted("", "Service", api_service(service_cidr, https_port), (*labels, ("spec", "ports"))),
        Wanted(
            "",
            "Service",
            dns_service(cluster_dns),
            (*(("metadata", "labels", key) for key in DNS_LABELS), ("spec", "ports")),
        ),
    ]
    if api_address is None:
        log.warning(
            "no address other than loopback to advertise: the kubernetes service gets no endpoints; "
            "set --advertise-address"
        )
    else:
        wanted += [
            Wanted("", "Endpoints", api_endpoints(api_address, https_port), (("subsets",),)),
            Wanted(
                "discovery.k8s.io",
                "EndpointSlice",
                api_endpoint_slice(api_address, https_port),
                (("metadata", "labels", SERVICE_NAME_LABEL), ("endpoints",), ("ports",)),
            ),
        ]
    for item in wanted:
        strategy = registry.by_kind(item.group, "v1", item.kind)
        assert strategy is not None
        try:
            await _ensure(service, strategy, item)
        except ApiError as err:
            # A cluster DNS address outside the service CIDR, or taken by a user's Service:
            # the server still starts; the log says what to fix.
            log.error("cannot write a cluster service object", kind=item.kind, name=item.name, error=str(err))
    _check_cluster_ip(await service.store.get(Key("core/services", API_NAMESPACE, API_SERVICE)), service_cidr)


async def _ensure(service: ResourceService, strategy: Strategy, item: Wanted) -> None:
    key = Key(strategy.kind.store_key, item.namespace, item.name)
    stored = await service.store.get(key)
    bound = log.bind(kind=item.kind, namespace=item.namespace, name=item.name)
    if stored is None:
        try:
            await service.create(strategy, item.namespace, copy.deepcopy(item.body), WriteOptions())
            bound.info("created cluster service object")
        except AlreadyExists:
            pass
        return
    current = stored.decode()
    if all(same(get_path(current, *path), get_path(item.body, *path)) for path in item.owned):
        return

    async def put_back(obj: Obj) -> Obj:
        for path in item.owned:
            _set_path(obj, path, copy.deepcopy(get_path(item.body, *path)))
        return obj

    await service.guaranteed_update(strategy, item.namespace, item.name, put_back, WriteOptions())
    bound.info("updated cluster service object")


def _set_path(obj: Obj, path: tuple[str, ...], value: Any) -> None:
    holder = obj
    for part in path[:-1]:
        if not isinstance(holder.get(part), dict):
            holder[part] = {}
        holder = holder[part]
    holder[path[-1]] = value


def _check_cluster_ip(stored: StoredObject | None, service_cidr: str) -> None:
    if stored is None:
        return
    have = get_path(stored.decode(), "spec", "clusterIP")
    want = first_service_ip(service_cidr)
    if have != want:
        log.error(
            "the kubernetes service has another cluster IP than the service CIDR asks for; "
            "delete it to have it re-created at the next start",
            cluster_ip=have,
            expected=want,
        )
