"""hostPort rules: which ports a pod asks for, and the nft table written for them."""

from __future__ import annotations

from typing import Any

import pytest

from agent.network.hostports import HostPort, hostports_of, render


def pod(ports: list[dict[str, Any]], *, host_network: bool = False) -> dict[str, Any]:
    return {"spec": {"hostNetwork": host_network, "containers": [{"name": "c", "ports": ports}]}}


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ([{"containerPort": 80}], []),
        ([{"containerPort": 80, "hostPort": 8080}], [HostPort(8080, "tcp", "", "10.42.0.5", 80)]),
        (
            [{"containerPort": 53, "hostPort": 5353, "protocol": "UDP", "hostIP": "10.0.0.7"}],
            [HostPort(5353, "udp", "10.0.0.7", "10.42.0.5", 53)],
        ),
        ([{"containerPort": 80, "hostPort": 80, "hostIP": "0.0.0.0"}], [HostPort(80, "tcp", "", "10.42.0.5", 80)]),
        ([{"containerPort": 80, "hostPort": 80, "hostIP": "fd00::1"}], []),  # IPv6 is not served
        ([{"containerPort": 9, "hostPort": 9, "protocol": "SCTP"}], [HostPort(9, "sctp", "", "10.42.0.5", 9)]),
    ],
)
def test_hostports_of(ports: list[dict[str, Any]], expected: list[HostPort]) -> None:
    """Only ports with a hostPort make a rule; hostIP 0.0.0.0 means every local address."""
    assert hostports_of(pod(ports), "10.42.0.5") == expected


def test_host_network_pods_get_no_rules() -> None:
    """A hostNetwork pod listens on the node itself: nothing to translate."""
    assert hostports_of(pod([{"containerPort": 80, "hostPort": 80}], host_network=True), "10.0.0.7") == []


def test_render_replaces_the_table_in_one_input() -> None:
    """The table is declared, flushed and filled in one input; hooks at -110 on local addresses."""
    text = render("edgekube_hostports", [HostPort(8080, "tcp", "", "10.42.0.5", 80)])
    assert text.startswith("table ip edgekube_hostports {}\nflush table ip edgekube_hostports\n")
    assert "type nat hook prerouting priority -110;" in text
    assert "type nat hook output priority -110;" in text
    assert text.count("fib daddr type local jump hostports") == 2
    assert "tcp dport 8080 dnat to 10.42.0.5:80" in text


def test_render_with_no_rules_deletes_the_table() -> None:
    """No hostPorts: the table goes (declared first, so deleting a missing table is no error)."""
    assert render("t", []) == "table ip t {}\ndelete table ip t\n"
