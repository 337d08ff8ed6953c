"""Resource quantities: parsing, and the requests/limits checks built on them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from edgekube.resources.kinds.pod_quantities import is_quantity, parse_quantity
from edgekube.resources.kinds.pod_resources import validate_resources


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100m", Decimal("0.1")),
        ("1", Decimal(1)),
        ("0.5", Decimal("0.5")),
        (".5", Decimal("0.5")),
        ("128Mi", Decimal(128 * 1024**2)),
        ("1Ki", Decimal(1024)),
        ("2Gi", Decimal(2 * 1024**3)),
        ("1G", Decimal(10**9)),
        ("1k", Decimal(1000)),
        ("1e3", Decimal(1000)),
        ("1E3", Decimal(1000)),
        ("5e-3", Decimal("0.005")),
        ("1E", Decimal(10**18)),
        ("250u", Decimal("0.00025")),
        ("10n", Decimal("0.00000001")),
        ("-1", Decimal(-1)),
        ("+2", Decimal(2)),
        (2, Decimal(2)),
        (0.25, Decimal("0.25")),
    ],
)
def test_parse_quantity(text: Any, expected: Decimal) -> None:
    """Each suffix and number form scales to the exact amount."""
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "1Mb", "1.2.3", "Mi", "1 Mi", "1e", "1KI", "1ki", "--1", True, None, [1]])
def test_parse_quantity_refuses(text: Any) -> None:
    """Strings that are not quantities, and non-numbers, raise ValueError."""
    with pytest.raises(ValueError, match="quantities must match the regular expression"):
        parse_quantity(text)
    assert not is_quantity(text)


def test_huge_exponent_is_not_a_quantity() -> None:
    """An exponent beyond what a decimal can hold is refused, not crashed on."""
    assert not is_quantity("1e99999999999")


def test_equal_amounts_compare_equal() -> None:
    """Different spellings of one amount are equal (decimal, not float)."""
    assert parse_quantity("0.1") + parse_quantity("0.2") == parse_quantity("300m")
    assert parse_quantity("1024Ki") == parse_quantity("1Mi")


@pytest.mark.parametrize(
    ("resources", "field", "message"),
    [
        (
            {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}},
            "r.requests[cpu]",
            'Invalid value: "2": must be less than or equal to cpu limit of 1',
        ),
        (
            {"requests": {"memory": "1Gi"}, "limits": {"memory": "512Mi"}},
            "r.requests[memory]",
            'Invalid value: "1Gi": must be less than or equal to memory limit of 512Mi',
        ),
        ({"limits": {"cpu": "lots"}}, "r.limits[cpu]", "quantities must match"),
        ({"requests": {"cpu": "-1"}}, "r.requests[cpu]", "must be greater than or equal to 0"),
        ({"requests": {"gpu": "1"}}, "r.requests[gpu]", "must be a standard resource for containers"),
        (
            {"requests": {"example.com/gpu": "1"}, "limits": {"example.com/gpu": "2"}},
            "r.requests[example.com/gpu]",
            "must be equal to example.com/gpu limit of 2",
        ),
        ({"requests": {"example.com/gpu": "1"}}, "r.limits[example.com/gpu]", "Limit must be set"),
        ({"limits": {"example.com/gpu": "500m"}}, "r.limits[example.com/gpu]", "must be an integer"),
    ],
)
def test_resource_problems(resources: dict[str, Any], field: str, message: str) -> None:
    """Each bad amount or name is reported at its key's path."""
    causes = validate_resources(resources, "r")
    assert any(c.field == field and message in c.message for c in causes), causes


@pytest.mark.parametrize(
    "resources",
    [
        {},
        {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "64Mi"}},
        {"requests": {"cpu": "0.5"}, "limits": {"cpu": "500m"}},
        {"limits": {"hugepages-2Mi": "2Mi", "ephemeral-storage": "1G"}},
        {"requests": {"example.com/gpu": 1}, "limits": {"example.com/gpu": "1"}},
    ],
)
def test_valid_resources(resources: dict[str, Any]) -> None:
    """Well-formed requests within their limits pass."""
    assert validate_resources(resources, "r") == []
