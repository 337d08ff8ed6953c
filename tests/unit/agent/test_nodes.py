"""Node facts from the host, pressure thresholds, and the shared Node/Lease builders."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agent.node.hostfacts import HostReading, architecture, node_facts, pressure, read_host
from agent.settings import NodeSettings
from edgekube.nodeinfo import lease_object, node_conditions, node_status, renewed_lease

READING = HostReading(
    cpus=4,
    memory_total_bytes=8 * 1024**3,
    memory_available_bytes=4 * 1024**3,
    disk_total_bytes=100 * 1024**3,
    disk_available_bytes=50 * 1024**3,
    pid_max=32768,
    pids=300,
    kernel="6.6.31+rpt-rpi-v8",
    os_image="Debian GNU/Linux 12 (bookworm)",
    machine="aarch64",
    hostname="pi-3",
)
T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = datetime(2025, 1, 1, 0, 1, tzinfo=UTC)


def test_facts_capacity_and_info() -> None:
    """A Raspberry Pi's reading: arm64, Ki quantities, 110 pods, reserved memory off allocatable."""
    facts = node_facts(
        READING,
        NodeSettings(system_reserved_memory="1Gi"),
        name="pi-3",
        ip="10.0.0.7",
        runtime_version="podman://4.3.1",
    )
    status = node_status(facts, [])
    assert status["capacity"] == {"cpu": "4", "memory": "8388608Ki", "pods": "110", "ephemeral-storage": "104857600Ki"}
    assert status["allocatable"]["memory"] == "7340032Ki"
    assert status["nodeInfo"]["architecture"] == "arm64"
    assert status["nodeInfo"]["containerRuntimeVersion"] == "podman://4.3.1"
    assert status["nodeInfo"]["kubeletVersion"] == "v1.32.0-edgekube"
    assert status["addresses"] == [
        {"type": "InternalIP", "address": "10.0.0.7"},
        {"type": "Hostname", "address": "pi-3"},
    ]
    assert architecture("x86_64") == "amd64" and architecture("armv7l") == "arm"


def test_pressure_thresholds() -> None:
    settings = NodeSettings()
    assert pressure(READING, settings) == {"MemoryPressure": False, "DiskPressure": False, "PIDPressure": False}
    tight = HostReading(**{**READING.__dict__, "memory_available_bytes": 50 * 1024**2, "disk_available_bytes": 1024**3})
    assert pressure(tight, settings) == {"MemoryPressure": True, "DiskPressure": True, "PIDPressure": False}


def test_conditions_move_transition_times_only_on_change() -> None:
    first = node_conditions(True, T0, [])
    again = node_conditions(True, T1, first, pressure={"DiskPressure": True})
    by_type = {c["type"]: c for c in again}
    assert by_type["Ready"]["lastTransitionTime"] == "2025-01-01T00:00:00Z"
    assert by_type["Ready"]["lastHeartbeatTime"] == "2025-01-01T00:01:00Z"
    assert by_type["DiskPressure"]["status"] == "True" and by_type["DiskPressure"]["reason"] == "KubeletHasDiskPressure"
    assert by_type["DiskPressure"]["lastTransitionTime"] == "2025-01-01T00:01:00Z"


def test_lease_is_owned_by_the_node_and_renewed_in_place() -> None:
    lease = lease_object("pi-3", "node-uid", 40, T0)
    assert lease["metadata"]["ownerReferences"][0]["uid"] == "node-uid"
    renewed = renewed_lease({**lease, "metadata": {**lease["metadata"], "resourceVersion": "7"}}, "pi-3", 40, T1)
    assert renewed["metadata"]["resourceVersion"] == "7"
    assert renewed["spec"]["renewTime"] == "2025-01-01T00:01:00.000000Z"


def test_this_host_can_be_read(tmp_path: Path) -> None:
    reading = read_host(tmp_path)
    assert reading.cpus >= 1 and reading.memory_total_bytes > 0 and reading.disk_total_bytes > 0
    assert reading.os_image and reading.kernel and reading.pids > 0
