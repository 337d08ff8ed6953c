"""The container runtime interface of the node agent: what a pod worker asks of a runtime.

What flows through it: the agent turns a Pod into one `PodSandboxSpec` and one
`ContainerSpec` per container, and gets back ids, `Sandbox` and `ContainerStatus`
snapshots, log lines and exec streams. The shapes follow the CRI loosely (a sandbox
holds the pod's shared namespaces; containers join it) but carry only what EdgeKube
uses.

Invariants every implementation keeps (the contract suite in tests/e2e/runtime pins them):

- Everything a runtime creates carries the adoption labels (`LABEL_*` below), so an
  agent that restarts finds its sandboxes and containers again by label and adopts them
  instead of restarting healthy pods. Listing never returns objects without
  `io.edgekube.managed=true`.
- `remove_*` is idempotent: removing what is already gone succeeds.
- Every other operation on a missing object raises `NotFoundError`; failures raise the
  typed errors of `agent.runtime.errors`, never the backend's own exceptions.
- No method blocks the event loop.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, NewType, Protocol

SandboxId = NewType("SandboxId", str)
ContainerId = NewType("ContainerId", str)
ImageId = NewType("ImageId", str)

LABEL_MANAGED = "io.edgekube.managed"
LABEL_POD_UID = "io.edgekube.pod-uid"
LABEL_POD_NAMESPACE = "io.edgekube.pod-namespace"
LABEL_POD_NAME = "io.edgekube.pod-name"
LABEL_CONTAINER_NAME = "io.edgekube.container-name"
LABEL_RESTART_COUNT = "io.edgekube.restart-count"

Stream = Literal["stdout", "stderr"]


class PullPolicy(enum.StrEnum):
    """A container's `imagePullPolicy`."""

    ALWAYS = "Always"
    IF_NOT_PRESENT = "IfNotPresent"
    NEVER = "Never"


class NetworkMode(enum.StrEnum):
    """NONE: an empty namespace (only `lo`) that the agent wires itself; HOST: the node's."""

    NONE = "none"
    HOST = "host"


