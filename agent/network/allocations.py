"""Pod addresses of this node (IPAM): which pod uid holds which address of the node's pod CIDR.

    pod CIDR 10.42.3.0/24: 10.42.3.0 (network), 10.42.3.1 (gateway: the bridge) and
    10.42.3.255 (broadcast) are never handed out; pods get 10.42.3.2 .. 10.42.3.254.

What flows through: `assign(uid)` when a pod is wired, `release(uid)` when it goes,
`keep_only(uids)` when the agent starts or collects leftovers. `AddressBook` keeps the
table in <agent_dir>/network/addresses.json.

Invariants:
- No address is held by two uids; a uid holds at most one address, and asking again for
  the same uid gives the same address (adoption after a restart, a re-created sandbox).
- An allocation is on disk (temp file, fsync, rename) before `assign` returns, so an
  address is never used before a crash could forget it; a release is written after the
  caller has unwired the pod, so a crash in between leaves an address held by a uid that
  no longer runs, which `keep_only` at the next start gives back.
- Freed addresses are handed out again last (the search goes on from the last one given),
  so a pod's old address does not at once reach a new pod while peers may still cache it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from agent.cache import write_atomic

log = structlog.get_logger(__name__)
FILE_NAME = "addresses.json"


class AddressesExhausted(Exception):
    """Every address of the pod CIDR is held by a pod."""


@dataclass
class Allocations:
    """The table itself; pure, no I/O."""

    pod_cidr: ipaddress.IPv4Network
    by_uid: dict[str, ipaddress.IPv4Address] = field(default_factory=dict)
    last: ipaddress.IPv4Address | None = None
    """The address handed out most recently: the search for a free one starts after it."""

    def usable(self) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
        """(first, last) address a pod may get: after the gateway, before the broadcast address."""
        net = self.pod_cidr
        return net.network_address + 2, net.broadcast_address - 1

    def address_of(self, uid: str) -> ipaddress.IPv4Address | None:
        return self.by_uid.get(uid)

    def assign(self, uid: str) -> ipaddress.IPv4Address:
        """The uid's address, allocating the next free one when it has none."""
        held = self.by_uid.get(uid)
        if held is not None:
            return held
        first, final = self.usable()
        size = int(final) - int(first) + 1
        if size <= 0:
            raise AddressesExhausted(f"pod CIDR {self.pod_cidr} has no room for pods")
        taken = set(self.by_uid.values())
        start = 0 if self.last is None or not first <= self.last <= final else int(self.last) - int(first) + 1
        for step in range(size):
            candidate = first + (start + step) % size
            if candidate not in taken:
                self.by_uid[uid] = candidate
                self.last = candidate
                return candidate
        raise AddressesExhausted(f"all {size} pod addresses of {self.pod_cidr} are in use")

    def release(self, uid: str) -> ipaddress.IPv4Address | None:
        return self.by_uid.pop(uid, None)

    def keep_only(self, uids: Iterable[str]) -> dict[str, ipaddress.IPv4Address]:
        """Release every uid not in `uids`; what was released."""
        keep = set(uids)
        gone = {uid: ip for uid, ip in self.by_uid.items() if uid not in keep}
        for uid in gone:
            del self.by_uid[uid]
        return gone

    # --- the file form ---------------------------------------------------------------------

    def to_json(self) -> str:
        body = {
            "podCIDR": str(self.pod_cidr),
            "last": str(self.last) if self.last is not None else None,
            "addresses": {uid: str(ip) for uid, ip in sorted(self.by_uid.items())},
        }
        return json.dumps(body, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str, pod_cidr: ipaddress.IPv4Network) -> Allocations:
        """The table read back; entries outside `pod_cidr` or held twice are dropped (with a warning)."""
        body = json.loads(text)
        out = cls(pod_cidr)
        if not isinstance(body, dict):
            return out
        seen: set[ipaddress.IPv4Address] = set()
        first, final = out.usable()
        for uid, text_ip in dict(body.get("addresses") or {}).items():
            try:
                ip = ipaddress.IPv4Address(str(text_ip))
            except ValueError:
                log.warning("ignoring a bad address in the address table", uid=uid, address=text_ip)
                continue
            if not first <= ip <= final or ip in seen:
                log.warning("ignoring an address outside the pod CIDR or held twice", uid=uid, address=str(ip))
                continue
            seen.add(ip)
            out.by_uid[str(uid)] = ip
        try:
            out.last = ipaddress.IPv4Address(str(body["last"])) if body.get("last") else None
        except ValueError:
            out.last = None
        return out


class AddressBook:
    """`Allocations` kept on disk; every change is written before the call returns. One writer at a time."""

    def __init__(self, directory: Path, pod_cidr: ipaddress.IPv4Network) -> None:
        self.path = directory / FILE_NAME
        self.table = Allocations(pod_cidr)
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        def read() -> Allocations:
            try:
                text = self.path.read_text()
            except FileNotFoundError:
                return Allocations(self.table.pod_cidr)
            try:
                return Allocations.from_json(text, self.table.pod_cidr)
            except (ValueError, json.JSONDecodeError) as err:
                # A torn file cannot happen (rename); a hand-edited one can. Starting empty only risks
                # handing out an address a running pod holds, which the rewiring of adopted pods repairs.
                log.error("address table unreadable; starting from an empty one", path=str(self.path), error=str(err))
                return Allocations(self.table.pod_cidr)

        async with self._lock:
            self.table = await asyncio.to_thread(read)

    async def _save(self) -> None:
        text = self.table.to_json()

        def write() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(self.path, text.encode())

        await asyncio.to_thread(write)

    def address_of(self, uid: str) -> ipaddress.IPv4Address | None:
        return self.table.address_of(uid)

    def holders(self) -> dict[str, ipaddress.IPv4Address]:
        return dict(self.table.by_uid)

    async def assign(self, uid: str) -> ipaddress.IPv4Address:
        async with self._lock:
            held = self.table.address_of(uid)
            if held is not None:
                return held
            ip = self.table.assign(uid)
            try:
                await self._save()
            except BaseException:
                self.table.release(uid)  # not on disk: not handed out
                raise
            return ip

    async def release(self, uid: str) -> ipaddress.IPv4Address | None:
        async with self._lock:
            ip = self.table.release(uid)
            if ip is not None:
                await self._save()
            return ip

    async def keep_only(self, uids: Iterable[str]) -> dict[str, ipaddress.IPv4Address]:
        async with self._lock:
            gone = self.table.keep_only(uids)
            if gone:
                await self._save()
            return gone
