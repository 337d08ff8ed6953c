"""Seams to the parts other modules provide: volumes, probes, images, the logs/exec server, the pod network.

The pod workers use them through the Protocols below. `load_*` pick the real module
(`agent.volumes`, `agent.probes`, `agent.images`, `agent.streaming`) when it is installed and fall back
to a stand-in that does nothing otherwise, so the agent runs (without those features)
while they are being written. Imports are by name at run time on purpose: this module
must not fail to import when one of them is missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol, cast

import structlog

from agent.runtime.interface import ContainerId, DnsFiles, Mount, Runtime, Sandbox
from edgekube.client import ApiClient

log = structlog.get_logger(__name__)
Obj = dict[str, Any]
ProbeKind = Literal["liveness", "readiness", "startup"]


class Volumes(Protocol):
    """What a pod worker asks of the volume manager (`agent.volumes.VolumeManager`)."""

    async def prepare(self, pod: Obj) -> Any:
        """Make the pod's volumes on the host; the result goes back into `mounts_for`."""
        ...

    def mounts_for(self, container: Obj, prepared: Any, *, env: Mapping[str, str] | None = None) -> list[Mount]:
        """The container's mounts; `env` expands `subPathExpr`."""
        ...

    async def refresh(self, pod: Obj) -> Any:
        """Bring configMap, secret and downwardAPI files up to date."""
        ...

    async def cleanup(self, pod_uid: str) -> None: ...

    async def pods_on_disk(self) -> set[str]:
        """Uids of pods that have volume directories on this node."""
        ...

    async def reconcile_volumes(self) -> Any:
        """Apply claims' reclaim policy to volumes no pod uses."""
        ...


class Probing(Protocol):
    """Makes the loop of one probe of one container; the worker runs it as a task."""

    def probe(
        self,
        kind: ProbeKind,
        probe: Obj,
        *,
        container: ContainerId,
        netns_path: str | None,
        ports: Mapping[str, int],
        on_change: Callable[[bool], None],
    ) -> Coroutine[Any, Any, None]: ...

    async def hook(
        self,
        handler: Obj,
        *,
        container: ContainerId,
        netns_path: str | None,
        ports: Mapping[str, int],
        timeout_seconds: float,
    ) -> tuple[bool, str]:
        """Run a lifecycle hook's httpGet or tcpSocket once, as a probe attempt: (success, message)."""
        ...


class PodNetwork(Protocol):
    """What a pod worker asks of the pod network (`agent.network.attaching.PodNetworking`).

    Absent (None) with `--flannel-backend none`: pods then keep only their loopback.
    """

    @property
    def ready(self) -> bool:
        """The node's pod network is set up: `attach` may be called."""
        ...

    def dns_files(self, uid: str) -> DnsFiles | None:
        """Where the pod's resolv.conf is (for the sandbox spec); `prepare` writes it."""
        ...

    async def prepare(self, pod: Obj) -> None:
        """Write the pod's DNS files; called before its sandbox is created."""
        ...

    def address_of(self, uid: str) -> str:
        """The address the pod holds ('' : none)."""
        ...

    async def attach(self, pod: Obj, sandbox: Sandbox) -> str:
        """Wire the sandbox (idempotent: an already wired one is left alone); the pod's IP."""
        ...

    async def detach(self, uid: str) -> None:
        """Unwire the pod and free its address; its sandbox is gone or going."""
        ...


class NoVolumes:
    """Stand-in while `agent.volumes` is missing: pods run, their volumes are not mounted."""

    def __init__(self) -> None:
        self._warned: set[str] = set()

    async def prepare(self, pod: Obj) -> Any:
        uid = str((pod.get("metadata") or {}).get("uid", ""))
        if (pod.get("spec") or {}).get("volumes") and uid not in self._warned:
            self._warned.add(uid)
            log.warning("volumes are not supported by this agent build; not mounting them", pod_uid=uid)
        return {}

    def mounts_for(self, container: Obj, prepared: Any, *, env: Mapping[str, str] | None = None) -> list[Mount]:
        return []

    async def refresh(self, pod: Obj) -> None:
        return None

    async def cleanup(self, pod_uid: str) -> None:
        self._warned.discard(pod_uid)

    async def pods_on_disk(self) -> set[str]:
        return set()

    async def reconcile_volumes(self) -> None:
        return None


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name != name:  # the module exists but something it needs does not: a real error
            raise
        return None


