"""Settings of the agent's streaming server (logs and exec for `kubectl`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PORT = 10250


@dataclass
class StreamingSettings:
    token: str
    """Bearer token every request must carry: the agent's join token, which the server
    also holds. Node credentials (a client certificate of the API server, or a token per
    node) replace it later."""
    cert_dir: Path
    """Where the self-signed serving certificate and its key are kept (`<agent dir>/streaming`)."""
    bind_address: str = "0.0.0.0"
    """Address to listen on; the API server dials the node's InternalIP."""
    port: int = DEFAULT_PORT
    """TCP port (the kubelet's, so firewall rules written for k3s fit); 0 picks a free one."""
    names: tuple[str, ...] = field(default_factory=tuple)
    """Extra DNS names and IPs for the certificate (node name, node IP). Informational:
    the API server pins the certificate's fingerprint rather than checking names."""
    client_check_interval: float = 2.0
    """Seconds between checks that a quiet follower (`logs -f`) is still connected."""
    shutdown_timeout: float = 2.0
    """Seconds open streams get to finish when the server stops."""
