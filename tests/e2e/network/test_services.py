"""Services across devices: a Deployment of busybox httpd pods on dev1 behind ClusterIP, sticky,
NodePort and headless Services, reached from a pod and from the device dev2, from outside the
devices through the NodePort, and by name through the cluster DNS."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.network.conftest import Namespaces
from tests.e2e.network.workloads import (
    client_pod,
    deployment,
    fetch,
    nslookup,
    ready_pod,
    service,
    wget_script,
)
from tests.support.netlab import Cluster, Device, eventually

REPLICAS = 3
KUBERNETES_SERVICE_IP = "10.43.0.1"


@dataclass
class Web:
    """What the module's setup made: where things are and their addresses."""

    ns: str
    pods: dict[str, str]
    """Ready web pod name -> pod IP."""
    cluster_ip: str
    sticky_ip: str
    node_port: int
    client: str = "client"


def web_pods(cluster: Cluster, ns: str) -> dict[str, str]:
    """Ready pods of the Deployment: name -> IP."""
    items = cluster.kubectl.get("pods", "-n", ns, "-l", "app=web")["items"]
    found = {}
    for item in items:
        status = item.get("status") or {}
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        if ready and status.get("podIP") and not item["metadata"].get("deletionTimestamp"):
            found[item["metadata"]["name"]] = status["podIP"]
    return found


def endpoint_ips(cluster: Cluster, ns: str, name: str) -> set[str]:
    """Ready addresses of the Service's Endpoints."""
    found = cluster.kubectl.get("endpoints", "-n", ns, name)
    return {a["ip"] for subset in found.get("subsets") or [] for a in subset.get("addresses") or []}


@pytest.fixture(scope="module")
def web(cluster: Cluster, module_namespaces: Namespaces) -> Iterator[Web]:
    """The web Deployment (3 pods on dev1), its Services and a client pod on dev2."""
    ns = module_namespaces.make("svc")
    cluster.kubectl.apply(
        [
            deployment("web", ns, cluster.node("dev1"), REPLICAS),
            client_pod("client", ns, cluster.node("dev2")),
            service("web", ns, {"app": "web"}),
            service("web-sticky", ns, {"app": "web"}, sessionAffinity="ClientIP"),
            service("web-nodeport", ns, {"app": "web"}, type="NodePort"),
            service("web-headless", ns, {"app": "web"}, clusterIP="None"),
        ]
    )
    ready_pod(cluster.kubectl, ns, "client")

    def all_ready() -> dict[str, str] | None:
        found = web_pods(cluster, ns)
        return found if len(found) == REPLICAS else None

    pods = eventually(all_ready, within=90, what=f"{REPLICAS} web pods Ready")
    eventually(lambda: endpoint_ips(cluster, ns, "web") == set(pods.values()), within=30, what="web's endpoints")
    services = {s["metadata"]["name"]: s for s in cluster.kubectl.get("services", "-n", ns)["items"]}
    yield Web(
        ns=ns,
        pods=pods,
        cluster_ip=services["web"]["spec"]["clusterIP"],
        sticky_ip=services["web-sticky"]["spec"]["clusterIP"],
        node_port=int(services["web-nodeport"]["spec"]["ports"][0]["nodePort"]),
    )


def from_device(device: Device, url: str, times: int) -> list[str]:
    """Answers to `times` fetches of `url` by the host's busybox wget in a device's namespace."""
    out = device.sh(wget_script(url, times=times, prefix="busybox "), timeout=10 + 3 * times)
    return [line.strip() for line in out.splitlines() if line.strip()]


def test_cluster_ip_from_a_pod_on_another_device_reaches_every_endpoint(cluster: Cluster, web: Web) -> None:
    """30 fetches of the ClusterIP from a pod on dev2 are all answered, by every web pod."""
    answers = fetch(cluster.kubectl, web.ns, web.client, f"http://{web.cluster_ip}/", times=30)
    assert len(answers) == 30 and "FAILED" not in answers, Counter(answers)
    assert set(answers) == set(web.pods), Counter(answers)