def load_volumes(client: ApiClient, root: Path, node_name: str) -> Volumes:
    """The volume manager over `root` (the agent dir: pod volumes in <root>/pods/<uid>/,
    claim data in <root>/../storage)."""
    module = _optional("agent.volumes")
    if module is None:
        log.warning("agent.volumes is not installed; pod volumes will not be mounted")
        return NoVolumes()
    return cast(Volumes, module.VolumeManager(client, root, node_name))


class _ProbeAdapter:
    """`agent.probes.ProbeWorker` behind the `Probing` protocol."""

    def __init__(self, module: ModuleType, runtime: Runtime) -> None:
        self._module = module
        self._runtime = runtime

    def probe(
        self,
        kind: ProbeKind,
        probe: Obj,
        *,
        container: ContainerId,
        netns_path: str | None,
        ports: Mapping[str, int],
        on_change: Callable[[bool], None],
    ) -> Coroutine[Any, Any, None]:
        target = self._module.ProbeTarget(
            runtime=self._runtime, container_id=container, netns_path=netns_path, ports=dict(ports)
        )
        worker = self._module.ProbeWorker(kind, probe, target, on_change)
        return cast(Coroutine[Any, Any, None], worker.run())

    async def hook(
        self,
        handler: Obj,
        *,
        container: ContainerId,
        netns_path: str | None,
        ports: Mapping[str, int],
        timeout_seconds: float,
    ) -> tuple[bool, str]:
        target = self._module.ProbeTarget(
            runtime=self._runtime, container_id=container, netns_path=netns_path, ports=dict(ports)
        )
        result = await self._module.handler_for(handler).check(target, timeout_seconds)
        return bool(result.success), str(result.message or "")


def load_probing(runtime: Runtime) -> Probing | None:
    """The prober, or None: then a container counts as started and ready once it runs."""
    module = _optional("agent.probes")
    if module is None:
        log.warning("agent.probes is not installed; probes are ignored (running means ready)")
        return None
    return _ProbeAdapter(module, runtime)


@dataclass
class Streaming:
    """A started logs/exec server: what the Node publishes about it, and how to stop it."""

    server: Any
    port: int
    annotations: dict[str, str] = field(default_factory=dict)

    async def stop(self) -> None:
        closer = getattr(self.server, "close", None)
        if closer is not None:
            result = closer()
            if hasattr(result, "__await__"):
                await result


async def start_streaming(
    runtime: Runtime, lookup: Any, *, token: str, cert_dir: Path, address: str, port: int, names: tuple[str, ...]
) -> Streaming | None:
    """Start the logs/exec server (None: the module is not installed); raises OSError when the port is taken."""
    module = _optional("agent.streaming")
    if module is None:
        log.warning("agent.streaming is not installed; kubectl logs and exec will not reach this node")
        return None
    settings = module.StreamingSettings(token=token, cert_dir=cert_dir, bind_address=address, port=port, names=names)
    server = await module.serve_streaming(runtime, lookup, settings)
    fingerprint = str(getattr(server, "fingerprint", "") or "")
    annotations = {module.PIN_ANNOTATION: fingerprint} if fingerprint else {}
    return Streaming(server, int(getattr(server, "port", port)), annotations)


def load_images(runtime: Runtime, airgap_dir: Path) -> Coroutine[Any, Any, None] | None:
    """The image manager's loop (airgap archives from `airgap_dir`, garbage collection), or None."""
    module = _optional("agent.images")
    if module is None:
        log.warning("agent.images is not installed; no airgap import, no image garbage collection")
        return None
    manager = module.ImageManager(runtime, module.ImageSettings(airgap_dir=airgap_dir))
    return cast(Coroutine[Any, Any, None], manager.run())
