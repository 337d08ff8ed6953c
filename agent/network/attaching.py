"""`PodNetworking`: what pod workers ask of the pod network (the `agent.plugins.PodNetwork` seam).

    worker, before the sandbox    prepare(pod)          its resolv.conf on disk
    worker, after the sandbox     attach(pod, sandbox)  address (IPAM) -> veth pair -> hostPorts -> pod IP
    worker, pod stopped for good  detach(uid)           veth gone -> hostPorts gone -> address freed
    network task, at start        start(node, ...)      addresses of pods that no longer exist freed
    network task, periodically    collect(in_use)       the same, for pods whose worker never detached

Invariants: attach is idempotent and leaves a pod that is already wired alone (an
adopted pod keeps its interface, its address and its open connections); the address is
on disk before the pod's interface gets it; detach unwires before it frees the address,
so a crash in between leaves an address held, never one used twice. Nothing is wired
before `start` has run (`ready`): until then workers wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import structlog

from agent.network.allocations import AddressBook, AddressesExhausted
from agent.network.dnsfiles import DnsFileWriter
from agent.network.hostports import HostPorts, hostports_of
from agent.network.local import LocalNode
from agent.network.wiring import PodLink, WiringError, is_wired, unwire, wire
from agent.runtime.interface import DnsFiles, Sandbox
from agent.settings import NetworkSettings

log = structlog.get_logger(__name__)
Obj = dict[str, Any]
STATE_DIR = "network"
"""<agent_dir>/network: node.json and addresses.json."""


class PodNetworkError(Exception):
    """A pod could not be wired; the worker shows the message and tries again."""


def _uid(pod: Obj) -> str:
    return str((pod.get("metadata") or {}).get("uid") or "")


class PodNetworking:
    def __init__(self, settings: NetworkSettings, agent_dir: Path) -> None:
        self.settings = settings
        self.state_dir = agent_dir / STATE_DIR
        self.dns = DnsFileWriter(agent_dir / "pods", settings)
        self.hostports = HostPorts(f"{settings.nft_table}_hostports")
        self.node: LocalNode | None = None
        self.addresses: AddressBook | None = None
        self._ready = asyncio.Event()

    # --- the seam the workers use ---------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        await self._ready.wait()

    def dns_files(self, uid: str) -> DnsFiles | None:
        return self.dns.files_of(uid)

    async def prepare(self, pod: Obj) -> None:
        """Write the pod's resolv.conf (before its sandbox and containers are created)."""
        await self.dns.write(pod)

    def address_of(self, uid: str) -> str:
        held = self.addresses.address_of(uid) if self.addresses is not None else None
        return str(held) if held is not None else ""

    async def attach(self, pod: Obj, sandbox: Sandbox) -> str:
        """Wire the pod into the node's bridge (unless it is already); its IP."""
        node, book = self.node, self.addresses
        if node is None or book is None:
            raise PodNetworkError("the pod network is not set up yet")
        uid = _uid(pod)
        netns = sandbox.netns_path
        if netns is None:
            raise PodNetworkError("the pod sandbox has no network namespace (its infra process is not running)")
        try:
            ip = await book.assign(uid)
        except AddressesExhausted as err:
            raise PodNetworkError(str(err)) from err
        link = PodLink(
            uid=uid,
            netns_path=netns,
            address=ipaddress.IPv4Interface(f"{ip}/{node.pod_cidr.prefixlen}"),
            gateway=node.gateway,
            mtu=node.mtu,
            bridge=self.settings.bridge,
        )
        bound = log.bind(pod_uid=uid[:8], ip=str(ip), veth=link.host_name)
        if await asyncio.to_thread(is_wired, link):
            bound.debug("pod already wired; left as it is")
        else:
            try:
                await asyncio.to_thread(wire, link)
            except WiringError as err:
                raise PodNetworkError(str(err)) from err
            bound.info("pod wired")
        await self.hostports.set_pod(uid, hostports_of(pod, str(ip)))
        return str(ip)

    async def detach(self, uid: str) -> None:
        """Undo attach: the veth, the hostPort rules, then the address; and the resolv.conf."""
        if await asyncio.to_thread(_unwire_quietly, uid):
            log.info("pod unwired", pod_uid=uid[:8])
        await self.hostports.drop_pod(uid)
        if self.addresses is not None:
            released = await self.addresses.release(uid)
            if released is not None:
                log.info("pod address released", pod_uid=uid[:8], ip=str(released))
        with contextlib.suppress(ValueError):
            await asyncio.to_thread(_remove_file, self.dns.path_of(uid))

    # --- the network task's side ----------------------------------------------------------

    async def start(self, node: LocalNode, *, in_use: Iterable[str], pods: dict[str, Obj]) -> None:
        """Load the address table, free what no pod holds any more, write hostPorts; then `ready`."""
        book = AddressBook(self.state_dir, node.pod_cidr)
        await book.load()
        self.node, self.addresses = node, book
        await self.collect(in_use)
        for uid, ip in book.holders().items():
            pod = pods.get(uid)
            if pod is not None:
                await self.hostports.set_pod(uid, hostports_of(pod, str(ip)))
        await self.hostports.start()
        self._ready.set()
        log.info("pod network ready", addresses_held=len(book.holders()))

    async def collect(self, in_use: Iterable[str]) -> list[str]:
        """Detach every pod holding an address that `in_use` (sandboxes, desired pods, workers) lacks."""
        if self.addresses is None:
            return []
        keep = set(in_use)
        gone = [uid for uid in self.addresses.holders() if uid not in keep]
        for uid in gone:
            log.info("freeing the address of a pod that no longer exists", pod_uid=uid[:8])
            await self.detach(uid)
        return gone


def _unwire_quietly(uid: str) -> bool:
    try:
        return unwire(uid)
    except Exception as err:  # a veth that cannot be deleted must not keep the address forever
        log.warning("cannot delete the pod's veth", pod_uid=uid[:8], error=str(err))
        return False


def _remove_file(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only when empty: the volume manager may still have files there
