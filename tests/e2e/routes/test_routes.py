"""Routes between nodes in real namespaces: pods on different nodes talk, unNATed, with both backends."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.routes.labs import (
    Lab,
    drive,
    has_vxlan,
    ip,
    our_routes,
    peer_seen,
    start_runner,
    sync,
    vxlan_entries,
)

BACKENDS = ["host-gw", "vxlan"]


@pytest.fixture
def lab() -> Iterator[Lab]:
    """Three nodes on one segment, each with a pod; every namespace deleted afterwards."""
    made = Lab()
    try:
        yield made.build(3)
    finally:
        made.close()


def sync_all(lab: Lab, backend: str) -> None:
    objs = [n.obj() for n in lab.nodes]
    for node in lab.nodes:
        outcome = sync(node, backend, objs)
        assert outcome["failures"] == [] and outcome["skipped"] == []


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pods_on_different_nodes_reach_each_other_unnated(lab: Lab, backend: str) -> None:
    """After one reconcile per node, every pod reaches the others and they see its own address."""
    n1, n2, n3 = lab.nodes
    sync_all(lab, backend)
    for client, server in [(n1, n2), (n2, n3), (n3, n1)]:
        assert peer_seen(client, server) == client.pod_ip
    again = sync(n1, backend, [n.obj() for n in lab.nodes])
    assert again["plan"] == {}, "a second reconcile finds nothing to change"
    if backend == "vxlan":
        fdb, neigh = vxlan_entries(n1)
        assert sorted(fdb) == [
            "0e:6b:c6:12:00:03 dst 198.18.0.3 self permanent",
            "0e:6b:c6:12:00:04 dst 198.18.0.4 self permanent",
        ]
        assert len(neigh) == 2
        assert our_routes(n1) == [
            "10.42.2.0/24 via 10.42.2.0 dev ek-vxlan onlink",
            "10.42.3.0/24 via 10.42.3.0 dev ek-vxlan onlink",
        ]
    else:
        assert our_routes(n1) == ["10.42.2.0/24 via 198.18.0.3 dev eth0", "10.42.3.0/24 via 198.18.0.4 dev eth0"]
        assert not has_vxlan(n1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_leaving_and_moving_nodes_are_followed(lab: Lab, backend: str) -> None:
    """A node that leaves loses its route; a node whose InternalIP changes is reached at the new one."""
    n1, n2, n3 = lab.nodes
    sync_all(lab, backend)
    sync(n1, backend, [n1.obj(), n2.obj()])
    assert not any(r.startswith("10.42.3.0/24") for r in our_routes(n1))
    if backend == "vxlan":
        fdb, neigh = vxlan_entries(n1)
        assert not any("198.18.0.4" in line for line in fdb) and not any("10.42.3.0" in x for x in neigh)
    # node2 moves from 198.18.0.3 to 198.18.0.13: the address on its eth0 and its InternalIP.
    # (Deleting a primary address takes its secondaries along, so the old one goes first.)
    ip("-n", n2.netns, "addr", "del", "198.18.0.3/24", "dev", "eth0")
    ip("-n", n2.netns, "addr", "add", "198.18.0.13/24", "dev", "eth0")
    n2.ip = "198.18.0.13"
    moved = [n.obj() for n in lab.nodes]
    for node in lab.nodes:
        assert sync(node, backend, moved)["failures"] == []
    assert peer_seen(n1, n2) == n1.pod_ip and peer_seen(n2, n3) == n2.pod_ip
    if backend == "host-gw":
        assert "10.42.2.0/24 via 198.18.0.13 dev eth0" in our_routes(n1)
    else:
        assert "0e:6b:c6:12:00:0d dst 198.18.0.13 self permanent" in vxlan_entries(n1)[0]
        assert "local 198.18.0.13" in ip("-n", n2.netns, "-d", "link", "show", "ek-vxlan")


def test_switching_backends_removes_the_other_ones_leftovers(lab: Lab) -> None:
    """host-gw -> vxlan leaves no host-gw route; vxlan -> host-gw leaves no ek-vxlan device."""
    n1, n2, _ = lab.nodes
    sync_all(lab, "host-gw")
    sync(n1, "vxlan", [n.obj() for n in lab.nodes])
    assert all("dev ek-vxlan onlink" in r for r in our_routes(n1)) and len(our_routes(n1)) == 2
    sync(n1, "host-gw", [n.obj() for n in lab.nodes])
    assert not has_vxlan(n1)
    assert our_routes(n1) == ["10.42.2.0/24 via 198.18.0.3 dev eth0", "10.42.3.0/24 via 198.18.0.4 dev eth0"]
    assert peer_seen(n1, n2) == n1.pod_ip


def test_host_gw_skips_a_node_that_is_not_on_link(lab: Lab) -> None:
    """A node whose InternalIP is on no connected subnet is named in a warning and gets no route."""
    n1, n2, _ = lab.nodes
    far = {
        "metadata": {"name": "far"},
        "spec": {"podCIDR": "10.42.9.0/24"},
        "status": {"addresses": [{"type": "InternalIP", "address": "203.0.113.5"}]},
    }
    outcome = sync(n1, "host-gw", [n1.obj(), n2.obj(), far])
    assert [s[0] for s in outcome["skipped"]] == ["far"] and "203.0.113.5" in outcome["skipped"][0][1]
    assert our_routes(n1) == ["10.42.2.0/24 via 198.18.0.3 dev eth0"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_remove_routes_leaves_nothing(lab: Lab, backend: str) -> None:
    """--cleanup removes every route of ours and ek-vxlan, and says what it removed."""
    n1 = lab.nodes[0]
    sync_all(lab, backend)
    ip("-n", n1.netns, "route", "add", "10.99.0.0/24", "via", "198.18.0.1")  # someone else's: must stay
    removed = drive(n1, {"action": "remove", "settings": {"backend": backend}})["removed"]
    assert len([r for r in removed if r.startswith("route ")]) == 2
    assert ("link ek-vxlan" in removed) == (backend == "vxlan")
    assert our_routes(n1) == [] and not has_vxlan(n1)
    assert "10.99.0.0/24 via 198.18.0.1" in ip("-n", n1.netns, "route")


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_routes_follows_nodes_and_undoes_drift(lab: Lab, backend: str, tmp_path: Path) -> None:
    """run_routes writes routes once nodes are known, follows a leave, and restores a deleted route."""
    n1, n2, n3 = lab.nodes
    nodes_file = tmp_path / "nodes.json"
    proc = start_runner(n1, backend, nodes_file, resync=0.5)
    try:
        time.sleep(0.3)
        assert our_routes(n1) == [], "nothing is written before the node list has arrived"
        nodes_file.write_text(json.dumps([n.obj() for n in lab.nodes]))
        wait_for(lambda: len(our_routes(n1)) == 2)
        nodes_file.write_text(json.dumps([n1.obj(), n2.obj()]))
        wait_for(lambda: len(our_routes(n1)) == 1)
        ip("-n", n1.netns, "route", "del", "10.42.2.0/24")
        wait_for(lambda: [r.split()[0] for r in our_routes(n1)] == ["10.42.2.0/24"])
        for node in (n2, n3):
            sync(node, backend, [n.obj() for n in lab.nodes])
        assert peer_seen(n1, n2) == n1.pod_ip
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err[-2000:]
