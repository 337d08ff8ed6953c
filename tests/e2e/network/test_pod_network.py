"""Pods on different devices reach each other by pod IP, with the host-gw and the vxlan backend,
and the target sees the source pod's own address (no masquerade between pods)."""

from __future__ import annotations

import ipaddress

import pytest

from tests.e2e.network.conftest import Namespaces
from tests.e2e.network.workloads import WEB_PORT, client_pod, fetch, ready_pod, web_pod
from tests.support.netlab import Cluster


@pytest.fixture(params=["host-gw", "vxlan"])
def current_cluster(request: pytest.FixtureRequest) -> Cluster:
    """Each test here runs once in the host-gw cluster and once in the vxlan one."""
    found: Cluster = request.getfixturevalue("cluster" if request.param == "host-gw" else "vxlan_cluster")
    return found


def test_pods_on_two_devices_reach_each_other_by_pod_ip(current_cluster: Cluster, namespaces: Namespaces) -> None:
    """A pod on dev2 fetches from a pod on dev1 by pod IP and is seen there with its own IP."""
    cluster = current_cluster
    ns = namespaces.make("pod-to-pod")
    cluster.kubectl.apply([web_pod("target", ns, cluster.node("dev1")), client_pod("source", ns, cluster.node("dev2"))])
    target_ip = ready_pod(cluster.kubectl, ns, "target")
    source_ip = ready_pod(cluster.kubectl, ns, "source")
    assert ipaddress.ip_network(f"{target_ip}/24", strict=False) != ipaddress.ip_network(
        f"{source_ip}/24", strict=False
    ), f"the pods should sit in different nodes' pod CIDRs: {target_ip}, {source_ip}"

    answer = fetch(cluster.kubectl, ns, "source", f"http://{target_ip}:{WEB_PORT}/cgi-bin/who")
    assert answer == [f"target {source_ip}"], answer
    back = cluster.kubectl.exec(ns, "target", f"ping -c 1 -W 2 {source_ip}")
    assert back.returncode == 0, f"ping from dev1's pod to dev2's pod failed:\n{back.stdout}{back.stderr}"
