"""Resource amounts as integers the scheduler can add up fast: millicores, bytes, counts.

Quantities arrive as strings ("250m", "1Gi") and are parsed once, when a pod or node enters
the cache, rounded up as Kubernetes' `MilliValue()`/`Value()` do ("0.5m" of cpu counts as
1m). A pod needs, at its peak, the larger of: the sum of its containers (sidecar init
containers included), or its biggest init container plus the sidecars started before it;
then the pod overhead on top. Worked example: containers 100m + 200m, init containers 500m
and 50m -> max(300m, 500m) = 500m.

For scoring only, a container that requests no cpu or memory counts as 100m / 200Mi
(Kubernetes' "non-zero" requests), so best-effort pods still spread instead of piling up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from edgekube.resources.kinds.pod_quantities import parse_quantity

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL = "ephemeral-storage"
PODS = "pods"

DEFAULT_CPU_MILLIS = 100
DEFAULT_MEMORY_BYTES = 200 * 1024 * 1024


@lru_cache(maxsize=4096)
def _parse(value: str, milli: bool) -> int:
    amount = parse_quantity(value)
    return math.ceil(amount * 1000) if milli else math.ceil(amount)


def to_int(name: str, value: Any) -> int:
    """`value` in the scheduler's unit for resource `name`; ValueError when not a quantity."""
    milli = name == CPU
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 1000 if milli else value
    if isinstance(value, str):
        return _parse(value, milli)
    amount = parse_quantity(value)
    return math.ceil(amount * 1000) if milli else math.ceil(amount)


@dataclass(slots=True)
class Amounts:
    """cpu in millicores, memory and ephemeral storage in bytes, the rest in whole units."""

    cpu: int = 0
    memory: int = 0
    ephemeral: int = 0
    scalars: dict[str, int] = field(default_factory=dict)  # extended resources, hugepages

    @property
    def empty(self) -> bool:
        return not (self.cpu or self.memory or self.ephemeral or any(self.scalars.values()))

    def add(self, other: Amounts, sign: int = 1) -> None:
        self.cpu += sign * other.cpu
        self.memory += sign * other.memory
        self.ephemeral += sign * other.ephemeral
        for name, value in other.scalars.items():
            left = self.scalars.get(name, 0) + sign * value
            if left:
                self.scalars[name] = left
            else:
                self.scalars.pop(name, None)

    @classmethod
    def of(cls, resources: Mapping[str, int]) -> Amounts:
        scalars = {k: v for k, v in resources.items() if k not in (CPU, MEMORY, EPHEMERAL, PODS)}
        return cls(resources.get(CPU, 0), resources.get(MEMORY, 0), resources.get(EPHEMERAL, 0), scalars)


def resource_map(values: Any) -> dict[str, int]:
    """A requests/limits/allocatable map as {name: int}; ValueError on a bad quantity."""
    if not isinstance(values, dict):
        return {}
    return {str(name): to_int(str(name), value) for name, value in values.items()}


@dataclass(frozen=True, slots=True)
class PodRequests:
    actual: Amounts
    nonzero_cpu: int  # what scoring counts: the request, or 100m per container without one
    nonzero_memory: int


def pod_requests(spec: Mapping[str, Any]) -> PodRequests:
    """What the pod reserves on its node, and its non-zero cpu/memory for scoring."""
    actual = _peak(spec, nonzero=False)
    nonzero = _peak(spec, nonzero=True)
    return PodRequests(Amounts.of(actual), nonzero.get(CPU, 0), nonzero.get(MEMORY, 0))


def _container_requests(container: Any, nonzero: bool) -> dict[str, int]:
    resources = container.get("resources") if isinstance(container, dict) else None
    found = resource_map(resources.get("requests")) if isinstance(resources, dict) else {}
    if nonzero:
        # Only a missing request is replaced; an explicit 0 stays 0, as in Kubernetes.
        found.setdefault(CPU, DEFAULT_CPU_MILLIS)
        found.setdefault(MEMORY, DEFAULT_MEMORY_BYTES)
    return found


def _add(into: dict[str, int], more: Mapping[str, int]) -> None:
    for name, value in more.items():
        into[name] = into.get(name, 0) + value


def _max(into: dict[str, int], other: Mapping[str, int]) -> None:
    for name, value in other.items():
        if value > into.get(name, 0):
            into[name] = value


def _peak(spec: Mapping[str, Any], *, nonzero: bool) -> dict[str, int]:
    total: dict[str, int] = {}
    for container in spec.get("containers") or ():
        _add(total, _container_requests(container, nonzero))
    sidecars: dict[str, int] = {}
    init_peak: dict[str, int] = {}
    for container in spec.get("initContainers") or ():
        own = _container_requests(container, nonzero)
        if isinstance(container, dict) and container.get("restartPolicy") == "Always":
            # A sidecar keeps running next to the app containers and later init containers.
            _add(total, own)
            _add(sidecars, own)
            _max(init_peak, sidecars)
        else:
            step = dict(own)
            _add(step, sidecars)
            _max(init_peak, step)
    _max(total, init_peak)
    _add(total, resource_map(spec.get("overhead")))
    return total
