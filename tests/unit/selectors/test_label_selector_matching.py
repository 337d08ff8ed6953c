"""Matching label selectors against object labels, with Kubernetes semantics."""

from __future__ import annotations

import pytest

from edgekube.resources.selectors import (
    LabelSelector,
    label_selector_from_set,
    parse_label_selector,
)

WEB = {"app": "web", "tier": "front"}


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("", None, True),
        ("", WEB, True),
        ("app=web", WEB, True),
        ("app=db", WEB, False),
        ("app=web", None, False),
        ("app!=db", WEB, True),
        ("app!=web", WEB, False),
        ("missing!=x", WEB, True),
        ("app", WEB, True),
        ("missing", WEB, False),
        ("!missing", WEB, True),
        ("!app", WEB, False),
        ("tier in (front,back)", WEB, True),
        ("tier in (back)", WEB, False),
        ("missing in (x)", WEB, False),
        ("tier notin (front)", WEB, False),
        ("tier notin (back)", WEB, True),
        ("missing notin (x)", WEB, True),
        ("app=web,tier=front", WEB, True),
        ("app=web,tier=back", WEB, False),
        ("empty=", {"empty": ""}, True),
        ("empty=", {}, False),
        ("empty in ()", {"empty": ""}, True),
    ],
)
def test_matches(text: str, labels: dict[str, str] | None, expected: bool) -> None:
    """`!=` and `notin` match absent labels; everything else needs the label present."""
    assert parse_label_selector(text).matches(labels) is expected


@pytest.mark.parametrize(("text", "empty"), [("", True), (" ", True), ("a", False)])
def test_empty(text: str, empty: bool) -> None:
    """Only a selector without requirements is empty (and matches everything)."""
    assert parse_label_selector(text).empty is empty


def test_default_selector_is_empty() -> None:
    """`LabelSelector()` has no requirements and matches anything."""
    assert LabelSelector().empty and LabelSelector().matches({"x": "y"})


def test_selector_from_set() -> None:
    """A plain map becomes an equality selector with the canonical form."""
    selector = label_selector_from_set({"tier": "front", "app": "web"})
    assert str(selector) == "app=web,tier=front"
    assert selector.matches(WEB) and not selector.matches({"app": "web"})
