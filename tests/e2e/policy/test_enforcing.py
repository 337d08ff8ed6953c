"""Rendered NetworkPolicy rulesets against real traffic between pod namespaces on one bridge."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.network.local import LocalNode
from agent.network.policy_rendering import render_filter
from agent.network.policy_resolving import resolve_plan
from tests.e2e.policy.lab import OUTSIDE, POD_CIDR, Lab, run
from tests.unit.agent_policy.objects import labels, namespace, pod, policy, tcp

Obj = dict[str, Any]
TABLE = "h6e_filter"
NODE = LocalNode("n1", ipaddress.IPv4Address("192.0.2.1"), ipaddress.IPv4Network(POD_CIDR), "sink0", 1500)
HTTP = [{"name": "http", "containerPort": 8080}]
PODS = [
    pod("shop", "web", "10.42.7.2", labels={"app": "web"}, ports=HTTP),
    pod("shop", "db", "10.42.7.3", labels={"app": "db"}, ports=HTTP),
    pod("other", "cli", "10.42.7.4", labels={"app": "cli"}, ports=HTTP),
]
NAMESPACES = [namespace("shop", team="a"), namespace("other", team="b")]
A, B, C = "10.42.7.2", "10.42.7.3", "10.42.7.4"
X_ALLOWED, X_EXCEPTED = OUTSIDE


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """Node and pod namespaces for this module, removed afterwards (the test fails if any is left)."""
    if os.geteuid() != 0:
        pytest.fail("the policy e2e tests run as root (network namespaces, nft)", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="h6e-") as root:
        made = Lab(prefix=f"h6e{os.getpid()}", root=Path(root))
        try:
            made.build({"a": A, "b": B, "c": C})
            yield made
        finally:
            left = made.close()
    assert not left, f"namespaces left behind: {left}"


def enforce(lab: Lab, *policies: Obj) -> str:
    """Resolve, render and apply the policies in the node namespace; the text applied."""
    plan = resolve_plan(table=TABLE, node=NODE, policies=policies, pods=PODS, namespaces=NAMESPACES).plan
    text = render_filter(plan)
    lab.apply(text)
    return text


def reachability(lab: Lab, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], bool]:
    return {(src, dst): lab.reaches(src, dst) for src, dst in pairs}


ALL_PAIRS = [("a", B), ("b", A), ("c", A), ("c", B), ("a", C), ("node", A), ("a", X_ALLOWED)]


def test_without_policies_everything_flows_and_there_is_no_table(lab: Lab) -> None:
    """Baseline: no policy, no table, every pod reaches every other and the outside."""
    enforce(lab)
    assert all(reachability(lab, ALL_PAIRS).values())
    assert TABLE not in run("ip", "netns", "exec", lab.node, "nft", "list", "tables")


def test_default_deny_ingress(lab: Lab) -> None:
    """Default deny in shop: nobody reaches shop's pods, except their own node; shop still reaches out."""
    enforce(lab, policy("shop", "deny", policyTypes=["Ingress"]))
    assert reachability(lab, ALL_PAIRS) == {
        ("a", B): False,
        ("b", A): False,
        ("c", A): False,
        ("c", B): False,
        ("a", C): True,  # egress is not isolated; the reply is established traffic
        ("node", A): True,  # probes from the node always pass
        ("a", X_ALLOWED): True,
    }


def test_allow_by_pod_label(lab: Lab) -> None:
    """db admits web (same namespace, by label) and nobody else."""
    enforce(
        lab,
        policy("shop", "deny", policyTypes=["Ingress"]),
        policy("shop", "db", podSelector=labels(app="db"), ingress=[{"from": [{"podSelector": labels(app="web")}]}]),
    )
    assert reachability(lab, [("a", B), ("c", B), ("b", A)]) == {("a", B): True, ("c", B): False, ("b", A): False}


def test_allow_by_namespace_label(lab: Lab) -> None:
    """db admits every pod of namespaces labelled team=b, and not its own neighbour."""
    enforce(
        lab,
        policy(
            "shop", "db", podSelector=labels(app="db"), ingress=[{"from": [{"namespaceSelector": labels(team="b")}]}]
        ),
    )
    assert reachability(lab, [("c", B), ("a", B)]) == {("c", B): True, ("a", B): False}


