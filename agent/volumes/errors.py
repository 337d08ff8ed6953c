"""Why a pod's volumes could not be set up, as exceptions the pod worker can report.

Each error carries `reason`, the word the kubelet puts on the pod's Event
(`FailedMount`), and a message a person can act on ("configmap "app" not found").
The original error is kept as `__cause__`. Every `VolumeError` is worth retrying later
(the ConfigMap may be created, the claim bound), except `UnsupportedVolumeError`.
"""

from __future__ import annotations


class VolumeError(Exception):
    """A volume could not be prepared or mounted (yet)."""

    reason = "FailedMount"


class UnsupportedVolumeError(VolumeError):
    """The pod asks for a volume source this agent cannot provide (nfs, csi, ...)."""

    reason = "FailedMount"
