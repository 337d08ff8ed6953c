"""Parsing `labelSelector` text: accepted forms, canonical strings, and errors."""

from __future__ import annotations

import pytest

from edgekube.errors import BadRequest
from edgekube.resources.selectors import Operator, Requirement, parse_label_selector


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", ""),
        ("   ", ""),
        ("app=web", "app=web"),
        ("app==web", "app=web"),
        ("app!=web", "app!=web"),
        ("app=", "app="),
        ("app!=", "app!="),
        ("app", "app"),
        ("!app", "!app"),
        ("tier in (b,a)", "tier in (a,b)"),
        ("tier notin (x)", "tier notin (x)"),
        ("tier in (a,a)", "tier in (a)"),
        ("tier in ()", "tier in ()"),
        ("tier in (a,)", "tier in (,a)"),
        ("tier in (,a)", "tier in (,a)"),
        (" tier   in(a , b ) , app = web ", "app=web,tier in (a,b)"),
        ("z,!y,x=1", "x=1,!y,z"),
        ("example.com/role=db", "example.com/role=db"),
        ("in in (in,notin)", "in in (in,notin)"),
        ("a=b,a!=c", "a!=c,a=b"),
    ],
)
def test_canonical_form(text: str, canonical: str) -> None:
    """Each accepted form prints canonically: sorted by key, values sorted, `==` as `=`."""
    assert str(parse_label_selector(text)) == canonical


@pytest.mark.parametrize(
    "canonical",
    ["app=web,tier in (a,b)", "!a,b,c notin (,x)", "a=", "k8s.io/x!=y"],
)
def test_canonical_form_parses_back(canonical: str) -> None:
    """The canonical string parses to the same selector."""
    selector = parse_label_selector(canonical)
    assert parse_label_selector(str(selector)) == selector


def test_requirements_are_structured() -> None:
    """The parsed requirements carry key, operator and sorted values."""
    selector = parse_label_selector("tier in (b,a),!gone")
    assert selector.requirements == (
        Requirement("gone", Operator.DOES_NOT_EXIST),
        Requirement("tier", Operator.IN, ("a", "b")),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a in x", "unable to parse requirement: found 'x', expected: '(' (at position 5)"),
        ("a=b=c", "found '=', expected: ',' or end of string (at position 3)"),
        ("a=b c", "found 'c', expected: ',' or end of string (at position 4)"),
        ("a,", "found end of string, expected: identifier after ',' (at position 2)"),
        (",a", "found ',', expected: !, identifier, or end of string (at position 0)"),
        ("a in (x y)", "found 'y', expected: ',' or ')' (at position 8)"),
        ("a in (x", "found end of string, expected: ',', ')' or identifier (at position 7)"),
        ("a in (x=)", "found '=', expected: ',', ')' or identifier (at position 7)"),
        ("a (x)", "found '(', expected: '=', '!=', '==', 'in', 'notin' (at position 2)"),
        ("a = (", "found '(', expected: identifier (at position 4)"),
        ("!", "found end of string, expected: identifier (at position 1)"),
        ("!a=b", "found '=', expected: ',' or end of string (at position 2)"),
        ("A@=b", 'invalid label key "A@": name part must consist'),
        ("/a=b", 'invalid label key "/a": prefix part must be non-empty'),
        ("a=b@", 'invalid label value: "b@": at key: "a": a valid label must'),
        ("a in (ok,-bad)", 'invalid label value: "-bad": at key: "a"'),
        ("a=" + "x" * 64, "must be no more than 63 characters"),
    ],
)
def test_errors_name_problem_and_position(text: str, message: str) -> None:
    """Bad text is a 400 whose message says what was found, what was expected, and where."""
    with pytest.raises(BadRequest) as caught:
        parse_label_selector(text)
    assert message in caught.value.message
    assert caught.value.code == 400
