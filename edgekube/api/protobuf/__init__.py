"""Reading Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`).

kubectl 1.31+ and Go controllers send built-in kinds as protobuf. This package turns such a
body into the dict the same client would have sent as JSON, so the rest of the API sees no
difference. It only decodes: responses stay JSON, which every client accepts.

Modules, lowest first: `wire` reads the wire format; `messages` is the table of message
fields (data, from the upstream .proto files); `fields` compiles it; `decoding` maps one
message to JSON; `bodies` unwraps the `k8s\\x00` + `runtime.Unknown` envelope.
"""

from edgekube.api.protobuf.bodies import MAGIC, MEDIA_TYPE, decode_protobuf, is_protobuf

__all__ = ["MAGIC", "MEDIA_TYPE", "decode_protobuf", "is_protobuf"]
