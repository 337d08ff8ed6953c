"""What the host says about itself: CPUs, memory, disk, PIDs, kernel, OS; read from /proc and friends.

`read_host` does the reading (blocking: call it through `asyncio.to_thread`); the pure
functions turn a `HostReading` into the node's `NodeFacts` and its pressure conditions,
so tests cover them with made-up readings.
"""

from __future__ import annotations

import os
import platform
import socket
from dataclasses import dataclass
from pathlib import Path

from agent.settings import NodeSettings
from edgekube.nodeinfo import KUBELET_PORT, NodeFacts
from edgekube.nodeinfo.architectures import kubernetes_arch
from edgekube.resources.kinds.pod_quantities import parse_quantity


@dataclass(frozen=True)
class HostReading:
    cpus: int
    memory_total_bytes: int
    memory_available_bytes: int
    disk_total_bytes: int
    disk_available_bytes: int
    pid_max: int
    pids: int
    kernel: str
    os_image: str
    machine: str
    hostname: str
    machine_id: str = ""
    system_uuid: str = ""
    boot_id: str = ""


def architecture(machine: str) -> str:
    return kubernetes_arch(machine)


def read_host(data_dir: Path) -> HostReading:
    """One look at the host; `data_dir` picks the filesystem whose space counts as ephemeral storage."""
    meminfo = _meminfo()
    target = data_dir if data_dir.exists() else Path("/")
    fs = os.statvfs(target)
    return HostReading(
        cpus=os.cpu_count() or 1,
        memory_total_bytes=meminfo.get("MemTotal", 0),
        memory_available_bytes=meminfo.get("MemAvailable", meminfo.get("MemFree", 0)),
        disk_total_bytes=fs.f_blocks * fs.f_frsize,
        disk_available_bytes=fs.f_bavail * fs.f_frsize,
        pid_max=_int_file(Path("/proc/sys/kernel/pid_max"), 32768),
        pids=sum(1 for entry in os.scandir("/proc") if entry.name.isdigit()),
        kernel=platform.release(),
        os_image=_os_image(),
        machine=platform.machine(),
        hostname=socket.gethostname(),
        machine_id=_text(Path("/etc/machine-id")),
        system_uuid=_text(Path("/sys/class/dmi/id/product_uuid")),
        boot_id=_text(Path("/proc/sys/kernel/random/boot_id")),
    )


def _meminfo() -> dict[str, int]:
    """/proc/meminfo in bytes ("MemTotal: 16318320 kB")."""
    out: dict[str, int] = {}
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            out[key] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    return out


def _os_image() -> str:
    """PRETTY_NAME of /etc/os-release ("Debian GNU/Linux 12 (bookworm)"), as the kubelet reports it."""
    for path in (Path("/etc/os-release"), Path("/usr/lib/os-release")):
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.partition("=")
            if key == "PRETTY_NAME":
                return value.strip().strip('"').strip("'")
    return "Linux"


def _text(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:  # product_uuid is root-only and missing on a Raspberry Pi
        return ""


def _int_file(path: Path, default: int) -> int:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return default


def node_ip_guess() -> str:
    """The source address of the default route, found by connecting a UDP socket (nothing is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: a route lookup only, no packet leaves
            address = str(probe.getsockname()[0])
        except OSError:
            return "127.0.0.1"
    return address if address != "0.0.0.0" else "127.0.0.1"


def _kibibytes(amount: int) -> str:
    """Bytes as the kubelet writes capacities: whole Ki ("16318320Ki")."""
    return f"{max(0, amount) // 1024}Ki"


def node_facts(
    reading: HostReading,
    settings: NodeSettings,
    *,
    name: str,
    ip: str,
    runtime_version: str,
    kubelet_port: int = KUBELET_PORT,
) -> NodeFacts:
    """The node's facts from one host reading: capacity from the machine, allocatable minus reserves."""
    reserved = int(parse_quantity(settings.system_reserved_memory))
    capacity = {
        "cpu": str(reading.cpus),
        "memory": _kibibytes(reading.memory_total_bytes),
        "pods": str(settings.max_pods),
        "ephemeral-storage": _kibibytes(reading.disk_total_bytes),
    }
    allocatable = dict(capacity, memory=_kibibytes(reading.memory_total_bytes - reserved))
    return NodeFacts(
        name=name,
        internal_ip=ip,
        hostname=reading.hostname,
        capacity=capacity,
        allocatable=allocatable,
        architecture=architecture(reading.machine),
        kernel_version=reading.kernel,
        os_image=reading.os_image,
        container_runtime_version=runtime_version,
        machine_id=reading.machine_id,
        system_uuid=reading.system_uuid,
        boot_id=reading.boot_id,
        kubelet_port=kubelet_port,
    )


def pressure(reading: HostReading, settings: NodeSettings) -> dict[str, bool]:
    """Which pressure conditions hold, by the thresholds of `settings`."""
    memory_floor = int(parse_quantity(settings.memory_pressure_available))
    disk_free = 100.0 * reading.disk_available_bytes / reading.disk_total_bytes if reading.disk_total_bytes else 100.0
    pids_free = 100.0 * (reading.pid_max - reading.pids) / reading.pid_max if reading.pid_max else 100.0
    return {
        "MemoryPressure": reading.memory_available_bytes < memory_floor,
        "DiskPressure": disk_free < settings.disk_pressure_available_percent,
        "PIDPressure": pids_free < settings.pid_pressure_available_percent,
    }
