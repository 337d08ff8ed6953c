"""Strategic-merge-patch metadata of the served kinds, as Kubernetes declares it.

Kubernetes keeps these in struct tags (`patchStrategy:"merge" patchMergeKey:"name"`)
that the generated Python client drops, so the builder takes them from this table
instead. Keys are (definition short name, JSON field name); a field not listed here is
replaced whole when it is a list and merged key by key when it is a map or object.

Entries with an empty merge key are lists of primitives merged as sets (finalizers).
The builder fails when an entry names a field the schema does not have, so a typo
here cannot go unnoticed.
"""

from __future__ import annotations

from typing import NamedTuple


class PatchMeta(NamedTuple):
    strategy: str  # "merge", "retainKeys" or "merge,retainKeys"
    merge_key: str = ""


_MERGE_BY_NAME = PatchMeta("merge", "name")
_MERGE_BY_TYPE = PatchMeta("merge", "type")

# Container and EphemeralContainer share these (EphemeralContainerCommon in Go).
_CONTAINER_LISTS = {
    "ports": PatchMeta("merge", "containerPort"),
    "env": _MERGE_BY_NAME,
    "volumeMounts": PatchMeta("merge", "mountPath"),
    "volumeDevices": PatchMeta("merge", "devicePath"),
}

PATCH_META: dict[tuple[str, str], PatchMeta] = {
    # meta/v1
    ("ObjectMeta", "finalizers"): PatchMeta("merge"),
    ("ObjectMeta", "ownerReferences"): PatchMeta("merge", "uid"),
    # core/v1 pods
    ("PodSpec", "containers"): _MERGE_BY_NAME,
    ("PodSpec", "initContainers"): _MERGE_BY_NAME,
    ("PodSpec", "ephemeralContainers"): _MERGE_BY_NAME,
    ("PodSpec", "volumes"): PatchMeta("merge,retainKeys", "name"),
    ("PodSpec", "imagePullSecrets"): _MERGE_BY_NAME,
    ("PodSpec", "hostAliases"): PatchMeta("merge", "ip"),
    ("PodSpec", "topologySpreadConstraints"): PatchMeta("merge", "topologyKey"),
    ("PodSpec", "resourceClaims"): PatchMeta("merge,retainKeys", "name"),
    ("PodSpec", "schedulingGates"): _MERGE_BY_NAME,
    **{("Container", f): meta for f, meta in _CONTAINER_LISTS.items()},
    **{("EphemeralContainer", f): meta for f, meta in _CONTAINER_LISTS.items()},
    ("PodStatus", "conditions"): _MERGE_BY_TYPE,
    ("PodStatus", "podIPs"): PatchMeta("merge", "ip"),
    ("PodStatus", "hostIPs"): PatchMeta("merge", "ip"),
    ("PodStatus", "resourceClaimStatuses"): PatchMeta("merge,retainKeys", "name"),
    ("ContainerStatus", "volumeMounts"): PatchMeta("merge", "mountPath"),
    ("ContainerStatus", "allocatedResourcesStatus"): _MERGE_BY_NAME,
    # core/v1 other kinds
    ("ServiceSpec", "ports"): PatchMeta("merge", "port"),
    ("ServiceStatus", "conditions"): _MERGE_BY_TYPE,
    ("NodeSpec", "podCIDRs"): PatchMeta("merge"),
    ("NodeStatus", "conditions"): _MERGE_BY_TYPE,
    ("NodeStatus", "addresses"): _MERGE_BY_TYPE,
    ("NamespaceStatus", "conditions"): _MERGE_BY_TYPE,
    ("PersistentVolumeClaimStatus", "conditions"): _MERGE_BY_TYPE,
    ("ServiceAccount", "secrets"): _MERGE_BY_NAME,
    # apps/v1
    ("DeploymentSpec", "strategy"): PatchMeta("retainKeys"),
    ("DeploymentStatus", "conditions"): _MERGE_BY_TYPE,
    ("ReplicaSetStatus", "conditions"): _MERGE_BY_TYPE,
    ("DaemonSetStatus", "conditions"): _MERGE_BY_TYPE,
}
