"""EndpointSlice rules: address types, addresses of that type, ports, defaults, the table."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from edgekube.errors import Cause
from edgekube.resources.kinds.endpointslices import KIND, STRATEGY
from edgekube.resources.objects import Obj

NOW = datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC)


def _slice(address_type: Any = "IPv4", endpoints: Any = None, ports: Any = None) -> Obj:
    obj: Obj = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "web-abcde", "namespace": "default", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "addressType": address_type,
        "endpoints": endpoints if endpoints is not None else [{"addresses": ["10.42.0.5"]}],
    }
    if ports is not None:
        obj["ports"] = ports
    return obj


def _create(obj: Obj) -> tuple[Obj, list[Cause]]:
    obj = copy.deepcopy(obj)
    STRATEGY.prepare_for_create(obj)
    STRATEGY.default(obj)
    return obj, STRATEGY.validate(obj)


def test_kind() -> None:
    """Served as discovery.k8s.io/v1 endpointslices, namespaced, without short names."""
    assert (KIND.api_version, KIND.plural, KIND.namespaced, KIND.short_names) == (
        "discovery.k8s.io/v1",
        "endpointslices",
        True,
        (),
    )


def test_port_defaults() -> None:
    """Ports get an empty name and TCP, as Kubernetes stores them; given values are kept."""
    created, causes = _create(_slice(ports=[{"port": 80}, {"name": "dns", "port": 53, "protocol": "UDP"}]))
    assert causes == []
    assert created["ports"] == [
        {"name": "", "port": 80, "protocol": "TCP"},
        {"name": "dns", "port": 53, "protocol": "UDP"},
    ]


@pytest.mark.parametrize(
    ("address_type", "addresses"),
    [
        ("IPv4", ["10.42.0.5", "192.168.1.10"]),
        ("IPv6", ["fd00::5", "2001:db8::1"]),
        ("FQDN", ["db.example.com", "db.example.com."]),
    ],
)
def test_valid_addresses(address_type: str, addresses: list[str]) -> None:
    """Addresses of the slice's type are accepted."""
    assert _create(_slice(address_type, [{"addresses": addresses}]))[1] == []


@pytest.mark.parametrize(
    ("obj", "field", "message"),
    [
        (_slice(address_type=None), "addressType", "Required value"),
        (
            _slice(address_type="IPv5"),
            "addressType",
            'Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"',
        ),
        (_slice(endpoints=[{"addresses": []}]), "endpoints[0].addresses", "must contain at least 1 address"),
        (_slice(endpoints=[{"addresses": ["fd00::5"]}]), "endpoints[0].addresses[0]", "must be a valid IPv4 address"),
        (_slice("IPv6", [{"addresses": ["10.0.0.1"]}]), "endpoints[0].addresses[0]", "must be a valid IPv6 address"),
        (_slice(endpoints=[{"addresses": ["127.0.0.1"]}]), "endpoints[0].addresses[0]", "loopback"),
        (_slice("FQDN", [{"addresses": ["localhost"]}]), "endpoints[0].addresses[0]", "at least two segments"),
        (_slice("FQDN", [{"addresses": ["Bad_Name.example"]}]), "endpoints[0].addresses[0]", "RFC 1123"),
        (_slice(endpoints=[{"addresses": ["10.0.0.1"], "nodeName": "Pi_1"}]), "endpoints[0].nodeName", "RFC 1123"),
        (_slice(endpoints=[{"addresses": ["10.0.0.1"], "hostname": "a.b"}]), "endpoints[0].hostname", "RFC 1123"),
        (
            _slice(ports=[{"name": "http", "port": 80}, {"name": "http", "port": 81}]),
            "ports[1].name",
            'Duplicate value: "http"',
        ),
        (_slice(ports=[{"name": "Web", "port": 80}]), "ports[0].name", "RFC 1123"),
        (_slice(ports=[{"port": 70000}]), "ports[0].port", "between 1 and 65535"),
        (_slice(ports=[{"port": 80, "protocol": "HTTP"}]), "ports[0].protocol", "Unsupported value"),
        (
            _slice(endpoints=[{"addresses": ["10.0.0.1"]}] * 1001),
            "endpoints",
            "Too many: 1001: must have at most 1000 items",
        ),
        (
            _slice(endpoints=[{"addresses": [f"10.0.0.{i}" for i in range(1, 102)]}]),
            "endpoints[0].addresses",
            "Too many: 101: must have at most 100 items",
        ),
    ],
)
def test_invalid(obj: Obj, field: str, message: str) -> None:
    """Each problem is reported at its field with Kubernetes' wording."""
    causes = _create(obj)[1]
    assert any(c.field == field and message in c.message for c in causes), causes


def test_port_without_number_means_all_ports() -> None:
    """A port may leave out its number (every port of the endpoints)."""
    assert _create(_slice(ports=[{"name": "all"}]))[1] == []


def test_address_type_is_immutable() -> None:
    """addressType cannot change after creation."""
    old = _create(_slice())[0]
    new = copy.deepcopy(old)
    new["addressType"] = "IPv6"
    new["endpoints"] = [{"addresses": ["fd00::5"]}]
    assert [c.field for c in STRATEGY.validate_update(new, old)] == ["addressType"]


@pytest.mark.parametrize(
    ("ports", "endpoints", "cells"),
    [
        ([{"port": 80}], [{"addresses": ["10.42.0.5"]}], ["IPv4", "80", "10.42.0.5"]),
        ([], [], ["IPv4", "<unset>", "<unset>"]),
        ([{"name": "all"}, {}], [{"addresses": ["10.42.0.5", "10.42.0.6"]}], ["IPv4", "all,*", "10.42.0.5,10.42.0.6"]),
        (
            [{"port": p} for p in (80, 81, 82, 83, 84)],
            [{"addresses": [f"10.42.0.{i}"]} for i in range(1, 6)],
            ["IPv4", "80,81,82 + 2 more...", "10.42.0.1,10.42.0.2,10.42.0.3 + 2 more..."],
        ),
    ],
)
def test_row(ports: list[dict[str, Any]], endpoints: list[dict[str, Any]], cells: list[str]) -> None:
    """NAME ADDRESSTYPE PORTS ENDPOINTS AGE, three values shown before "+ N more..."."""
    assert [c.name for c in STRATEGY.columns] == ["Name", "AddressType", "Ports", "Endpoints", "Age"]
    assert STRATEGY.row(_slice(endpoints=endpoints, ports=ports), NOW) == ["web-abcde", *cells, "30s"]


def test_generation_counts_content_changes() -> None:
    """Changing endpoints bumps metadata.generation (slices track it, as in Kubernetes)."""
    assert STRATEGY.tracks_generation
