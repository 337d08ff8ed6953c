"""Each pod's /etc/resolv.conf: written to <agent_dir>/pods/<uid>/resolv.conf, bind-mounted read-only.

The text comes from `agent.dns.podfiles.resolv_conf_for` (dnsPolicy, dnsConfig, the node's
own resolv.conf). That module is looked up by name at run time; while it is missing a
ClusterFirst file is written for every pod:

    nameserver 10.43.0.10
    search <ns>.svc.cluster.local svc.cluster.local cluster.local
    options ndots:5

Invariants: the file exists before any container of the pod is created (the worker
writes it before it creates the sandbox), and is rewritten only when its text changes;
the pod directory itself belongs to the volume manager, which removes it with the pod.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from agent.cache import write_atomic
from agent.runtime.interface import DnsFiles
from agent.settings import NetworkSettings

log = structlog.get_logger(__name__)
Obj = dict[str, Any]
FILE_NAME = "resolv.conf"
Renderer = Callable[..., str]


def fallback_resolv_conf(pod: Obj, *, settings: NetworkSettings, host_resolv_conf: str) -> str:
    """ClusterFirst, whatever the pod asked for: what pods get until agent.dns.podfiles exists."""
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    domain = settings.cluster_domain.rstrip(".")
    lines = [
        f"nameserver {settings.cluster_dns}",
        f"search {namespace}.svc.{domain} svc.{domain} {domain}",
        "options ndots:5",
    ]
    return "\n".join(lines) + "\n"


def load_renderer() -> Renderer:
    try:
        module = importlib.import_module("agent.dns.podfiles")
    except ModuleNotFoundError as err:
        if err.name not in ("agent.dns", "agent.dns.podfiles"):
            raise
        log.warning("agent.dns.podfiles is not installed; every pod gets a ClusterFirst resolv.conf")
        return fallback_resolv_conf
    render: Renderer = module.resolv_conf_for
    return render


class DnsFileWriter:
    """Writes pods' resolv.conf files under `pods_dir` (<agent_dir>/pods)."""

    def __init__(self, pods_dir: Path, settings: NetworkSettings, render: Renderer | None = None) -> None:
        self.pods_dir = pods_dir
        self.settings = settings
        self._render = render or load_renderer()

    def path_of(self, uid: str) -> Path:
        if not uid or "/" in uid or uid.startswith("."):
            raise ValueError(f"not a pod uid: {uid!r}")
        return self.pods_dir / uid / FILE_NAME

    def files_of(self, uid: str) -> DnsFiles:
        return DnsFiles(resolv_conf=self.path_of(uid))

    async def write(self, pod: Obj) -> Path:
        uid = str((pod.get("metadata") or {}).get("uid") or "")
        path = self.path_of(uid)
        host_conf = await asyncio.to_thread(_read_host_conf, Path(self.settings.resolv_conf))
        text = self._render(pod, settings=self.settings, host_resolv_conf=host_conf)
        await asyncio.to_thread(_write_if_changed, path, text)
        return path


def _read_host_conf(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as err:
        log.warning("cannot read the node's resolv.conf", path=str(path), error=str(err))
        return ""


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text() == text:
            return
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    write_atomic(path, text.encode())
