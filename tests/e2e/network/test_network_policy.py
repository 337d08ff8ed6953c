"""NetworkPolicy across devices: default deny, allow by pod label, allow by namespace label, and
egress limited by an ipBlock, each checked from clients on the target's device and on the other one.

    namespace np (team=home):           target (web, dev1)   peer (web, dev1)
                                        friendly (role=client, dev2)   nosy (dev1)   leaky (role=egress, dev2)
    namespace np-friends (team=friends):   friend (dev2)
    namespace np-strangers (team=strangers): stranger (dev1)

Each test applies its policies, waits until the traffic matches what they allow (rules land
within a few seconds), deletes them, and waits until every client reaches the target again.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from tests.e2e.network.conftest import Namespaces
from tests.e2e.network.workloads import WEB_PORT, Obj, client_pod, policy, reaches, ready_pod, web_pod
from tests.support.netlab import Cluster, eventually

WITHIN = 30.0  # seconds for a policy change to reach the devices


@dataclass
class PolicyPods:
    """The module's pods: name -> (namespace, IP)."""

    pods: dict[str, tuple[str, str]]
    clients: tuple[str, ...] = ("friendly", "nosy", "friend", "stranger", "leaky")
    applied: list[str] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"http://{self.pods[name][1]}:{WEB_PORT}/"


@pytest.fixture(scope="module")
def np_lab(cluster: Cluster, module_namespaces: Namespaces) -> PolicyPods:
    """The pods of the picture above, all Ready."""
    home = module_namespaces.make("np", {"team": "home"})
    friends = module_namespaces.make("np-friends", {"team": "friends"})
    strangers = module_namespaces.make("np-strangers", {"team": "strangers"})
    dev1, dev2 = cluster.node("dev1"), cluster.node("dev2")
    made = [
        web_pod("target", home, dev1, {"app": "target"}),
        web_pod("peer", home, dev1, {"app": "peer"}),
        client_pod("friendly", home, dev2, {"role": "client"}),
        client_pod("nosy", home, dev1),
        client_pod("leaky", home, dev2, {"role": "egress"}),
        client_pod("friend", friends, dev2),
        client_pod("stranger", strangers, dev1),
    ]
    cluster.kubectl.apply(made)
    pods = {}
    for body in made:
        ns, name = body["metadata"]["namespace"], body["metadata"]["name"]
        pods[name] = (ns, ready_pod(cluster.kubectl, ns, name))
    return PolicyPods(pods)


def observe(cluster: Cluster, lab: PolicyPods, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], bool]:
    """Whether each (client, server) pair connects, probed in parallel."""

    def probe(pair: tuple[str, str]) -> bool:
        client, target = pair
        return reaches(cluster.kubectl, lab.pods[client][0], client, lab.url(target))

    with ThreadPoolExecutor(len(pairs)) as pool:
        return dict(zip(pairs, pool.map(probe, pairs), strict=True))


def expect(cluster: Cluster, lab: PolicyPods, wanted: dict[tuple[str, str], bool], what: str) -> None:
    """Wait until the traffic matches `wanted`, then check once more that it stays so."""

    def matches() -> bool:
        seen = observe(cluster, lab, list(wanted))
        wrong = {f"{c}->{t}": ("reached" if ok else "blocked") for (c, t), ok in seen.items() if ok != wanted[(c, t)]}
        assert not wrong, f"unexpected: {wrong}"
        return True

    eventually(matches, within=WITHIN, interval=1.0, what=what)
    matches()


def everyone_reaches(lab: PolicyPods, target: str = "target") -> dict[tuple[str, str], bool]:
    return {(client, target): True for client in lab.clients}


@pytest.fixture
def policies(cluster: Cluster, np_lab: PolicyPods) -> Iterator[list[Obj]]:
    """Policies a test appends and applies; deleted after it, then every client reaches the target again."""
    made: list[Obj] = []
    try:
        yield made
    finally:
        for body in made:
            meta = body["metadata"]
            cluster.kubectl("delete", "networkpolicy", "-n", meta["namespace"], meta["name"], "--ignore-not-found")
        if made:
            expect(cluster, np_lab, everyone_reaches(np_lab), "every client reaching the target once policies are gone")


def apply(cluster: Cluster, made: list[Obj], *bodies: Obj) -> None:
    made.extend(bodies)
    cluster.kubectl.apply(bodies)


def deny_all(ns: str) -> Obj:
    return policy("deny-all", ns, {}, policyTypes=["Ingress"])


def test_without_policies_every_client_reaches_the_target(cluster: Cluster, np_lab: PolicyPods) -> None:
    """With no policy every client, on either device and in any namespace, reaches the target."""
    expect(cluster, np_lab, everyone_reaches(np_lab), "every client reaching the target")


def test_default_deny_blocks_all_ingress(cluster: Cluster, np_lab: PolicyPods, policies: list[Obj]) -> None:
    """An empty podSelector with Ingress and no rules blocks every client, local and remote."""
    apply(cluster, policies, deny_all("np"))
    blocked = {pair: False for pair in everyone_reaches(np_lab)}
    blocked |= {(c, "peer"): False for c in ("friendly", "nosy")}
    expect(cluster, np_lab, blocked, "every client blocked")


def test_allow_by_pod_label_lets_exactly_those_pods_in(
    cluster: Cluster, np_lab: PolicyPods, policies: list[Obj]
) -> None:
    """Ingress from pods labelled role=client of the same namespace: friendly in, everyone else out."""
    allow = policy(
        "allow-clients",
        "np",
        {"matchLabels": {"app": "target"}},
        policyTypes=["Ingress"],
        ingress=[
            {
                "from": [{"podSelector": {"matchLabels": {"role": "client"}}}],
                "ports": [{"protocol": "TCP", "port": WEB_PORT}],
            }
        ],
    )
    apply(cluster, policies, deny_all("np"), allow)
    wanted = {pair: pair[0] == "friendly" for pair in everyone_reaches(np_lab)}
    wanted[("friendly", "peer")] = False  # the allow rule selects the target only
    expect(cluster, np_lab, wanted, "only friendly reaching the target")


def test_allow_by_namespace_label_lets_exactly_that_namespace_in(
    cluster: Cluster, np_lab: PolicyPods, policies: list[Obj]
) -> None:
    """Ingress from namespaces labelled team=friends: friend in, the stranger and np's own pods out."""
    allow = policy(
        "allow-friends",
        "np",
        {"matchLabels": {"app": "target"}},
        policyTypes=["Ingress"],
        ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "friends"}}}]}],
    )
    apply(cluster, policies, deny_all("np"), allow)
    wanted = {pair: pair[0] == "friend" for pair in everyone_reaches(np_lab)}
    expect(cluster, np_lab, wanted, "only friend reaching the target")


def test_egress_to_an_ip_block_is_blocked(cluster: Cluster, np_lab: PolicyPods, policies: list[Obj]) -> None:
    """Egress allowed to the pod network except the target's /32: leaky reaches peer, not the target."""
    target_ip = np_lab.pods["target"][1]
    limit = policy(
        "leaky-egress",
        "np",
        {"matchLabels": {"role": "egress"}},
        policyTypes=["Egress"],
        egress=[{"to": [{"ipBlock": {"cidr": "10.42.0.0/16", "except": [f"{target_ip}/32"]}}]}],
    )
    apply(cluster, policies, limit)
    wanted = {("leaky", "target"): False, ("leaky", "peer"): True, ("friendly", "target"): True}
    expect(cluster, np_lab, wanted, "leaky blocked from the target only")