@pytest.mark.parametrize("device", ["dev2", "dev1"])
def test_cluster_ip_from_a_device_itself(cluster: Cluster, web: Web, device: str) -> None:
    """The device's own processes (outside any pod) reach the ClusterIP, on the endpoints' node and off it."""
    answers = from_device(cluster.lab.device(device), f"http://{web.cluster_ip}/", 20)
    assert len(answers) == 20 and "FAILED" not in answers, Counter(answers)
    assert set(answers) == set(web.pods), Counter(answers)


def test_a_pod_made_not_ready_stops_receiving_traffic(cluster: Cluster, web: Web) -> None:
    """Removing one pod's readiness file takes it out of the endpoints and out of the answers."""
    victim = sorted(web.pods)[0]
    rest = set(web.pods) - {victim}
    done = cluster.kubectl.exec(web.ns, victim, "rm /tmp/ready")
    assert done.returncode == 0, done.stderr
    try:
        eventually(lambda: endpoint_ips(cluster, web.ns, "web") == {web.pods[n] for n in rest}, what="endpoint out")

        def only_ready_ones_answer() -> Counter[str] | None:
            answers = Counter(fetch(cluster.kubectl, web.ns, web.client, f"http://{web.cluster_ip}/", times=20))
            return answers if set(answers) == rest else None

        eventually(only_ready_ones_answer, within=20, what=f"answers from {sorted(rest)} only")
    finally:
        cluster.kubectl.exec(web.ns, victim, "touch /tmp/ready")
    eventually(lambda: endpoint_ips(cluster, web.ns, "web") == set(web.pods.values()), what="endpoint back")


def test_session_affinity_client_ip_pins_each_client(cluster: Cluster, web: Web) -> None:
    """With sessionAffinity ClientIP a pod client and a device client each keep one endpoint."""
    url = f"http://{web.sticky_ip}/"
    from_pod = Counter(fetch(cluster.kubectl, web.ns, web.client, url, times=20))
    assert len(from_pod) == 1 and set(from_pod) <= set(web.pods) and from_pod.total() == 20, from_pod
    from_dev2 = Counter(from_device(cluster.lab.device("dev2"), url, 20))
    assert len(from_dev2) == 1 and set(from_dev2) <= set(web.pods) and from_dev2.total() == 20, from_dev2


@pytest.mark.parametrize("device", ["dev1", "dev2"])
def test_node_port_answers_from_outside_the_devices(cluster: Cluster, web: Web, device: str) -> None:
    """The lab's own namespace reaches the NodePort on each device, the one without endpoints too."""
    node_ip = cluster.lab.device(device).ip
    answers = from_device(cluster.lab.outside, f"http://{node_ip}:{web.node_port}/", 10)
    assert len(answers) == 10 and set(answers) <= set(web.pods), Counter(answers)


def test_dns_resolves_a_service_name_to_its_cluster_ip(cluster: Cluster, web: Web) -> None:
    """nslookup in a pod answers a Service's ClusterIP, and kubernetes.default's."""
    found, raw = nslookup(cluster.kubectl, web.ns, web.client, f"web.{web.ns}.svc.cluster.local")
    assert found == [web.cluster_ip], raw
    found, raw = nslookup(cluster.kubectl, web.ns, web.client, "kubernetes.default.svc.cluster.local")
    assert found == [KUBERNETES_SERVICE_IP], raw


def test_dns_resolves_a_headless_service_to_its_pod_ips(cluster: Cluster, web: Web) -> None:
    """nslookup of a headless Service answers the IPs of its ready pods."""
    found, raw = nslookup(cluster.kubectl, web.ns, web.client, f"web-headless.{web.ns}.svc.cluster.local")
    assert found == sorted(web.pods.values()), raw
