"""The message tables are whole and consistent: every type resolves and every kind is covered."""

from __future__ import annotations

import re

import pytest

from edgekube.api.protobuf.bodies import ANY_VERSION_KINDS, KINDS
from edgekube.api.protobuf.fields import SCALARS, SPECIALS, fields_of, parse_type
from edgekube.api.protobuf.messages import MESSAGES
from edgekube.resources.registry import default_registry

JSON_NAME = re.compile(r"^[a-z][A-Za-z0-9]*$")


@pytest.mark.parametrize("message", sorted(MESSAGES))
def test_message_compiles(message: str) -> None:
    """Every field's type parses and names a scalar, a special or a message in the table."""
    fields = fields_of(message)
    assert fields, f"{message} has no fields"
    for field in fields.values():
        assert field.base in SCALARS or field.base in SPECIALS or field.base in MESSAGES


@pytest.mark.parametrize("message", sorted(MESSAGES))
def test_json_names_are_unique_after_inlining(message: str) -> None:
    """No two fields land on the same JSON key, counting the fields of inlined structs."""
    seen: list[str] = []
    for field in fields_of(message).values():
        if field.inline:
            seen += [f.json for f in fields_of(field.base).values()]
        else:
            seen.append(field.json)
    assert len(seen) == len(set(seen)), sorted(n for n in seen if seen.count(n) > 1)
    # Go's JSON names are lowerCamel; the one exception upstream is DaemonEndpoint.Port.
    assert all(JSON_NAME.match(name) or name == "Port" for name in seen), seen


def test_every_served_kind_has_a_message() -> None:
    """Each kind the registry serves can be read from protobuf."""
    served = {
        (s.kind.group + "/" + s.kind.version if s.kind.group else s.kind.version, s.kind.kind)
        for s in default_registry()
    }
    assert served <= KINDS.keys(), sorted(served - KINDS.keys())
    assert all(message in MESSAGES for message in [*KINDS.values(), *ANY_VERSION_KINDS.values()])


def test_every_message_is_reachable() -> None:
    """The table holds no message that no kind uses (dead data hides mistakes)."""
    reached: set[str] = set()
    todo = [*KINDS.values(), *ANY_VERSION_KINDS.values()]
    while todo:
        message = todo.pop()
        if message in reached:
            continue
        reached.add(message)
        todo += [f.base for f in fields_of(message).values() if f.base in MESSAGES]
    assert reached == set(MESSAGES)


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("[]*core.v1.Container", "list or map of pointers"),
        ("core.v1.NoSuchThing", "unknown type"),
        ("float", "unknown type"),
    ],
)
def test_bad_type_strings_are_rejected(spec: str, why: str) -> None:
    """A typo in the table fails when the message is compiled, not when a body arrives."""
    with pytest.raises(ValueError, match=why):
        parse_type(1, "x", spec)


def test_only_messages_can_be_inlined() -> None:
    """An inlined field must be a plain embedded message."""
    with pytest.raises(ValueError, match="inlined"):
        parse_type(1, "", "string")
