"""The scheduler cache: assumed pods, confirmations, nodes coming and going, indexes."""

from __future__ import annotations

from edgekube.scheduler.framework import TermKind
from edgekube.scheduler.podinfos import PodInfo
from tests.unit.scheduler.builders import cache_of, node, pod


def test_assume_then_confirm() -> None:
    """The informer's bound pod replaces the assumed one; forgetting it afterwards changes nothing."""
    cache = cache_of([node("a", cpu="4")])
    cache.assume(PodInfo.of(pod("p", cpu="1")), "a")
    assert cache.is_assumed("default/p") and cache.get("a").requested.cpu == 1000  # type: ignore[union-attr]
    cache.add_pod(PodInfo.of(pod("p", cpu="1", node_name="a")))
    assert not cache.is_assumed("default/p")
    cache.forget("default/p")
    assert cache.get("a").requested.cpu == 1000  # type: ignore[union-attr]
    assert cache.pod_count == 1


def test_assume_then_forget() -> None:
    """A failed bind takes the pod's requests off the node again."""
    cache = cache_of([node("a")])
    cache.assume(PodInfo.of(pod("p", cpu="1", owner="rs")), "a")
    cache.forget("default/p")
    assert cache.get("a").requested.cpu == 0  # type: ignore[union-attr]
    assert cache.owner_counts("rs") == {}
    assert cache.pod_count == 0


def test_confirmed_on_another_node_moves() -> None:
    """If the pod turns out bound elsewhere, it counts only there."""
    cache = cache_of([node("a"), node("b")])
    cache.assume(PodInfo.of(pod("p", cpu="1")), "a")
    cache.add_pod(PodInfo.of(pod("p", cpu="1", node_name="b")))
    assert cache.get("a").requested.cpu == 0  # type: ignore[union-attr]
    assert cache.get("b").requested.cpu == 1000  # type: ignore[union-attr]


def test_pods_before_their_node() -> None:
    """A pod seen before its node waits in a node-less entry, which is not offered for scheduling."""
    cache = cache_of([node("a")], [pod("p", cpu="1", node_name="later")])
    assert [n.name for n in cache.nodes()] == ["a"]
    cache.set_node(node("later"))
    assert [n.name for n in cache.nodes()] == ["a", "later"]
    assert cache.get("later").requested.cpu == 1000  # type: ignore[union-attr]


def test_removed_node_leaves_scheduling() -> None:
    """A deleted node is no longer offered; its entry goes once its pods are gone."""
    cache = cache_of([node("a"), node("b")], [pod("p", node_name="b")])
    cache.remove_node("b")
    assert [n.name for n in cache.nodes()] == ["a"]
    cache.remove_pod("default/p")
    assert cache.get("b") is None


def test_node_with_bad_allocatable_is_left_out() -> None:
    """A node whose allocatable does not parse is not offered (and does not break the cache)."""
    broken = node("bad")
    broken["status"]["allocatable"]["cpu"] = "lots"
    cache = cache_of([node("a"), broken])
    assert [n.name for n in cache.nodes()] == ["a"]


def test_owner_index() -> None:
    """Pods per controller per node, kept as pods come and go."""
    cache = cache_of([node("a"), node("b")], [pod("x", owner="rs", node_name="a"), pod("y", owner="rs", node_name="a")])
    cache.assume(PodInfo.of(pod("z", owner="rs")), "b")
    assert cache.owner_counts("rs") == {"a": 2, "b": 1}
    cache.remove_pod("default/x")
    assert cache.owner_counts("rs") == {"a": 1, "b": 1}


def test_term_index_counts_distinct_terms() -> None:
    """Replicas sharing a term are one entry, with a count per topology value."""
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "r"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    cache = cache_of(
        [node("a"), node("b")],
        [pod(f"r{i}", labels={"app": "r"}, affinity=anti, node_name=n) for i, n in enumerate("aab")],
    )
    (values,) = cache.term_domains(TermKind.REQUIRED_ANTI_AFFINITY).values()
    assert values == {"a": 2, "b": 1}
    for i in range(3):
        cache.remove_pod(f"default/r{i}")
    assert not cache.term_domains(TermKind.REQUIRED_ANTI_AFFINITY)


def test_pods_for_uses_the_label_index() -> None:
    """Candidates for a term are the pods carrying one of its required labels."""
    cache = cache_of([node("a")], [pod("w", labels={"app": "web"}, node_name="a"),
                                    pod("d", labels={"app": "db"}, node_name="a")])
    term = PodInfo.of(pod("x", affinity={"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}]}})
    ).required_affinity[0]
    assert [p.name for p, _ in cache.pods_for(term)] == ["d"]