def test_ports_by_name_and_number(lab: Lab) -> None:
    """A named port admits on the pod's own number; another port admits nothing on 8080."""
    enforce(lab, policy("shop", "db", podSelector=labels(app="db"), ingress=[{"ports": [tcp("http")]}]))
    assert lab.reaches("c", B)
    enforce(lab, policy("shop", "db", podSelector=labels(app="db"), ingress=[{"ports": [tcp(9090)]}]))
    assert not lab.reaches("c", B)


def test_egress_to_ip_block_with_except(lab: Lab) -> None:
    """web may send to the outside block only, and not to its excepted address nor to other pods."""
    block = {"ipBlock": {"cidr": "198.51.100.0/24", "except": [f"{X_EXCEPTED}/32"]}}
    enforce(
        lab,
        policy("shop", "web", podSelector=labels(app="web"), policyTypes=["Egress"], egress=[{"to": [block]}]),
    )
    assert reachability(lab, [("a", X_ALLOWED), ("a", X_EXCEPTED), ("a", B), ("a", C), ("b", A)]) == {
        ("a", X_ALLOWED): True,
        ("a", X_EXCEPTED): False,
        ("a", B): False,
        ("a", C): False,
        ("b", A): True,  # ingress is not isolated; web's reply is established traffic
    }


def test_established_replies_flow_through_deny_all_egress(lab: Lab) -> None:
    """web admits db and may send nothing: db's requests are answered, web's own are dropped."""
    enforce(
        lab,
        policy(
            "shop",
            "web",
            podSelector=labels(app="web"),
            policyTypes=["Ingress", "Egress"],
            ingress=[{"from": [{"podSelector": labels(app="db")}]}],
        ),
    )
    assert reachability(lab, [("b", A), ("a", B), ("c", A)]) == {("b", A): True, ("a", B): False, ("c", A): False}


def test_both_ends_isolated_on_one_node(lab: Lab) -> None:
    """Between two local pods both the sender's egress and the receiver's ingress must allow."""
    web_out = policy(
        "shop",
        "web",
        podSelector=labels(app="web"),
        policyTypes=["Egress"],
        egress=[{"to": [{"podSelector": labels(app="db")}]}],
    )
    enforce(lab, web_out, policy("shop", "db-deny", podSelector=labels(app="db"), policyTypes=["Ingress"]))
    assert not lab.reaches("a", B)
    enforce(
        lab,
        web_out,
        policy("shop", "db", podSelector=labels(app="db"), ingress=[{"from": [{"podSelector": labels(app="web")}]}]),
    )
    assert lab.reaches("a", B)


DRIFT_SCRIPT = """
import asyncio, sys
import structlog
from agent.network.policing import Enforcer
from agent.network.nft import run_nft

async def main(text: str) -> None:
    enforcer = Enforcer(sys.argv[1], structlog.get_logger())
    await enforcer.enforce(text, 1)
    assert await enforcer.read() == enforcer.snapshot, "listing is not stable"
    await enforcer.check_drift()
    assert enforcer.applies == 1, "no drift, yet written again"
    await run_nft("delete", "table", "ip", sys.argv[1])
    await enforcer.check_drift()
    assert enforcer.applies == 2 and await enforcer.read() == enforcer.snapshot, "drift not repaired"
    await run_nft("add", "rule", "ip", sys.argv[1], "forward", "accept")
    await enforcer.check_drift()
    assert enforcer.applies == 3 and await enforcer.read() == enforcer.snapshot, "foreign rule not removed"

asyncio.run(main(sys.stdin.read()))
"""


def test_enforcer_repairs_drift_in_the_kernel(lab: Lab) -> None:
    """Against the real kernel (in the node namespace): a stable snapshot, and removal or edits put right."""
    text = enforce(lab, policy("shop", "deny"))
    done = subprocess.run(
        ["ip", "netns", "exec", lab.node, sys.executable, "-c", DRIFT_SCRIPT, TABLE],
        input=text,
        text=True,
        capture_output=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.returncode == 0, done.stderr