class ContainerState(enum.StrEnum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"
    UNKNOWN = "unknown"


# --- what the agent asks for ------------------------------------------------------------


@dataclass(frozen=True)
class DnsFiles:
    """Files the agent writes for a pod and the runtime bind-mounts into each container."""

    resolv_conf: Path | None = None
    """Mounted read-only at /etc/resolv.conf."""
    hosts: Path | None = None
    """Mounted read-only at /etc/hosts."""


@dataclass(frozen=True)
class PodSandboxSpec:
    uid: str
    """The pod's metadata.uid; the key of adoption."""
    namespace: str
    name: str
    hostname: str = ""
    """Host name inside the pod ('' : the pod name, cut to 63 characters)."""
    network: NetworkMode = NetworkMode.NONE
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels for the sandbox, next to the adoption labels."""
    share_pid: bool = False
    """spec.shareProcessNamespace: one PID namespace for all containers of the pod."""
    dns: DnsFiles | None = None

    def adoption_labels(self) -> dict[str, str]:
        return {
            LABEL_MANAGED: "true",
            LABEL_POD_UID: self.uid,
            LABEL_POD_NAMESPACE: self.namespace,
            LABEL_POD_NAME: self.name,
        }

    def effective_hostname(self) -> str:
        return (self.hostname or self.name)[:63].rstrip("-.")

    def runtime_name(self) -> str:
        """A name unique per pod incarnation (a re-created pod of the same name has a new uid)."""
        return f"ek_{self.namespace}_{self.name}_{self.uid[:8]}"


@dataclass(frozen=True)
class Mount:
    host_path: Path
    container_path: str
    read_only: bool = False


@dataclass(frozen=True)
class Port:
    """Informational, as in Kubernetes: pod networking makes every port reachable anyway."""

    container_port: int
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"
    name: str = ""


@dataclass(frozen=True)
class Resources:
    memory_limit_bytes: int | None = None
    """The container is OOM-killed above this (no swap on top)."""
    cpu_limit_millis: int | None = None
    """CPU limit in millicores; becomes a CFS quota over `cpu_period_us`."""
    cpu_request_millis: int | None = None
    """CPU request in millicores; becomes the relative CPU weight (shares)."""
    cpu_period_us: int = 100_000
    """CFS period, as the kubelet uses."""

    def cpu_quota_us(self) -> int | None:
        """500m over a 100 ms period is 50 ms of CPU time per period (floor 1 ms, as the kubelet)."""
        if self.cpu_limit_millis is None:
            return None
        return max(1000, self.cpu_limit_millis * self.cpu_period_us // 1000)

    def cpu_shares(self) -> int | None:
        """1000m is 1024 shares; the kernel's minimum is 2."""
        if self.cpu_request_millis is None:
            return None
        return max(2, self.cpu_request_millis * 1024 // 1000)


@dataclass(frozen=True)
class SecurityContext:
    run_as_user: int | None = None
    run_as_group: int | None = None
    supplemental_groups: tuple[int, ...] = ()
    privileged: bool = False
    read_only_root_filesystem: bool = False
    allow_privilege_escalation: bool = True
    capabilities_add: tuple[str, ...] = ()
    """Kubernetes spelling (NET_ADMIN); 'ALL' is allowed."""
    capabilities_drop: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str
    command: tuple[str, ...] = ()
    """Replaces the image's entrypoint (Kubernetes `command`); () keeps it."""
    args: tuple[str, ...] = ()
    """Replaces the image's cmd (Kubernetes `args`); () keeps it unless `command` is set."""
    env: Mapping[str, str] = field(default_factory=dict)
    working_dir: str = ""
    """Created if missing, as Kubernetes does ('' : the image's)."""
    ports: tuple[Port, ...] = ()
    mounts: tuple[Mount, ...] = ()
    resources: Resources = field(default_factory=Resources)
    security: SecurityContext = field(default_factory=SecurityContext)
    restart_count: int = 0
    """How often the agent has restarted this container; kept as a label for adoption."""
    tty: bool = False
    stdin: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)

    def argv(self) -> tuple[str, ...]:
        """The process argv when the image has no entrypoint/cmd of its own (the fake's key)."""
        return self.command + self.args

    def labels_for(self, sandbox: PodSandboxSpec) -> dict[str, str]:
        return {
            **self.labels,
            **sandbox.adoption_labels(),
            LABEL_CONTAINER_NAME: self.name,
            LABEL_RESTART_COUNT: str(self.restart_count),
        }

    def runtime_name(self, sandbox: PodSandboxSpec) -> str:
        return f"{sandbox.runtime_name()}_{self.name}_{self.restart_count}"


# --- what the agent gets back -------------------------------------------------------------


@dataclass(frozen=True)
class RuntimeVersion:
    runtime_name: str
    """'podman' or 'fake'."""
    runtime_version: str
    api_version: str
    oci_runtime: str
    """The low-level runtime (runc, crun), '' where there is none."""


@dataclass(frozen=True)
class ImageInfo:
    id: ImageId
    tags: tuple[str, ...]
    digest: str = ""
    size_bytes: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sandbox:
    id: SandboxId
    name: str
    labels: Mapping[str, str]
    ready: bool
    """The infra container (the holder of the namespaces) is running."""
    created_at: datetime | None = None
    infra_pid: int | None = None
    """PID of the process holding the namespaces; None from listings and in the fake."""

    @property
    def netns_path(self) -> str | None:
        return f"/proc/{self.infra_pid}/ns/net" if self.infra_pid else None

    @property
    def pod_uid(self) -> str:
        return self.labels.get(LABEL_POD_UID, "")


@dataclass(frozen=True)
class ContainerSummary:
    """One row of `list_containers`: enough to adopt; `inspect_container` has the rest."""

    id: ContainerId
    name: str
    sandbox_id: SandboxId
    state: ContainerState
    image: str
    labels: Mapping[str, str]

    @property
    def container_name(self) -> str:
        return self.labels.get(LABEL_CONTAINER_NAME, "")

    @property
    def restart_count(self) -> int:
        return _int_label(self.labels, LABEL_RESTART_COUNT)


@dataclass(frozen=True)
class ContainerStatus:
    id: ContainerId
    name: str
    sandbox_id: SandboxId
    state: ContainerState
    image: str
    image_id: ImageId
    labels: Mapping[str, str]
    exit_code: int | None = None
    """Set once the container has exited."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    oom_killed: bool = False
    pid: int | None = None
    message: str = ""
    """The runtime's error text, if it recorded one."""

    @property
    def container_name(self) -> str:
        return self.labels.get(LABEL_CONTAINER_NAME, "")

    @property
    def restart_count(self) -> int:
        return _int_label(self.labels, LABEL_RESTART_COUNT)


@dataclass(frozen=True)
class ContainerStats:
    memory_bytes: int
    cpu_nanos: int
    """Cumulative CPU time."""
    pids: int = 0


@dataclass(frozen=True)
class LogLine:
    stream: Stream
    text: str
    """One line, without its newline."""
    timestamp: datetime | None = None
    """Set when asked for `timestamps`."""


@dataclass(frozen=True)
class ExecChunk:
    stream: Stream
    data: bytes


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    stdout: bytes
    stderr: bytes


def _int_label(labels: Mapping[str, str], key: str) -> int:
    try:
        return int(labels.get(key, "0"))
    except ValueError:
        return 0


# --- the protocols -------------------------------------------------------------------------


class ExecSession(Protocol):
    """A process started in a running container; the shape `kubectl exec` needs."""

    def output(self) -> AsyncIterator[ExecChunk]:
        """Output as it comes; ends when the process has closed its output."""
        ...

    async def write(self, data: bytes) -> None:
        """Send to the process's stdin (only with `stdin=True`)."""
        ...

    async def close_stdin(self) -> None:
        """End of input: the process reads EOF."""
        ...

    async def resize(self, width: int, height: int) -> None:
        """Resize the terminal (only with `tty=True`)."""
        ...

    async def wait(self) -> int:
        """The exit code, once the process has ended."""
        ...

    async def close(self) -> None:
        """Detach and release the connection; the process may go on running."""
        ...


class Runtime(Protocol):
    async def version(self) -> RuntimeVersion: ...

    async def close(self) -> None:
        """Release connections; sandboxes and containers keep running."""
        ...

    # images
    async def ensure_image(self, ref: str, pull_policy: PullPolicy) -> ImageInfo:
        """The image `ref` per `pull_policy`; raises ImagePullError or ImageNeverPullError."""
        ...

    async def import_image_archive(self, path: Path) -> list[str]:
        """Load a `podman save`/`docker save` archive (the airgap path); returns its names."""
        ...

    async def list_images(self) -> list[ImageInfo]: ...

    async def remove_image(self, ref: str) -> None: ...

    # sandboxes
    async def create_pod_sandbox(self, spec: PodSandboxSpec) -> Sandbox:
        """Create the pod's shared namespaces and start its infra process."""
        ...

    async def inspect_pod_sandbox(self, sandbox: SandboxId) -> Sandbox: ...

    async def remove_pod_sandbox(self, sandbox: SandboxId) -> None:
        """Kill and remove the sandbox with all its containers."""
        ...

    async def list_pod_sandboxes(self, labels: Mapping[str, str] | None = None) -> list[Sandbox]:
        """Our sandboxes whose labels include all of `labels`."""
        ...

    # containers
    async def create_container(
        self, sandbox: SandboxId, spec: ContainerSpec, sandbox_spec: PodSandboxSpec
    ) -> ContainerId: ...

    async def start_container(self, container: ContainerId) -> None: ...

    async def stop_container(self, container: ContainerId, grace_period: float) -> None:
        """SIGTERM, then SIGKILL after `grace_period` seconds; returns once it has exited."""
        ...

    async def remove_container(self, container: ContainerId) -> None: ...

    async def inspect_container(self, container: ContainerId) -> ContainerStatus: ...

    async def wait_container(self, container: ContainerId) -> int:
        """Wait until the (started) container has exited; its exit code."""
        ...

    async def list_containers(
        self, labels: Mapping[str, str] | None = None, sandbox: SandboxId | None = None
    ) -> list[ContainerSummary]:
        """Our containers whose labels include all of `labels` (and in `sandbox`, if given)."""
        ...

    async def exec(
        self, container: ContainerId, cmd: Sequence[str], *, stdin: bool = False, tty: bool = False
    ) -> ExecSession: ...

    def logs(
        self,
        container: ContainerId,
        *,
        follow: bool = False,
        tail: int | None = None,
        since: datetime | None = None,
        timestamps: bool = False,
    ) -> AsyncIterator[LogLine]:
        """The container's output by line. `kubectl logs --previous` is the agent's business:
        it keeps the previous incarnation (restart_count - 1) and asks for its id."""
        ...

    async def stats(self, container: ContainerId) -> ContainerStats: ...


async def exec_output(
    runtime: Runtime, container: ContainerId, cmd: Sequence[str], *, timeout_seconds: float | None = None
) -> ExecResult:
    """Run `cmd` without input and collect its output (exec probes, tests)."""
    session = await runtime.exec(container, cmd)
    out: list[bytes] = []
    err: list[bytes] = []

    async def collect() -> int:
        async for chunk in session.output():
            (out if chunk.stream == "stdout" else err).append(chunk.data)
        return await session.wait()

    try:
        code = await asyncio.wait_for(collect(), timeout_seconds)
    finally:
        await session.close()
    return ExecResult(code, b"".join(out), b"".join(err))
