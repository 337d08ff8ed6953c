"""Selectors in objects (`matchLabels` + `matchExpressions`): conversion and validation."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.resources.selectors import (
    InvalidSelector,
    label_selector_from_object,
    validate_label_selector_object,
)


@pytest.mark.parametrize(
    ("spec", "canonical"),
    [
        ({}, ""),
        ({"matchLabels": {"app": "web"}}, "app=web"),
        ({"matchLabels": None, "matchExpressions": None}, ""),
        (
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["b", "a"]},
                    {"key": "env", "operator": "NotIn", "values": ["dev"]},
                    {"key": "gpu", "operator": "Exists"},
                    {"key": "old", "operator": "DoesNotExist", "values": []},
                ],
            },
            "app=web,env notin (dev),gpu,!old,tier in (a,b)",
        ),
    ],
)
def test_object_to_canonical(spec: dict[str, Any], canonical: str) -> None:
    """Each operator converts; the result prints as Scale's `status.selector` shows it."""
    assert str(label_selector_from_object(spec)) == canonical


def test_object_selector_matches() -> None:
    """An object selector matches like its text form."""
    selector = label_selector_from_object(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}],
        }
    )
    assert selector.matches({"app": "web"})
    assert not selector.matches({"app": "web", "canary": "1"})


@pytest.mark.parametrize(
    ("spec", "causes"),
    [
        ({"matchLabels": {"app": "web"}}, []),
        ("app=web", [("FieldValueInvalid", "spec.selector")]),
        ({"matchLabels": {"a@": "x"}}, [("FieldValueInvalid", "spec.selector.matchLabels")]),
        ({"matchLabels": {"a": "x y"}}, [("FieldValueInvalid", "spec.selector.matchLabels")]),
        ({"matchExpressions": {}}, [("FieldValueInvalid", "spec.selector.matchExpressions")]),
        ({"matchExpressions": ["x"]}, [("FieldValueInvalid", "spec.selector.matchExpressions[0]")]),
        (
            {"matchExpressions": [{"key": "a", "operator": "In"}]},
            [("FieldValueRequired", "spec.selector.matchExpressions[0].values")],
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "NotIn", "values": []}]},
            [("FieldValueRequired", "spec.selector.matchExpressions[0].values")],
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            [("FieldValueForbidden", "spec.selector.matchExpressions[0].values")],
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
            [("FieldValueNotSupported", "spec.selector.matchExpressions[0].operator")],
        ),
        (
            {"matchExpressions": [{"operator": "Exists"}]},
            [("FieldValueRequired", "spec.selector.matchExpressions[0].key")],
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": ["ok", 3, "b@d"]}]},
            [
                ("FieldValueInvalid", "spec.selector.matchExpressions[0].values[1]"),
                ("FieldValueInvalid", "spec.selector.matchExpressions[0].values[2]"),
            ],
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": "x"}]},
            [("FieldValueInvalid", "spec.selector.matchExpressions[0].values")],
        ),
    ],
)
def test_validation_causes(spec: Any, causes: list[tuple[str, str]]) -> None:
    """Every problem is one cause with its reason and the full field path."""
    found = validate_label_selector_object(spec, "spec.selector")
    assert [(c.reason, c.field) for c in found] == causes


def test_messages_explain_operator_rules() -> None:
    """The In/NotIn and Exists/DoesNotExist rules say which operator needs what."""
    [needs] = validate_label_selector_object(
        {"matchExpressions": [{"key": "a", "operator": "In"}]}, "s"
    )
    [forbids] = validate_label_selector_object(
        {"matchExpressions": [{"key": "a", "operator": "DoesNotExist", "values": ["x"]}]}, "s"
    )
    assert "'In' or 'NotIn'" in needs.message
    assert "'Exists' or 'DoesNotExist'" in forbids.message


def test_invalid_object_raises_value_error_with_causes() -> None:
    """Conversion of an invalid selector raises a ValueError carrying the causes."""
    with pytest.raises(InvalidSelector) as caught:
        label_selector_from_object({"matchExpressions": [{"key": "a", "operator": "In"}]})
    assert isinstance(caught.value, ValueError)
    assert [c.field for c in caught.value.causes] == ["matchExpressions[0].values"]
