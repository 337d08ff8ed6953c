"""The agent's streaming server: container logs and exec for `kubectl`, via the API server.

The agent core starts it once with `serve_streaming(runtime, lookup, settings)` and
publishes the returned server's `port` (Node `status.daemonEndpoints.kubeletEndpoint.Port`)
and `fingerprint` (Node annotation `PIN_ANNOTATION`). `ContainerLookup` is what the core
implements: which runtime container a pod's container (or its previous incarnation) is.
"""

from agent.streaming.certificates import PIN_ANNOTATION
from agent.streaming.lookups import ContainerLookup
from agent.streaming.serving import StreamingServer, serve_streaming
from agent.streaming.settings import DEFAULT_PORT, StreamingSettings

__all__ = [
    "DEFAULT_PORT",
    "PIN_ANNOTATION",
    "ContainerLookup",
    "StreamingServer",
    "StreamingSettings",
    "serve_streaming",
]
