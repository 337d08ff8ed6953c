"""Where a pod's logs and exec are served: the container, its node, and that node's agent.

Pure functions over stored objects, so every refusal the API server gives before it
contacts a node is table-tested. The wording follows kube-apiserver, because people and
scripts know it (`a container name must be specified for pod web, choose one of: [a b]`).

A node's agent is found at the first address of its status in `ADDRESS_PREFERENCE`, on
`status.daemonEndpoints.kubeletEndpoint.Port` (default 10250). Its certificate is
self-signed; it is trusted by the SHA-256 fingerprint the agent publishes in the node
annotation `PIN_ANNOTATION`, not by a CA.
"""

from __future__ import annotations

import ipaddress
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from edgekube.errors import ApiError, BadRequest

PIN_ANNOTATION = "edgekube.io/streaming-cert-sha256"
DEFAULT_PORT = 10250
ADDRESS_PREFERENCE = ("InternalIP", "ExternalIP", "InternalDNS", "ExternalDNS", "Hostname")

LOG_PARAMETERS = ("follow", "previous", "timestamps", "tailLines", "sinceSeconds", "sinceTime", "limitBytes")
EXEC_PARAMETERS = ("command", "stdin", "stdout", "stderr", "tty")


class ServiceUnavailable(ApiError):
    """503: the node that serves the request cannot be reached (its agent is down or unknown)."""

    code = 503
    reason = "ServiceUnavailable"


@dataclass(frozen=True)
class AgentEndpoint:
    node: str
    host: str
    port: int
    fingerprint: bytes
    """SHA-256 of the agent's serving certificate (32 bytes)."""

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self, kind: str, namespace: str, pod: str, container: str) -> str:
        """`kind` is the agent's path for the stream: containerLogs or exec."""
        parts = "/".join(quote(p, safe="") for p in (namespace, pod, container))
        return f"https://{self.address}/{kind}/{parts}"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _names(containers: Any) -> list[str]:
    if not isinstance(containers, list):
        return []
    return [str(c["name"]) for c in containers if isinstance(c, Mapping) and c.get("name")]


def node_of(pod: Mapping[str, Any]) -> str:
    node = _mapping(pod.get("spec")).get("nodeName")
    if not node:
        raise BadRequest(f"pod {_mapping(pod.get('metadata')).get('name', '')} does not have a host assigned")
    return str(node)


def container_of(pod: Mapping[str, Any], requested: str) -> str:
    """The container a request means: the one named, or the pod's only container."""
    name = str(_mapping(pod.get("metadata")).get("name", ""))
    spec = _mapping(pod.get("spec"))
    containers = _names(spec.get("containers"))
    init = _names(spec.get("initContainers"))
    ephemeral = _names(spec.get("ephemeralContainers"))
    if requested:
        if requested not in (*containers, *init, *ephemeral):
            raise BadRequest(f"container {requested} is not valid for pod {name}")
        return requested
    if len(containers) == 1:
        return containers[0]
    if not containers:
        raise BadRequest(f"a container name must be specified for pod {name}")
    message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
    if init:
        message += f" or one of the init containers: [{' '.join(init)}]"
    if ephemeral:
        message += f" or one of the ephemeral containers: [{' '.join(ephemeral)}]"
    raise BadRequest(message)


def parse_fingerprint(text: str) -> bytes | None:
    """64 hex digits, colons between bytes allowed (as `openssl x509 -fingerprint` prints)."""
    digits = text.strip().replace(":", "").lower()
    if len(digits) != 64 or any(c not in string.hexdigits for c in digits):
        return None
    return bytes.fromhex(digits)


def agent_endpoint(node: Mapping[str, Any]) -> AgentEndpoint:
    """Where the node's agent serves streams, or ServiceUnavailable saying what is missing."""
    name = str(_mapping(node.get("metadata")).get("name", ""))
    status = _mapping(node.get("status"))
    host = _preferred_address(status.get("addresses"))
    if host is None:
        raise ServiceUnavailable(f"node {name} has no address in its status: has its agent registered?")
    annotations = _mapping(_mapping(node.get("metadata")).get("annotations"))
    pinned = annotations.get(PIN_ANNOTATION)
    if not pinned:
        raise ServiceUnavailable(
            f"node {name} has not published the fingerprint of its streaming certificate "
            f"(annotation {PIN_ANNOTATION}): is its agent running?"
        )
    fingerprint = parse_fingerprint(str(pinned))
    if fingerprint is None:
        raise ServiceUnavailable(f"node {name}: annotation {PIN_ANNOTATION} is not a SHA-256 fingerprint: {pinned!r}")
    return AgentEndpoint(name, host, _port(status), fingerprint)


def _preferred_address(addresses: Any) -> str | None:
    found: dict[str, str] = {}
    for entry in addresses if isinstance(addresses, list) else []:
        if isinstance(entry, Mapping) and entry.get("type") and entry.get("address"):
            found.setdefault(str(entry["type"]), str(entry["address"]))
    for kind in ADDRESS_PREFERENCE:
        if kind in found:
            return _bare_host(found[kind])
    return None


def _bare_host(address: str) -> str:
    stripped = address.strip().removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(stripped))
    except ValueError:
        return stripped


def _port(status: Mapping[str, Any]) -> int:
    port = _mapping(_mapping(status.get("daemonEndpoints")).get("kubeletEndpoint")).get("Port")
    return port if isinstance(port, int) and 0 < port < 65536 else DEFAULT_PORT
