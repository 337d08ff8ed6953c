"""NodeName: a pod that names a node fits only that node."""

from __future__ import annotations

import pytest

from edgekube.scheduler.plugins.node_name import REASON, NodeName
from edgekube.scheduler.statuses import SKIP, Code
from tests.unit.scheduler.builders import cache_of, node, pod, run_filter


@pytest.mark.parametrize(
    ("wanted", "code"),
    [
        pytest.param("n1", Code.SUCCESS, id="named-this-node"),
        pytest.param("n2", Code.UNRESOLVABLE, id="named-another-node"),
        pytest.param("", SKIP.code, id="names-none"),
    ],
)
def test_filter(wanted: str, code: Code) -> None:
    """Only the named node fits; a pod naming none skips the plugin."""
    status = run_filter(NodeName(), pod(node_name=wanted), cache_of([node("n1")]), "n1")
    assert status.code is code
    if code is Code.UNRESOLVABLE:
        assert status.reasons == (REASON,) == ("node(s) didn't match the requested node name",)
