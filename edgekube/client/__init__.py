"""The shared async API client: what agents, the simulator and tools use to talk to a server.

It depends only on `edgekube.errors` (the error classes it raises), never on server
internals, so it can ship alone on a device.

    config = Config.from_kubeconfig("/etc/edgekube/edgekube.yaml")
    async with ApiClient(config) as api:
        node = await api.get(NODES, "pi-1")
        async for kind, pod in api.watch(PODS, field_selector="spec.nodeName=pi-1"):
            ...
"""

from edgekube.client.api import ApiClient, ObjectList, PatchType
from edgekube.client.errors import RequestTimedOut, ServerUnreachable, UnexpectedStatus
from edgekube.client.kubeconfigs import DEFAULT_KUBECONFIG, Config, ConfigError
from edgekube.client.reflecting import ListWatcher, key_of
from edgekube.client.resources import (
    CONFIGMAPS,
    CRONJOBS,
    DAEMONSETS,
    DEPLOYMENTS,
    ENDPOINT_SLICES,
    ENDPOINTS,
    EVENTS,
    JOBS,
    LEASES,
    NAMESPACES,
    NETWORK_POLICIES,
    NODE_LEASE_NAMESPACE,
    NODES,
    PERSISTENT_VOLUME_CLAIMS,
    PERSISTENT_VOLUMES,
    PODS,
    REPLICASETS,
    SECRETS,
    SERVICE_ACCOUNTS,
    SERVICES,
    Resource,
)
from edgekube.client.watching import Watch, WatchEvent
from edgekube.errors import AlreadyExists, ApiError, Conflict, Gone, Invalid, NotFound

__all__ = [
    "CONFIGMAPS",
    "CRONJOBS",
    "DAEMONSETS",
    "DEFAULT_KUBECONFIG",
    "DEPLOYMENTS",
    "ENDPOINTS",
    "ENDPOINT_SLICES",
    "EVENTS",
    "JOBS",
    "LEASES",
    "NAMESPACES",
    "NETWORK_POLICIES",
    "NODES",
    "NODE_LEASE_NAMESPACE",
    "PERSISTENT_VOLUMES",
    "PERSISTENT_VOLUME_CLAIMS",
    "PODS",
    "REPLICASETS",
    "SECRETS",
    "SERVICES",
    "SERVICE_ACCOUNTS",
    "AlreadyExists",
    "ApiClient",
    "ApiError",
    "Config",
    "ConfigError",
    "Conflict",
    "Gone",
    "Invalid",
    "ListWatcher",
    "NotFound",
    "ObjectList",
    "PatchType",
    "RequestTimedOut",
    "Resource",
    "ServerUnreachable",
    "UnexpectedStatus",
    "Watch",
    "WatchEvent",
    "key_of",
]
