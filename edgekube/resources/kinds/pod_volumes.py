"""A pod's `volumes` and the containers' `volumeMounts` that refer to them.

Each volume has a DNS-1123 label name, unique in the pod, and exactly one source
(`emptyDir`, `configMap`, ...). A mount must name a declared volume, at a path no other
mount of the same container uses; a `subPath` stays inside the volume.
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.pod_quantities import parse_quantity
from edgekube.resources.kinds.workload_causes import dicts, not_found, required_because
from edgekube.resources.validation import (
    duplicate,
    forbidden,
    invalid_value,
    is_dns1123_label,
    required,
    unsupported_value,
)

# Every volume source the v1 API knows; a volume names exactly one of them.
VOLUME_SOURCES = (
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
)
# The field that names what a source refers to, for the sources EdgeKube can mount.
_SOURCE_REQUIRED = {
    "configMap": "name",
    "secret": "secretName",
    "hostPath": "path",
    "persistentVolumeClaim": "claimName",
    "nfs": "path",
    "csi": "driver",
    "image": "reference",
}
HOST_PATH_TYPES = (
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
)
EMPTY_DIR_MEDIA = ("", "HugePages", "Memory")
DEFAULT_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"


def volume_sources(volume: dict[str, Any]) -> list[str]:
    """The source keys `volume` sets, in the API's order."""
    return [key for key in VOLUME_SOURCES if volume.get(key) is not None]


def validate_volumes(volumes: Any, path: str) -> tuple[list[Cause], set[str]]:
    """Problems with the pod's `volumes`, and the names declared (for mounts to refer to)."""
    causes: list[Cause] = []
    names: set[str] = set()
    for i, volume in dicts(volumes):
        at = f"{path}[{i}]"
        causes += _source(volume, at)
        name = volume.get("name")
        if not name:
            causes.append(required(f"{at}.name"))
            continue
        if not isinstance(name, str):
            causes.append(invalid_value(f"{at}.name", name, "must be a string"))
            continue
        causes += [invalid_value(f"{at}.name", name, msg) for msg in is_dns1123_label(name)]
        if name in names:
            causes.append(duplicate(f"{at}.name", name))
        names.add(name)
    return causes, names


def _source(volume: dict[str, Any], at: str) -> list[Cause]:
    sources = volume_sources(volume)
    if not sources:
        return [required_because(at, "must specify a volume type")]
    causes = [forbidden(f"{at}.{extra}", "may not specify more than 1 volume type") for extra in sources[1:]]
    kind = sources[0]
    body = volume[kind]
    if not isinstance(body, dict):
        return causes
    key = _SOURCE_REQUIRED.get(kind)
    if key and not body.get(key):
        causes.append(required(f"{at}.{kind}.{key}"))
    mode = body.get("defaultMode")
    if mode is not None and (not isinstance(mode, int) or not 0 <= mode <= 0o777):
        causes.append(invalid_value(f"{at}.{kind}.defaultMode", mode, DEFAULT_MODE_ERROR))
    if kind == "hostPath" and body.get("type", "") not in HOST_PATH_TYPES:
        causes.append(unsupported_value(f"{at}.hostPath.type", body["type"], HOST_PATH_TYPES[1:]))
    if kind == "emptyDir":
        causes += _empty_dir(body, f"{at}.emptyDir")
    return causes


def _empty_dir(body: dict[str, Any], at: str) -> list[Cause]:
    causes: list[Cause] = []
    if body.get("medium", "") not in EMPTY_DIR_MEDIA:
        causes.append(unsupported_value(f"{at}.medium", body["medium"], EMPTY_DIR_MEDIA[1:]))
    limit = body.get("sizeLimit")
    if limit is not None:
        try:
            if parse_quantity(limit) < 0:
                causes.append(invalid_value(f"{at}.sizeLimit", limit, "must be greater than or equal to 0"))
        except ValueError as err:
            causes.append(invalid_value(f"{at}.sizeLimit", limit, str(err)))
    return causes


def validate_volume_mounts(mounts: Any, volumes: set[str], path: str) -> list[Cause]:
    """Problems with one container's `volumeMounts` against the pod's declared `volumes`."""
    causes: list[Cause] = []
    mount_paths: set[str] = set()
    for i, mount in dicts(mounts):
        at = f"{path}[{i}]"
        name = mount.get("name")
        if not name:
            causes.append(required(f"{at}.name"))
        if not isinstance(name, str) or name not in volumes:
            causes.append(not_found(f"{at}.name", name if name is not None else ""))
        mount_path = mount.get("mountPath")
        if not mount_path:
            causes.append(required(f"{at}.mountPath"))
        elif isinstance(mount_path, str):
            if mount_path in mount_paths:
                causes.append(invalid_value(f"{at}.mountPath", mount_path, "must be unique"))
            mount_paths.add(mount_path)
        sub_path = mount.get("subPath")
        if isinstance(sub_path, str) and sub_path:
            causes += _relative_path(sub_path, f"{at}.subPath")
    return causes


def _relative_path(value: str, field: str) -> list[Cause]:
    """A path inside the volume: relative, and never climbing out with '..'."""
    causes: list[Cause] = []
    if value.startswith("/"):
        causes.append(invalid_value(field, value, "must be a relative path"))
    if ".." in value.replace("\\", "/").split("/"):
        causes.append(invalid_value(field, value, "must not contain '..'"))
    return causes
