"""A Kubernetes protobuf request body, unwrapped: magic, `runtime.Unknown`, then the object.

The body is the 4-byte magic `k8s\\x00` followed by a `runtime.Unknown` message (typeMeta=1
{apiVersion=1, kind=2}, raw=2, contentEncoding=3, contentType=4) whose `raw` is the object's
own message. The kind named by typeMeta picks the message; the result is the object as a
JSON-shaped dict with `apiVersion` and `kind` first, ready for the same path a JSON body takes.
"""

from __future__ import annotations

from typing import Any, Final

from edgekube.api.protobuf.decoding import ProtobufError, decode_message
from edgekube.api.protobuf.wire import LENGTH, WireError, read_fields
from edgekube.errors import BadRequest, UnsupportedMediaType

MEDIA_TYPE: Final = "application/vnd.kubernetes.protobuf"
MAGIC: Final = b"k8s\x00"

# (apiVersion, kind) -> message. These are the kinds EdgeKube serves (EndpointSlice too, which is
# on its way) and the bodies their subresources and deletions take.
KINDS: Final[dict[tuple[str, str], str]] = {
    ("v1", "ResourceQuota"): "core.v1.ResourceQuota",
    ("v1", "Namespace"): "core.v1.Namespace",
    ("v1", "Pod"): "core.v1.Pod",
    ("v1", "Service"): "core.v1.Service",
    ("v1", "Endpoints"): "core.v1.Endpoints",
    ("v1", "ConfigMap"): "core.v1.ConfigMap",
    ("v1", "Secret"): "core.v1.Secret",
    ("v1", "Node"): "core.v1.Node",
    ("v1", "Event"): "core.v1.Event",
    ("v1", "ServiceAccount"): "core.v1.ServiceAccount",
    ("v1", "PersistentVolume"): "core.v1.PersistentVolume",
    ("v1", "PersistentVolumeClaim"): "core.v1.PersistentVolumeClaim",
    ("v1", "Binding"): "core.v1.Binding",
    ("apps/v1", "Deployment"): "apps.v1.Deployment",
    ("apps/v1", "ReplicaSet"): "apps.v1.ReplicaSet",
    ("apps/v1", "DaemonSet"): "apps.v1.DaemonSet",
    ("coordination.k8s.io/v1", "Lease"): "coordination.v1.Lease",
    ("discovery.k8s.io/v1", "EndpointSlice"): "discovery.v1.EndpointSlice",
    ("storage.k8s.io/v1", "StorageClass"): "storage.v1.StorageClass",
    ("networking.k8s.io/v1", "NetworkPolicy"): "networking.v1.NetworkPolicy",
    ("autoscaling/v1", "Scale"): "autoscaling.v1.Scale",
    ("policy/v1", "Eviction"): "policy.v1.Eviction",
    # policy/v1beta1 Eviction has the same fields and numbers as policy/v1.
    ("policy/v1beta1", "Eviction"): "policy.v1.Eviction",
}
# meta/v1 option kinds are registered in every group-version, so clients label them with
# whichever one they talk to ("v1", "apps/v1", "meta.k8s.io/v1", ...).
ANY_VERSION_KINDS: Final[dict[str, str]] = {"DeleteOptions": "meta.v1.DeleteOptions"}


def is_protobuf(content_type: str) -> bool:
    """Whether a Content-Type header names the Kubernetes protobuf encoding."""
    return content_type.split(";")[0].strip().lower() == MEDIA_TYPE


def decode_protobuf(body: bytes) -> dict[str, Any]:
    """The object in a protobuf request body, shaped as the same client would send it in JSON.

    Raises BadRequest for bytes that are not a well-formed body and UnsupportedMediaType for
    a well-formed body this server cannot read (an unknown kind, a compressed payload).
    """
    if not body.startswith(MAGIC):
        raise BadRequest(f"the protobuf body does not start with the magic bytes {MAGIC!r}")
    api_version, kind, raw = _unwrap(body[len(MAGIC) :])
    message = KINDS.get((api_version, kind)) or ANY_VERSION_KINDS.get(kind)
    if message is None:
        raise UnsupportedMediaType(f"protobuf bodies for {api_version}/{kind} are not supported; send application/json")
    try:
        obj = decode_message(message, raw)
    except ProtobufError as err:
        raise BadRequest(f"the protobuf body is not a valid {api_version}/{kind}: {err}") from err
    return {"apiVersion": api_version, "kind": kind, **obj}


def _unwrap(envelope: bytes) -> tuple[str, str, bytes]:
    """(apiVersion, kind, raw) from a runtime.Unknown."""
    api_version = kind = encoding = content_type = ""
    raw = b""
    try:
        for number, wire, value in read_fields(envelope):
            if wire != LENGTH or not isinstance(value, bytes):
                raise BadRequest(f"runtime.Unknown field {number} must be length-delimited")
            if number == 1:
                api_version, kind = _type_meta(value)
            elif number == 2:
                raw = value
            elif number == 3:
                encoding = value.decode("utf-8", "replace")
            elif number == 4:
                content_type = value.decode("utf-8", "replace")
    except WireError as err:
        raise BadRequest(f"the protobuf body is malformed: {err}") from err
    if not kind:
        raise BadRequest("the protobuf body names no kind (runtime.Unknown typeMeta.kind is empty)")
    if encoding:
        raise UnsupportedMediaType(f"protobuf bodies with contentEncoding {encoding!r} are not supported")
    if content_type and not is_protobuf(content_type):
        raise UnsupportedMediaType(f"protobuf envelopes carrying {content_type!r} are not supported")
    return api_version, kind, raw


def _type_meta(data: bytes) -> tuple[str, str]:
    """runtime.TypeMeta: apiVersion=1, kind=2."""
    api_version = kind = ""
    for number, wire, value in read_fields(data):
        if wire != LENGTH or not isinstance(value, bytes):
            raise BadRequest(f"runtime.TypeMeta field {number} must be length-delimited")
        if number == 1:
            api_version = value.decode("utf-8", "replace")
        elif number == 2:
            kind = value.decode("utf-8", "replace")
    return api_version, kind
