"""ServiceAccount rules: the shared metadata checks and the SECRETS count."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.resources.kinds.serviceaccounts import STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 1, 0, 3, tzinfo=UTC)


def _sa(**fields: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": "builder",
            "namespace": "default",
            "creationTimestamp": "2024-01-01T00:00:00Z",
        },
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "count"),
    [({}, 0), ({"secrets": [{"name": "a"}, {"name": "b"}]}, 2), ({"secrets": "x"}, 0)],
)
def test_row(fields: Obj, count: int) -> None:
    """NAME SECRETS AGE."""
    assert STRATEGY.row(_sa(**fields), NOW) == ["builder", count, "3m"]
    assert [c.name for c in STRATEGY.columns] == ["Name", "Secrets", "Age"]


def test_validate_name() -> None:
    """Names are DNS subdomains and a namespace is required."""
    sa = _sa()
    sa["metadata"] = {"name": "Builder"}
    assert [c.field for c in STRATEGY.validate(sa)] == ["metadata.name", "metadata.namespace"]
