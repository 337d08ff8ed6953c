"""A pod's requests: containers summed, init containers' peak, sidecars, overhead, non-zero defaults."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.scheduler.amounts import DEFAULT_MEMORY_BYTES, pod_requests, to_int

MI = 1024 * 1024


def c(cpu: str | None = None, memory: str | None = None, **extra: Any) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    return {"name": "c", "resources": {"requests": requests}, **extra}


@pytest.mark.parametrize(
    ("spec", "cpu", "memory", "nonzero"),
    [
        pytest.param({"containers": [c("100m", "64Mi"), c("200m", "64Mi")]}, 300, 128 * MI, (300, 128 * MI),
                     id="containers-add-up"),
        pytest.param({"containers": [c("100m"), c("200m")], "initContainers": [c("500m"), c("50m")]}, 500, 0,
                     (500, 2 * DEFAULT_MEMORY_BYTES), id="biggest-init-wins"),
        pytest.param({"containers": [c("1")], "initContainers": [c("500m")]}, 1000, 0,
                     (1000, DEFAULT_MEMORY_BYTES), id="containers-win"),
        pytest.param(
            {"containers": [c("1")], "initContainers": [c("200m", restartPolicy="Always"), c("1100m")]},
            # cpu: the app with its sidecar 1000 + 200 = 1200; the init step 1100 + 200 = 1300.
            # non-zero memory: app + sidecar 200Mi + 200Mi; init step 200Mi + 200Mi -> 400Mi.
            1300, 0, (1300, 2 * DEFAULT_MEMORY_BYTES), id="sidecar-runs-beside-later-init",
        ),
        pytest.param({"containers": [c("100m")], "overhead": {"cpu": "50m", "memory": "10Mi"}}, 150, 10 * MI,
                     (150, DEFAULT_MEMORY_BYTES + 10 * MI), id="overhead"),
        pytest.param({"containers": [c()]}, 0, 0, (100, DEFAULT_MEMORY_BYTES), id="best-effort-non-zero"),
        pytest.param({"containers": [c("0", "0")]}, 0, 0, (0, 0), id="explicit-zero-stays"),
    ],
)
def test_pod_requests(spec: dict[str, Any], cpu: int, memory: int, nonzero: tuple[int, int]) -> None:
    """Peak requests as Kubernetes computes them, and the non-zero variant used for scoring."""
    found = pod_requests(spec)
    assert (found.actual.cpu, found.actual.memory) == (cpu, memory)
    assert (found.nonzero_cpu, found.nonzero_memory) == nonzero


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("cpu", "250m", 250),
        ("cpu", "0.5m", 1),
        ("cpu", 2, 2000),
        ("cpu", "1.5", 1500),
        ("memory", "1Gi", 1024**3),
        ("memory", "1G", 10**9),
        ("memory", "0.5", 1),
        ("pods", "110", 110),
    ],
)
def test_to_int(name: str, value: Any, expected: int) -> None:
    """cpu in millicores, the rest in units, always rounded up."""
    assert to_int(name, value) == expected


def test_bad_quantity() -> None:
    """A value that is not a quantity is a ValueError, not a guess."""
    with pytest.raises(ValueError):
        to_int("cpu", "lots")
