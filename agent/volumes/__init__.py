"""Pod volumes on the node: emptyDir, hostPath, configMap, secret, downwardAPI, projected,
and PersistentVolumeClaims through the built-in `local-path` provisioner.

The agent uses `VolumeManager` (see `managing` for the layout on disk and the call
order) and gets `HostVolume`s back, which `mounts_for` turns into runtime `Mount`s.
Modules: `payloads` (which files, pure), `writing` (atomic ..data swaps), `mounting`
(tmpfs), `hostpaths`, `projecting` (reads ConfigMaps and Secrets), `provisioning`
(local-path), `mounts` (volumeMounts -> Mounts), `records` (what was prepared).
"""

from agent.volumes.errors import UnsupportedVolumeError, VolumeError
from agent.volumes.managing import VolumeManager, VolumeSettings
from agent.volumes.mounts import mounts_for
from agent.volumes.provisioning import LOCAL_PATH_CLASS, PROVISIONER
from agent.volumes.records import HostVolume

__all__ = [
    "LOCAL_PATH_CLASS",
    "PROVISIONER",
    "HostVolume",
    "UnsupportedVolumeError",
    "VolumeError",
    "VolumeManager",
    "VolumeSettings",
    "mounts_for",
]
