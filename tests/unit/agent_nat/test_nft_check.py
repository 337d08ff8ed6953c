"""Rendered rulesets pass `nft -c` (parse and kernel checks, nothing applied) in a namespace of our own."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from agent.network.nat_model import service_nat
from agent.network.nat_rendering import NatContext, full_ruleset, render_service, update_commands
from tests.unit.agent_nat.samples import ep, eps, svc

CTX = NatContext("h4_check", "10.42.0.0/16", "10.43.0.0/16")
FEATURES: list[dict[str, Any]] = [
    {},
    {"type": "NodePort", "ports": [{"name": "http", "port": 80, "nodePort": 30080}], "externalTrafficPolicy": "Local"},
    {
        "type": "LoadBalancer",
        "ports": [{"name": "http", "port": 80, "nodePort": 30081}, {"name": "dns", "port": 53, "protocol": "UDP"}],
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.5"}]}},
    },
    {"sessionAffinity": "ClientIP"},
]


@pytest.fixture(scope="module")
def netns() -> Iterator[str]:
    if os.geteuid() != 0 or shutil.which("nft") is None:
        pytest.fail("this test runs as root with nft installed (apt-get install nftables)")
    name = f"h4-check-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def nft(netns: str, text: str, *, check_only: bool) -> subprocess.CompletedProcess[str]:
    args = ["ip", "netns", "exec", netns, "nft", *(["-c"] if check_only else []), "-f", "-"]
    return subprocess.run(args, input=text, capture_output=True, text=True)


def rules(i: int, spec: dict[str, Any], endpoints: list[dict[str, Any]]) -> Any:
    ports = [
        {"name": p.get("name", ""), "port": 8080, "protocol": p.get("protocol", "TCP")}
        for p in svc(**spec)["spec"]["ports"]
    ]
    model = service_nat(
        svc(f"s{i}", f"10.43.0.{20 + i}", **spec),
        [eps(f"s{i}", endpoints, ports=ports)],
        node_name="n1",
        cluster_dns="10.43.0.10",
    )
    return render_service(model, CTX)


@pytest.mark.parametrize("endpoints", [[], [ep("10.42.0.2"), ep("10.42.1.2", node="n2")]], ids=["none", "two"])
def test_full_ruleset_is_accepted(netns: str, endpoints: list[dict[str, Any]]) -> None:
    """Every feature together renders a ruleset the kernel accepts."""
    text = full_ruleset([rules(i, spec, endpoints) for i, spec in enumerate(FEATURES)], CTX)
    done = nft(netns, text, check_only=True)
    assert done.returncode == 0, done.stderr


def test_updates_apply_on_top_of_a_full_ruleset(netns: str) -> None:
    """Per-service transactions (endpoints gone, back, service deleted) apply to a live table."""
    two = [ep("10.42.0.2"), ep("10.42.1.2", node="n2")]
    before = [rules(i, spec, two) for i, spec in enumerate(FEATURES)]
    assert nft(netns, full_ruleset(before, CTX), check_only=False).returncode == 0
    steps = [[ep("10.42.0.2")], [], two]
    current = before
    for endpoints in steps:
        after = [rules(i, spec, endpoints) for i, spec in enumerate(FEATURES)]
        text = "\n".join(
            c for old, new in zip(current, after, strict=True) for c in update_commands(old, new, CTX.table)
        )
        done = nft(netns, text + "\n", check_only=False)
        assert done.returncode == 0, (endpoints, done.stderr)
        current = after
    text = "\n".join(c for old in current for c in update_commands(old, None, CTX.table))
    assert nft(netns, text + "\n", check_only=False).returncode == 0
    listing = subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "list", "table", "ip", CTX.table], capture_output=True, text=True
    ).stdout
    assert "ep-" not in listing and "svc-" not in listing
