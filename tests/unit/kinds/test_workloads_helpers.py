"""Workload helpers: selector display and matching, and int-or-percent arithmetic."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.resources.kinds.workload_intstr import scaled_value, validate_int_or_percent
from edgekube.resources.kinds.workload_selectors import (
    format_label_selector,
    format_labels,
    selector_matches,
)


@pytest.mark.parametrize(
    ("selector", "shown"),
    [
        ({"matchLabels": {"app": "web"}}, "app=web"),
        ({"matchLabels": {"tier": "front", "app": "web"}}, "app=web,tier=front"),
        (
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
            },
            "app=web,tier in (a,b)",
        ),
        ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}, "env notin (dev)"),
        ({"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}, "gpu"),
        ({"matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]}, "!canary"),
        ({}, "<none>"),
        (None, "<none>"),
        ({"matchExpressions": [{"key": "a", "operator": "Near"}]}, "<error>"),
    ],
)
def test_format_label_selector(selector: Any, shown: str) -> None:
    """Selectors render as kubectl's SELECTOR column shows them."""
    assert format_label_selector(selector) == shown


@pytest.mark.parametrize(
    ("labels", "shown"),
    [({"b": "2", "a": "1"}, "a=1,b=2"), ({}, "<none>"), (None, "<none>")],
)
def test_format_labels(labels: Any, shown: str) -> None:
    """Label maps render sorted by key, `<none>` when empty."""
    assert format_labels(labels) == shown


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ({"matchLabels": {"app": "web"}}, {"app": "web", "x": "y"}, True),
        ({"matchLabels": {"app": "web"}}, {"app": "api"}, False),
        ({"matchExpressions": [{"key": "t", "operator": "In", "values": ["a"]}]}, {"t": "a"}, True),
        ({"matchExpressions": [{"key": "t", "operator": "NotIn", "values": ["a"]}]}, {}, True),
        ({"matchExpressions": [{"key": "t", "operator": "DoesNotExist"}]}, {"t": "a"}, False),
        ({}, {"app": "web"}, False),
        (None, {"app": "web"}, False),
        ({"matchExpressions": [{"key": "t", "operator": "Bogus"}]}, {"t": "a"}, False),
    ],
)
def test_selector_matches(selector: Any, labels: Any, matches: bool) -> None:
    """Valid, non-empty selectors match as Kubernetes does; anything else matches nothing."""
    assert selector_matches(selector, labels) is matches


@pytest.mark.parametrize(
    ("value", "total", "round_up", "expected"),
    [
        ("25%", 10, True, 3),
        ("25%", 10, False, 2),
        ("100%", 7, False, 7),
        ("0%", 10, True, 0),
        (3, 10, True, 3),
        ("50%", 1, True, 1),
        ("50%", 1, False, 0),
    ],
)
def test_scaled_value(value: Any, total: int, round_up: bool, expected: int) -> None:
    """Percentages scale by the total and round as asked; counts stay as they are."""
    assert scaled_value(value, total, round_up=round_up) == expected


@pytest.mark.parametrize(
    ("value", "valid"),
    [("25%", True), (0, True), (5, True), ("5", False), ("5.5%", False), (-1, False), (1.5, False), (True, False)],
)
def test_int_or_percent(value: Any, valid: bool) -> None:
    """Only non-negative integers and "N%" strings are accepted."""
    assert (validate_int_or_percent(value, "f") == []) is valid
