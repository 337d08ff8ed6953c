"""Which container and which agent a pods/log or pods/exec request means (edgekube.api.streams_targets)."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.api.streams_targets import (
    AgentEndpoint,
    ServiceUnavailable,
    agent_endpoint,
    container_of,
    node_of,
    parse_fingerprint,
)
from edgekube.errors import BadRequest

PIN = "edgekube.io/streaming-cert-sha256"
HEX = "0f" * 32


def pod(containers: list[str], init: tuple[str, ...] | list[str] = (), node: str = "n1") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": c} for c in containers], "nodeName": node}
    if init:
        spec["initContainers"] = [{"name": c} for c in init]
    return {"metadata": {"name": "web"}, "spec": spec}


@pytest.mark.parametrize(
    ("containers", "init", "requested", "expected"),
    [
        (["main"], [], "", "main"),
        (["main", "side"], [], "side", "side"),
        (["main"], ["setup"], "setup", "setup"),
        (["a", "b"], [], "", "a container name must be specified for pod web, choose one of: [a b]"),
        (
            ["a", "b"],
            ["i"],
            "",
            "a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [i]",
        ),
        (["main"], [], "other", "container other is not valid for pod web"),
        ([], [], "", "a container name must be specified for pod web"),
    ],
)
def test_container_of(containers: list[str], init: list[str], requested: str, expected: str) -> None:
    """The named container, the only one, or kube-apiserver's refusal."""
    try:
        assert container_of(pod(containers, init), requested) == expected
    except BadRequest as err:
        assert err.message == expected


def test_node_of_needs_a_binding() -> None:
    """A pod without spec.nodeName has no logs or exec yet."""
    assert node_of(pod(["main"])) == "n1"
    with pytest.raises(BadRequest, match="pod web does not have a host assigned"):
        node_of(pod(["main"], node=""))


def node(addresses: list[tuple[str, str]], port: Any = None, pin: str | None = HEX) -> dict[str, Any]:
    status: dict[str, Any] = {"addresses": [{"type": t, "address": a} for t, a in addresses]}
    if port is not None:
        status["daemonEndpoints"] = {"kubeletEndpoint": {"Port": port}}
    return {"metadata": {"name": "n1", "annotations": {PIN: pin} if pin else {}}, "status": status}


@pytest.mark.parametrize(
    ("obj", "address", "port"),
    [
        (node([("Hostname", "pi"), ("InternalIP", "10.0.0.5")]), "10.0.0.5:10250", 10250),
        (node([("ExternalIP", "192.0.2.7"), ("Hostname", "pi")], port=11250), "192.0.2.7:11250", 11250),
        (node([("Hostname", "pi")], port="x"), "pi:10250", 10250),
        (node([("InternalIP", "fd00::5")], port=10251), "[fd00::5]:10251", 10251),
    ],
)
def test_agent_endpoint(obj: dict[str, Any], address: str, port: int) -> None:
    """InternalIP first, then the other address types; the published port or 10250."""
    endpoint = agent_endpoint(obj)
    assert (endpoint.address, endpoint.port, endpoint.fingerprint) == (address, port, bytes.fromhex(HEX))


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (node([]), "node n1 has no address in its status"),
        (node([("InternalIP", "10.0.0.5")], pin=None), "has not published the fingerprint"),
        (node([("InternalIP", "10.0.0.5")], pin="abc"), "is not a SHA-256 fingerprint"),
    ],
)
def test_agent_endpoint_refusals(obj: dict[str, Any], message: str) -> None:
    """A node without an address or a pinned certificate cannot be proxied to (503)."""
    with pytest.raises(ServiceUnavailable, match=message):
        agent_endpoint(obj)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        (HEX, bytes.fromhex(HEX)),
        (":".join(["0F"] * 32), bytes.fromhex(HEX)),
        (HEX[:-2], None),
        ("zz" * 32, None),
    ],
)
def test_parse_fingerprint(text: str, parsed: bytes | None) -> None:
    """Hex, any case, colons allowed; anything else is rejected."""
    assert parse_fingerprint(text) == parsed


def test_agent_urls_quote_names() -> None:
    """Path parts are quoted, so no name can reach another agent endpoint."""
    endpoint = AgentEndpoint("n1", "10.0.0.5", 10250, b"\0" * 32)
    assert endpoint.url("exec", "ns", "web", "a/b") == "https://10.0.0.5:10250/exec/ns/web/a%2Fb"
