"""Zero values: kept for Go pointer fields, dropped for the rest, as Go's JSON would."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.api.protobuf import decode_protobuf
from tests.unit.protobuf.encoding import encode_body, envelope, length_delimited, varint_field


def _pod(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


def test_non_pointer_zeros_are_dropped() -> None:
    """gogo writes "", 0, false and empty structs for every non-pointer field; none reach the JSON."""
    container = {"name": "c", "image": "i"}
    decoded = decode_protobuf(encode_body(_pod({"containers": [container]})))
    # The encoder wrote stdin=false, tty=false, workingDir="", resources={}, ... for the container,
    # hostNetwork=false, dnsPolicy="" ... for the spec and an empty status.
    assert decoded == _pod({"containers": [container]})


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"terminationGracePeriodSeconds": 0}, ["terminationGracePeriodSeconds"]),
        ({"automountServiceAccountToken": False}, ["automountServiceAccountToken"]),
        ({"enableServiceLinks": False}, ["enableServiceLinks"]),
        ({"securityContext": {}}, ["securityContext"]),
        ({"securityContext": {"runAsUser": 0, "runAsNonRoot": False}}, ["securityContext", "runAsUser"]),
        ({"hostnameOverride": ""}, ["hostnameOverride"]),
        ({"volumes": [{"name": "v", "emptyDir": {}}]}, ["volumes"]),
        ({"tolerations": [{"operator": "Exists", "tolerationSeconds": 0}]}, ["tolerations"]),
    ],
)
def test_pointer_zeros_are_kept(spec: dict[str, Any], path: list[str]) -> None:
    """A pointer field on the wire is set, even to 0, false, "" or {}."""
    obj = _pod({"containers": [{"name": "c"}], **spec})
    decoded = decode_protobuf(encode_body(obj))
    assert decoded == obj
    node: Any = decoded["spec"]
    for key in path:
        node = node[key]
    assert node is not None


def test_deployment_zero_replicas_is_kept() -> None:
    """`replicas: 0` (a *int32) survives; `minReadySeconds: 0` (an int32) does not appear."""
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"a": "b"}}, "template": {}},
    }
    decoded = decode_protobuf(encode_body(obj))
    assert decoded["spec"] == {"replicas": 0, "selector": {"matchLabels": {"a": "b"}}}


def test_pvc_empty_storage_class_is_kept() -> None:
    """`storageClassName: ""` (no dynamic provisioning) differs from an absent one and is kept."""
    obj = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "c"},
        "spec": {"storageClassName": "", "resources": {"requests": {"storage": "1Gi"}}},
    }
    assert decode_protobuf(encode_body(obj)) == obj


def test_zero_int_or_string_and_quantity() -> None:
    """A non-pointer IntOrString 0 and Quantity "0" are zero values; as pointers they are kept."""
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80}]},
    }
    assert decode_protobuf(encode_body(service)) == service  # targetPort 0 was on the wire
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}}},
    }
    assert decode_protobuf(encode_body(deployment)) == deployment
    pod = _pod({"containers": [{"name": "c"}], "volumes": [{"name": "v", "emptyDir": {"sizeLimit": "0"}}]})
    assert decode_protobuf(encode_body(pod)) == pod


def test_lists_and_maps_keep_empty_members() -> None:
    """Empty strings in lists and maps, and empty list elements, are data, not zero values."""
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "finalizers": ["", "x"], "labels": {"empty": ""}},
        "data": {"": "no key", "k": ""},
    }
    assert decode_protobuf(encode_body(obj)) == obj


def test_zero_time_is_omitted() -> None:
    """A Time that is absent, an empty message or 0 seconds and 0 nanos is left out."""
    meta = varint_field(1, 0) + varint_field(2, 0)  # seconds 0, nanos 0
    raw = length_delimited(1, length_delimited(1, b"n") + length_delimited(8, meta))
    body = envelope("v1", "ConfigMap", raw)
    assert decode_protobuf(body) == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n"}}


def test_map_entry_without_value() -> None:
    """A map entry with only its key has the value type's zero value (Go marshals "" that way)."""
    entry = length_delimited(1, b"k")
    raw = length_delimited(2, entry) + length_delimited(3, entry)  # data, binaryData
    body = envelope("v1", "ConfigMap", raw)
    assert decode_protobuf(body) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": {"k": ""},
        "binaryData": {"k": ""},
    }
