"""Endpoints rules: address and port validation, protocol default, the ENDPOINTS cell."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.errors import Cause
from edgekube.resources.kinds.endpoints import STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC)


def _ep(*subsets: dict[str, Any]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "creationTimestamp": "2024-01-01T00:00:00Z",
        },
        "subsets": list(subsets),
    }


def _subset(*ips: str, ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    subset: dict[str, Any] = {"addresses": [{"ip": ip} for ip in ips]}
    if ports is not None:
        subset["ports"] = ports
    return subset


def _create(obj: Obj) -> tuple[Obj, list[Cause]]:
    obj = copy.deepcopy(obj)
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    return obj, STRATEGY.validate(obj)


def test_protocol_defaults_to_tcp() -> None:
    """A port without protocol gets TCP; an explicit one is kept."""
    created, causes = _create(_ep(_subset("10.42.0.5", ports=[
        {"name": "a", "port": 80}, {"name": "b", "port": 53, "protocol": "UDP"},
    ])))
    assert causes == []
    assert [p["protocol"] for p in created["subsets"][0]["ports"]] == ["TCP", "UDP"]


@pytest.mark.parametrize(
    ("subset", "field", "message"),
    [
        ({"ports": [{"port": 80}]}, "subsets[0]",
         "must specify `addresses` or `notReadyAddresses`"),
        (_subset("10.42.0.300"), "subsets[0].addresses[0].ip", "must be a valid IP address"),
        (_subset("127.0.0.1"), "subsets[0].addresses[0].ip", "loopback"),
        (_subset("0.0.0.0"), "subsets[0].addresses[0].ip", "unspecified"),
        (_subset("169.254.1.1"), "subsets[0].addresses[0].ip", "link-local"),
        ({"notReadyAddresses": [{"ip": "x"}]}, "subsets[0].notReadyAddresses[0].ip",
         "must be a valid IP address"),
        (_subset("10.42.0.5", ports=[{"port": 0}]), "subsets[0].ports[0].port",
         "must be between 1 and 65535"),
        (_subset("10.42.0.5", ports=[{"port": 80, "protocol": "ICMP"}]),
         "subsets[0].ports[0].protocol", 'Unsupported value: "ICMP"'),
        (_subset("10.42.0.5", ports=[{"port": 80}, {"port": 81}]), "subsets[0].ports[0].name",
         "Required value"),
        ({"addresses": [{"ip": "10.42.0.5", "hostname": "Web_1"}]},
         "subsets[0].addresses[0].hostname", "RFC 1123 label"),
    ],
)
def test_invalid(subset: dict[str, Any], field: str, message: str) -> None:
    """Addresses are routable IPs; ports are numbered, named when several, TCP/UDP/SCTP."""
    _, causes = _create(_ep(subset))
    assert any(c.field == field and message in c.message for c in causes), causes


@pytest.mark.parametrize(
    ("subsets", "cell"),
    [
        ([], "<none>"),
        ([{"notReadyAddresses": [{"ip": "10.42.0.9"}], "ports": [{"port": 80}]}], "<none>"),
        ([_subset("10.42.0.5", "10.42.0.6", ports=[{"port": 80}])],
         "10.42.0.5:80,10.42.0.6:80"),
        ([_subset("10.42.0.5", "10.42.0.6", ports=[{"name": "a", "port": 80},
                                                   {"name": "b", "port": 443}])],
         "10.42.0.5:80,10.42.0.6:80,10.42.0.5:443 + 1 more..."),
        ([_subset("10.42.0.1", "10.42.0.2"), _subset("10.42.0.3", "10.42.0.4", "10.42.0.5")],
         "10.42.0.1,10.42.0.2,10.42.0.3 + 2 more..."),
        ([_subset("fd00::5", ports=[{"port": 80}])], "[fd00::5]:80"),
    ],
)
def test_endpoints_cell(subsets: list[dict[str, Any]], cell: str) -> None:
    """Ready address:port pairs, the first three, then "+ N more..." as kubectl prints."""
    created, _ = _create(_ep(*subsets))
    assert STRATEGY.row(created, NOW) == ["web", cell, "30s"]


def test_wrong_types_do_not_crash() -> None:
    """Malformed subsets are skipped by the rules, not raised on."""
    for subsets in ("x", [1, None], [{"addresses": "x", "ports": [None, {"port": "80"}]}]):
        obj = _ep()
        obj["subsets"] = subsets
        _create(obj)
        STRATEGY.row(obj, NOW)
