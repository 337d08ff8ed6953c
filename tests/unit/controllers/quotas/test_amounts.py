"""Quota arithmetic: canonical quantity text, pod totals, and what counts at all."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from edgekube.controllers.quotas.counting import canonical
from edgekube.service.quota_amounts import format_quantity, is_bytes
from edgekube.service.quota_pods import pod_counts, pod_totals
from tests.unit.controllers.quotas.objects import container, pod


@pytest.mark.parametrize(
    ("amount", "binary", "text"),
    [
        ("0", False, "0"),
        ("0.5", False, "500m"),
        ("2", False, "2"),
        ("1500", False, "1500"),
        ("2000", False, "2k"),
        ("1000000", False, "1M"),
        ("0.0001", False, "100u"),
        ("1E-10", False, "1n"),
        ("536870912", True, "512Mi"),
        ("1073741824", True, "1Gi"),
        ("1610612736", True, "1536Mi"),
        ("500000000", True, "500M"),
        ("1000", True, "1k"),
    ],
)
def test_format_quantity(amount: str, binary: bool, text: str) -> None:
    """The largest suffix that keeps the number whole; binary only where it divides evenly."""
    assert format_quantity(Decimal(amount), binary=binary) == text


@pytest.mark.parametrize(
    ("name", "raw", "text"),
    [
        ("requests.cpu", "2000m", "2"),
        ("requests.memory", "1024Mi", "1Gi"),
        ("memory", "1G", "1G"),
        ("pods", 10, "10"),
        ("requests.cpu", "1Ki", "1Ki"),
    ],
)
def test_canonical_limits(name: str, raw: Any, text: str) -> None:
    """status.hard echoes spec.hard as Kubernetes would print it."""
    assert canonical(name, raw) == text


def test_byte_names() -> None:
    """Memory and storage count bytes, cpu and counts do not."""
    assert [is_bytes(n) for n in ("limits.memory", "requests.storage", "hugepages-2Mi", "cpu", "pods")] == [
        True, True, True, False, False,
    ]


def test_overhead_adds_to_requests_and_existing_limits() -> None:
    """spec.overhead adds to every request, and only to the limits the pod has."""
    spec = pod("p", container(requests={"cpu": "1", "memory": "1Gi"}, limits={"cpu": "2"}),
               overhead={"cpu": "100m", "memory": "64Mi"})["spec"]
    assert pod_totals(spec, "requests") == {"cpu": Decimal("1.1"), "memory": Decimal(1024 + 64) * 1024 * 1024}
    assert pod_totals(spec, "limits") == {"cpu": Decimal("2.1")}


def test_sidecars_count_in_both_phases() -> None:
    """The module's worked example: init 2, sidecar 100m, init 1, apps 500m + 200m -> 2."""
    spec = pod(
        "p",
        container("web", requests={"cpu": "500m"}),
        container("log", requests={"cpu": "200m"}),
        init=[
            container("migrate", requests={"cpu": "2"}),
            container("proxy", requests={"cpu": "100m"}, restartPolicy="Always"),
            container("warm", requests={"cpu": "1"}),
        ],
    )["spec"]
    assert pod_totals(spec, "requests") == {"cpu": Decimal(2)}


@pytest.mark.parametrize(
    ("status", "meta", "counts"),
    [
        ({"phase": "Running"}, {}, True),
        ({"phase": "Pending"}, {}, True),
        ({"phase": "Succeeded"}, {}, False),
        ({"phase": "Failed"}, {}, False),
        ({"phase": "Running"}, {"deletionTimestamp": "2024-01-01T00:00:00Z"}, False),
    ],
)
def test_which_pods_count(status: dict[str, str], meta: dict[str, str], counts: bool) -> None:
    """Finished pods and pods being deleted charge nothing."""
    obj = pod()
    obj["status"] = status
    obj["metadata"].update(meta)
    assert pod_counts(obj) is counts
