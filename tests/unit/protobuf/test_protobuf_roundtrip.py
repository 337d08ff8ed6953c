"""Objects encoded as gogo-protobuf would encode them decode back to the JSON a Go client sends."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.api.protobuf import decode_protobuf
from tests.unit.protobuf.encoding import encode_body
from tests.unit.protobuf.samples import ALL, DEPLOYMENT, EVENT, POD


@pytest.mark.parametrize("obj", ALL.values(), ids=ALL.keys())
def test_round_trip(obj: dict[str, Any]) -> None:
    """Every served kind (and Scale, Binding, Eviction, DeleteOptions) survives encode and decode."""
    assert decode_protobuf(encode_body(obj)) == obj


@pytest.mark.parametrize("obj", ALL.values(), ids=ALL.keys())
def test_round_trip_packed(obj: dict[str, Any]) -> None:
    """Repeated numbers written packed (as proto3 writers do) decode the same as unpacked."""
    assert decode_protobuf(encode_body(obj, packed=True)) == obj


def test_api_version_and_kind_come_first() -> None:
    """apiVersion and kind are taken from typeMeta and lead the object, as kubectl prints it."""
    decoded = decode_protobuf(encode_body(DEPLOYMENT))
    assert list(decoded)[:2] == ["apiVersion", "kind"]
    assert (decoded["apiVersion"], decoded["kind"]) == ("apps/v1", "Deployment")


def test_pod_details() -> None:
    """Int-or-string ports, quantities, negative ints, inlined volume sources and probe handlers."""
    pod = decode_protobuf(encode_body(POD))
    web = pod["spec"]["containers"][0]
    assert web["livenessProbe"]["httpGet"]["port"] == "http"
    assert web["readinessProbe"]["tcpSocket"]["port"] == 8080
    assert web["resources"]["limits"] == {"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "1Gi"}
    assert pod["spec"]["volumes"][0] == {"name": "scratch", "emptyDir": {}}
    assert pod["spec"]["priority"] == -10
    assert pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == -1
    assert pod["metadata"]["managedFields"][0]["fieldsV1"] == {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}


def test_times() -> None:
    """Time is RFC 3339 with whole seconds; MicroTime keeps six fractional digits."""
    event = decode_protobuf(encode_body(EVENT))
    assert event["firstTimestamp"] == "2024-01-02T03:04:05Z"
    assert event["eventTime"] == "2024-01-02T03:04:05.123456Z"
    assert event["series"]["lastObservedTime"] == "2024-01-02T03:05:00.000001Z"
