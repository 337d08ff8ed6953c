"""Errors every runtime raises, so the agent handles Podman and the fake alike.

Each error carries `reason`, the word the kubelet would put in a container's
`state.waiting.reason` (ErrImagePull, CreateContainerError, ...), so the pod worker
copies it into the pod status without a table of its own. The runtime's own error is
kept as `__cause__` (`raise ... from err`).
"""

from __future__ import annotations


class ContainerRuntimeError(Exception):
    """A runtime operation failed; the message says which and why."""

    reason = "RuntimeError"


class RuntimeUnavailableError(ContainerRuntimeError):
    """The runtime service cannot be reached (not started, crashed, socket gone)."""

    reason = "RuntimeUnavailable"


class NotFoundError(ContainerRuntimeError):
    """The sandbox, container or image does not exist (any more)."""

    reason = "NotFound"


class AlreadyExistsError(ContainerRuntimeError):
    """A sandbox or container of that name exists already (e.g. a retried create)."""

    reason = "AlreadyExists"


class ImageError(ContainerRuntimeError):
    """Base of the image errors."""

    reason = "ImageError"


class ImagePullError(ImageError):
    """The image is not present and pulling it failed (no registry reachable, no such image)."""

    reason = "ErrImagePull"


class ImageNeverPullError(ImageError):
    """The pull policy is Never and the image is not present on the node."""

    reason = "ErrImageNeverPull"


class ImageImportError(ImageError):
    """An image archive could not be loaded (not a docker/OCI archive, truncated, ...)."""

    reason = "ImageImportError"


class CreateContainerError(ContainerRuntimeError):
    """The runtime refused the container's configuration."""

    reason = "CreateContainerError"


class StartContainerError(ContainerRuntimeError):
    """The container was created but its process could not be started (bad command, ...)."""

    reason = "RunContainerError"
