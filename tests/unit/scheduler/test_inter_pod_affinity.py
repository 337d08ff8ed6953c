"""InterPodAffinity: required (anti-)affinity filters nodes, preferred terms and others' terms score."""

from __future__ import annotations

from typing import Any

import pytest

from edgekube.scheduler.plugins.inter_pod_affinity import (
    AFFINITY_REASON,
    ANTI_AFFINITY_REASON,
    EXISTING_ANTI_AFFINITY_REASON,
    InterPodAffinity,
)
from edgekube.scheduler.podinfos import PodInfo
from edgekube.scheduler.statuses import SKIP, Code
from tests.unit.scheduler.builders import cache_of, node, pod, run_filter, run_score

HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def term(app: str, key: str = HOST, **extra: Any) -> dict[str, Any]:
    return {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key, **extra}


def affinity(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": list(terms)}}


def anti(*terms: dict[str, Any]) -> dict[str, Any]:
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": list(terms)}}


def cluster(*placed: dict[str, Any]) -> Any:
    """Nodes a1, a2 in zone a and b1 in zone b; `placed` pods on them."""
    return cache_of(
        [node("a1", labels={ZONE: "a"}), node("a2", labels={ZONE: "a"}), node("b1", labels={ZONE: "b"})],
        placed,
    )


DB_ON_A1 = pod("db", labels={"app": "db"}, node_name="a1")
WEB_ON_A1 = pod("web", labels={"app": "web"}, node_name="a1")


@pytest.mark.parametrize(
    ("placed", "incoming", "expected"),
    [
        pytest.param([DB_ON_A1], pod(affinity=affinity(term("db"))), {"a1": None, "a2": AFFINITY_REASON,
                                                                         "b1": AFFINITY_REASON}, id="affinity-host"),
        pytest.param([DB_ON_A1], pod(affinity=affinity(term("db", ZONE))), {"a1": None, "a2": None,
                                                                               "b1": AFFINITY_REASON},
                     id="affinity-zone"),
        pytest.param([DB_ON_A1], pod(affinity=affinity(term("db", "rack"))), {"a1": AFFINITY_REASON,
                                                                                 "a2": AFFINITY_REASON,
                                                                                 "b1": AFFINITY_REASON},
                     id="affinity-node-lacks-topology-label"),
        pytest.param([], pod(affinity=affinity(term("cache"))), {"a1": AFFINITY_REASON, "a2": AFFINITY_REASON,
                                                                   "b1": AFFINITY_REASON},
                     id="affinity-nobody-matches"),
        pytest.param([], pod(labels={"app": "cache"}, affinity=affinity(term("cache"))),
                     {"a1": None, "a2": None, "b1": None}, id="affinity-first-of-its-group"),
        pytest.param([DB_ON_A1], pod(labels={"app": "cache"}, affinity=affinity(term("cache"), term("db"))),
                     {"a1": AFFINITY_REASON, "a2": AFFINITY_REASON, "b1": AFFINITY_REASON},
                     id="affinity-all-terms-must-match-one-pod"),
        pytest.param([DB_ON_A1], pod(affinity=anti(term("db"))), {"a1": ANTI_AFFINITY_REASON, "a2": None,
                                                                     "b1": None}, id="anti-host"),
        pytest.param([DB_ON_A1], pod(affinity=anti(term("db", ZONE))), {"a1": ANTI_AFFINITY_REASON,
                                                                           "a2": ANTI_AFFINITY_REASON, "b1": None},
                     id="anti-zone"),
        pytest.param([DB_ON_A1], pod(affinity=anti(term("db", namespaces=["other"]))),
                     {"a1": None, "a2": None, "b1": None}, id="anti-other-namespace"),
        pytest.param([pod("db", namespace="other", labels={"app": "db"}, node_name="a1")],
                     pod(affinity=anti(term("db", namespaceSelector={}))),
                     {"a1": ANTI_AFFINITY_REASON, "a2": None, "b1": None}, id="anti-all-namespaces"),
        pytest.param([pod("db", labels={"app": "db"}, node_name="a1", affinity=anti(term("web", ZONE)))],
                     pod(labels={"app": "web"}),
                     {"a1": EXISTING_ANTI_AFFINITY_REASON, "a2": EXISTING_ANTI_AFFINITY_REASON, "b1": None},
                     id="existing-pod-refuses"),
        pytest.param([pod("db", labels={"app": "db"}, node_name="a1", affinity=anti(term("web")))],
                     pod(labels={"app": "api"}), None, id="existing-anti-not-matching-skips"),
        pytest.param([WEB_ON_A1], pod(labels={"app": "web"}), None, id="nothing-to-check-skips"),
    ],
)
def test_filter(placed: list[dict[str, Any]], incoming: dict[str, Any], expected: dict[str, str | None] | None) -> None:
    """Each node's verdict, with Kubernetes' reasons; SKIP when no term concerns the pod."""
    cache = cluster(*placed)
    verdicts = {name: run_filter(InterPodAffinity(), incoming, cache, name) for name in ("a1", "a2", "b1")}
    if expected is None:
        assert all(v.code is SKIP.code for v in verdicts.values())
        return
    for name, reason in expected.items():
        status = verdicts[name]
        if reason is None:
            assert status.ok, (name, status)
        else:
            assert status.reasons == (reason,), name
            assert status.code is (Code.UNRESOLVABLE if reason == AFFINITY_REASON else Code.UNSCHEDULABLE)


def test_match_label_keys_narrow_the_selector() -> None:
    """matchLabelKeys adds `key in (my value)`: pods of another revision do not count."""
    old = pod("old", labels={"app": "web", "rev": "1"}, node_name="a1")
    incoming = pod(labels={"app": "web", "rev": "2"}, affinity=anti(term("web", matchLabelKeys=["rev"])))
    assert run_filter(InterPodAffinity(), incoming, cluster(old), "a1").ok


def test_node_label_change_moves_existing_terms() -> None:
    """When a node changes zone, the domains of its pods' terms move with it."""
    cache = cluster(pod("db", labels={"app": "db"}, node_name="a1", affinity=anti(term("web", ZONE))))
    web = pod(labels={"app": "web"})
    assert not run_filter(InterPodAffinity(), web, cache, "a2").ok
    cache.set_node(node("a1", labels={ZONE: "c"}))
    assert run_filter(InterPodAffinity(), web, cache, "a2").ok
    assert not run_filter(InterPodAffinity(), web, cache, "a1").ok


def preferred(kind: str, *weighted: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    return {kind: {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": w, "podAffinityTerm": t} for w, t in weighted
    ]}}


@pytest.mark.parametrize(
    ("placed", "incoming", "expected"),
    [
        pytest.param([WEB_ON_A1], pod(), None, id="no-terms-skips"),
        pytest.param([DB_ON_A1], pod(affinity=preferred("podAffinity", (10, term("db")))),
                     {"a1": 100, "a2": 0, "b1": 0}, id="preferred-affinity-host"),
        pytest.param([DB_ON_A1], pod(affinity=preferred("podAffinity", (10, term("db", ZONE)))),
                     {"a1": 100, "a2": 100, "b1": 0}, id="preferred-affinity-zone"),
        pytest.param([DB_ON_A1], pod(affinity=preferred("podAntiAffinity", (10, term("db")))),
                     {"a1": 0, "a2": 100, "b1": 100}, id="preferred-anti-affinity"),
        pytest.param(
            [DB_ON_A1, pod("db2", labels={"app": "db"}, node_name="b1")],
            pod(affinity={**preferred("podAffinity", (10, term("db", ZONE))),
                          **preferred("podAntiAffinity", (5, term("db")))}),
            # zone a: +10, a1 also -5 (host); zone b: +10, b1 -5 -> a1 5, a2 10, b1 5
            {"a1": 0, "a2": 100, "b1": 0},
            id="affinity-and-anti-add-up",
        ),
        pytest.param([pod("db", labels={"app": "db"}, node_name="b1", affinity=affinity(term("web")))],
                     pod(labels={"app": "web"}), {"a1": 0, "a2": 0, "b1": 100},
                     id="existing-required-affinity-attracts"),
        pytest.param([pod("db", labels={"app": "db"}, node_name="b1",
                          affinity=preferred("podAntiAffinity", (7, term("web", ZONE))))],
                     pod(labels={"app": "web"}), {"a1": 100, "a2": 100, "b1": 0},
                     id="existing-preferred-anti-repels"),
    ],
)
def test_score(placed: list[dict[str, Any]], incoming: dict[str, Any], expected: dict[str, int] | None) -> None:
    """Per-domain weights summed per node, scaled min..max to 0..100."""
    assert run_score(InterPodAffinity(), incoming, cluster(*placed)) == expected


def test_assumed_pod_with_anti_affinity_blocks_the_next() -> None:
    """Two replicas with hostname anti-affinity: once one is assumed on a node, the other avoids it."""
    cache = cluster()
    first = pod("r1", labels={"app": "r"}, affinity=anti(term("r")))
    cache.assume(PodInfo.of(first), "a1")
    second = pod("r2", labels={"app": "r"}, affinity=anti(term("r")))
    assert run_filter(InterPodAffinity(), second, cache, "a1").reasons == (ANTI_AFFINITY_REASON,)
    assert run_filter(InterPodAffinity(), second, cache, "a2").ok
    cache.forget("default/r1")
    assert run_filter(InterPodAffinity(), second, cache, "a1").ok
