"""What a probe is about and what one attempt found: `ProbeKind`, `ProbeTarget`, `ProbeResult`,
and `ProbeTiming` (a probe's timing fields with the Kubernetes defaults)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.runtime.interface import ContainerId, Runtime


class ProbeKind(enum.StrEnum):
    LIVENESS = "liveness"
    READINESS = "readiness"
    STARTUP = "startup"


@dataclass(frozen=True)
class ProbeTarget:
    """The container a probe checks, and how to reach it."""

    runtime: Runtime
    container_id: ContainerId
    netns_path: str | None = None
    """The pod's network namespace (`Sandbox.netns_path`); None: connect from the agent's own
    namespace (hostNetwork pods)."""
    pod_ip: str = ""
    """Default host of httpGet/tcpSocket probes ('' : 127.0.0.1, which inside the pod's
    namespace is the pod itself; pods without a network have only `lo`)."""
    ports: Mapping[str, int] = field(default_factory=dict)
    """The container's named ports, for probes that give `port: http`."""

    @staticmethod
    def named_ports(container: Mapping[str, Any]) -> dict[str, int]:
        """`ports` for a container spec: its ports that have a name."""
        return {
            str(p["name"]): int(p["containerPort"])
            for p in container.get("ports") or []
            if p.get("name") and p.get("containerPort")
        }


@dataclass(frozen=True)
class ProbeResult:
    success: bool
    message: str = ""
    """Why it failed (or what it warned about), for the pod's Events."""


def _seconds(probe: Mapping[str, Any], key: str, default: float, minimum: float) -> float:
    """A timing field; Kubernetes ints, floats accepted (tests), unset or below `minimum` is `default`."""
    value = probe.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        return default
    return float(value)


def _count(probe: Mapping[str, Any], key: str, default: int) -> int:
    value = probe.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return default
    return value


@dataclass(frozen=True)
class ProbeTiming:
    initial_delay: float = 0.0
    period: float = 10.0
    timeout: float = 1.0
    success_threshold: int = 1
    failure_threshold: int = 3

    @classmethod
    def from_probe(cls, probe: Mapping[str, Any], kind: ProbeKind) -> ProbeTiming:
        """Kubernetes defaults for unset (or zero) fields; liveness and startup need one success."""
        success = _count(probe, "successThreshold", 1)
        if kind is not ProbeKind.READINESS:
            success = 1
        return cls(
            initial_delay=_seconds(probe, "initialDelaySeconds", 0.0, 0.0),
            period=_seconds(probe, "periodSeconds", 10.0, 1e-3),
            timeout=_seconds(probe, "timeoutSeconds", 1.0, 1e-3),
            success_threshold=success,
            failure_threshold=_count(probe, "failureThreshold", 3),
        )
