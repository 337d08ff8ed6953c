"""Choosing between aggregated and legacy discovery from the Accept header."""

from __future__ import annotations

import pytest

from edgekube.api.discovery import aggregated_media_type, negotiate
from edgekube.api.media import parse_accept
from edgekube.errors import NotAcceptable

V2 = aggregated_media_type("v2")
V2BETA1 = aggregated_media_type("v2beta1")
KUBECTL = f"{V2},{V2BETA1},application/json"
JSON = "application/json"


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        ("application/json", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (KUBECTL, V2),
        (f"{V2BETA1},{JSON}", V2BETA1),
        (f"{JSON},{V2}", JSON),
        (f"{JSON};q=0.5,{V2}", V2),
        (f"{V2};q=0,{JSON}", JSON),
        ("application/json; g=apidiscovery.k8s.io; v=v2; as=APIGroupDiscoveryList", V2),
        ('application/json;g="apidiscovery.k8s.io";v="v2";as="APIGroupDiscoveryList"', V2),
        ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,*/*", JSON),
        ("application/json;as=Table;g=meta.k8s.io;v=v1,application/json", JSON),
        (
            "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
            f"{V2},{JSON}",
            V2,
        ),
        ("text/html,application/json;q=0.9", JSON),
        ("application/json;q=bogus,*/*;q=0.1", JSON),
    ],
)
def test_negotiate(accept: str | None, chosen: str) -> None:
    """The highest-q range this server can answer wins; ties go to the earliest."""
    assert negotiate(accept) == chosen


@pytest.mark.parametrize(
    "accept",
    ["application/yaml", "application/vnd.kubernetes.protobuf", "application/json;q=0", "junk"],
)
def test_nothing_acceptable(accept: str) -> None:
    """An Accept header with nothing this server speaks is a 406 listing what it does."""
    with pytest.raises(NotAcceptable, match="application/json"):
        negotiate(accept)


def test_parse_accept_keeps_params_and_q() -> None:
    """Parameters are parsed per range, names lower-cased, `q` split out."""
    [first, second] = parse_accept("Application/JSON;AS=Table;q=0.3, */*")
    assert (first.type, first.params, first.q) == ("application/json", {"as": "Table"}, 0.3)
    assert (second.type, second.params, second.q) == ("*/*", {}, 1.0)
