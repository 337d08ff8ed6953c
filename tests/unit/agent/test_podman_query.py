"""Query parameters of libpod API calls, as `podman_streams.query_items` spells them."""

from __future__ import annotations

from typing import Any

import pytest

from agent.runtime.podman_streams import query_items

CASES: list[tuple[str, dict[str, Any] | None, list[tuple[str, str]]]] = [
    ("none", None, []),
    ("booleans lower case", {"force": True, "v": False}, [("force", "true"), ("v", "false")]),
    ("numbers as text", {"timeout": 0, "w": 80}, [("timeout", "0"), ("w", "80")]),
    ("list repeats the key", {"containers": ["a", "b"]}, [("containers", "a"), ("containers", "b")]),
    ("None left out", {"tail": None, "all": True}, [("all", "true")]),
    ("text unchanged", {"reference": "localhost/busybox:latest"}, [("reference", "localhost/busybox:latest")]),
]


@pytest.mark.parametrize(("case", "params", "expected"), CASES, ids=[c[0] for c in CASES])
def test_query_items(case: str, params: dict[str, Any] | None, expected: list[tuple[str, str]]) -> None:
    """Each kind of value becomes the query pairs libpod parses."""
    assert query_items(params) == expected
