"""Pod networking on one node, end to end: addresses, reachability, hostPort, restarts, deletion, cleanup."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
from typing import Any

import pytest

from agent.runtime.interface import LABEL_POD_UID
from tests.support.images import BUSYBOX_IMAGE
from tests.support.netlab import Cluster, LabAgent, device_leftovers, device_state, eventually

Obj = dict[str, Any]
NODE = "dev1"  # the lab device; its Node is named cluster.node(NODE)
WEB_PORT = 8080
SERVE = f"mkdir -p /www && hostname > /www/index.html && exec httpd -f -p {WEB_PORT} -h /www"
pytestmark = pytest.mark.slow


def web_pod(cluster: Cluster, name: str, ns: str, *, host_port: int | None = None) -> Obj:
    port: Obj = {"containerPort": WEB_PORT}
    if host_port is not None:
        port["hostPort"] = host_port
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "nodeName": cluster.node(NODE),
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "web",
                    "image": BUSYBOX_IMAGE,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", SERVE],
                    "ports": [port],
                }
            ],
        },
    }


def make_namespace(cluster: Cluster, name: str) -> None:
    cluster.kubectl.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}])
    cluster.namespaces.append(name)


def running(cluster: Cluster, ns: str, name: str) -> Obj:
    """The pod once it runs and has a podIP."""

    def check() -> Obj | None:
        pod = cluster.kubectl.get("pod", "-n", ns, name)
        status = pod.get("status") or {}
        return pod if status.get("phase") == "Running" and status.get("podIP") else None

    try:
        return eventually(check, within=90, what=f"pod {ns}/{name} running with a podIP")
    except AssertionError:
        print(cluster.agents[NODE].log(6000))
        print(device_state(cluster.lab.device(NODE)))
        raise


def node_cidr(cluster: Cluster) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(cluster.kubectl.get("node", cluster.node(NODE))["spec"]["podCIDR"])


def host_veth(cluster: Cluster, uid: str) -> Obj | None:
    name = "ekv" + uid.replace("-", "")[:8]
    done = cluster.lab.device(NODE).sh(f"ip -j link show {name} 2>/dev/null || true")
    links = json.loads(done or "[]")
    return links[0] if links else None


def address_table(agent: LabAgent) -> dict[str, str]:
    path = agent.data_dir / "agent" / "network" / "addresses.json"
    return dict(json.loads(path.read_text())["addresses"]) if path.exists() else {}


def fetch(cluster: Cluster, where: str, url: str) -> str:
    """busybox wget from the lab's outside namespace or the node's own: the body, or '' on failure.

    `timeout N wget`, not `wget -T N`: busybox 1.35's wget crashes (SIGSEGV) when given -T."""
    device = cluster.lab.outside if where == "outside" else cluster.lab.device(NODE)
    return device.sh(f"timeout 3 busybox wget -q -O - {url} 2>/dev/null || true")


def test_two_pods_get_distinct_addresses_and_reach_each_other(cluster: Cluster) -> None:
    """Two pods on one node: distinct IPs in the node's CIDR, in status; pod to pod, pod to gateway, node to pod."""
    ns = "podnet-a"
    make_namespace(cluster, ns)
    cluster.kubectl.apply([web_pod(cluster, "one", ns), web_pod(cluster, "two", ns)])
    one, two = running(cluster, ns, "one"), running(cluster, ns, "two")
    cidr = node_cidr(cluster)
    ip_one, ip_two = (ipaddress.IPv4Address(p["status"]["podIP"]) for p in (one, two))
    assert ip_one != ip_two and ip_one in cidr and ip_two in cidr
    assert one["status"]["podIPs"] == [{"ip": str(ip_one)}]
    gateway = cidr.network_address + 1
    assert ip_one not in (cidr.network_address, gateway)
    # pod -> pod
    got = cluster.kubectl.exec(ns, "one", f"timeout 3 wget -q -O - http://{ip_two}:{WEB_PORT}/")
    assert got.stdout.strip() == "two", got.stderr
    # node -> pod, pod -> gateway (the bridge address)
    assert fetch(cluster, "node", f"http://{ip_one}:{WEB_PORT}/").strip() == "one"
    pinged = cluster.kubectl.exec(ns, "two", f"ping -c 1 -W 2 {gateway}")
    assert pinged.returncode == 0, pinged.stdout + pinged.stderr
    resolv = cluster.kubectl.exec(ns, "one", "cat /etc/resolv.conf").stdout
    assert "nameserver 10.43.0.10" in resolv and f"search {ns}.svc.cluster.local" in resolv


def test_host_port_answers_on_the_node_address(cluster: Cluster) -> None:
    """A hostPort reaches the pod from outside the node and from the node itself."""
    ns = "podnet-b"
    make_namespace(cluster, ns)
    cluster.kubectl.apply([web_pod(cluster, "hp", ns, host_port=18080)])
    running(cluster, ns, "hp")
    node_ip = cluster.lab.device(NODE).ip
    url = f"http://{node_ip}:18080/"
    assert eventually(lambda: fetch(cluster, "outside", url).strip(), within=20, what="hostPort from outside") == "hp"
    assert eventually(lambda: fetch(cluster, "node", url).strip(), within=20, what="hostPort from the node") == "hp"


def test_agent_restart_keeps_addresses_without_rewiring(cluster: Cluster) -> None:
    """kill -9 and restart: same podIP, the same veth (not re-created), the table unchanged."""
    ns = "podnet-c"
    make_namespace(cluster, ns)
    cluster.kubectl.apply([web_pod(cluster, "keep", ns)])
    pod = running(cluster, ns, "keep")
    uid, ip = pod["metadata"]["uid"], pod["status"]["podIP"]
    agent = cluster.agents[NODE]
    before_veth, before_table = host_veth(cluster, uid), address_table(agent)
    assert before_veth is not None and before_table[uid] == ip
    assert agent.proc is not None
    agent.proc.kill()
    agent.proc.wait()
    agent.start()
    cluster.wait_nodes_ready()
    eventually(lambda: "pod network ready" in agent.log(size=200000), within=30, what="the network set up again")
    after = running(cluster, ns, "keep")
    assert after["status"]["podIP"] == ip
    after_veth = host_veth(cluster, uid)
    assert after_veth is not None and after_veth["ifindex"] == before_veth["ifindex"]
    assert address_table(agent) == before_table
    assert fetch(cluster, "node", f"http://{ip}:{WEB_PORT}/").strip() == "keep"


def infra_pid(cluster: Cluster, uid: str) -> int:
    """PID of the infra process of the pod's Podman sandbox (the holder of its namespaces)."""
    pods = cluster.podman.run("pod", "ps", "-q", "--filter", f"label={LABEL_POD_UID}={uid}").split()
    assert len(pods) == 1, pods
    infra = cluster.podman.run("pod", "inspect", "--format", "{{.InfraContainerID}}", pods[0])
    return int(cluster.podman.run("inspect", "--format", "{{.State.Pid}}", infra))


def test_a_recreated_sandbox_is_wired_again_with_the_same_address(cluster: Cluster) -> None:
    """The infra process dies: the agent makes a new sandbox and wires it with the pod's address."""
    ns = "podnet-e"
    make_namespace(cluster, ns)
    cluster.kubectl.apply([web_pod(cluster, "phoenix", ns)])
    pod = running(cluster, ns, "phoenix")
    uid, ip = pod["metadata"]["uid"], pod["status"]["podIP"]
    before = host_veth(cluster, uid)
    assert before is not None
    os.kill(infra_pid(cluster, uid), signal.SIGKILL)

    def rewired() -> bool:
        now = host_veth(cluster, uid)
        return now is not None and now["ifindex"] != before["ifindex"]

    eventually(rewired, within=60, what="a new veth for the new sandbox")
    after = running(cluster, ns, "phoenix")
    assert after["status"]["podIP"] == ip
    body = eventually(lambda: fetch(cluster, "node", f"http://{ip}:{WEB_PORT}/").strip(), within=30, what="served")
    assert body == "phoenix"


def test_pod_deletion_removes_the_veth_and_frees_the_address(cluster: Cluster) -> None:
    """Deleting a pod deletes its host veth and takes its uid out of the address table."""
    ns = "podnet-d"
    make_namespace(cluster, ns)
    cluster.kubectl.apply([web_pod(cluster, "gone", ns)])
    pod = running(cluster, ns, "gone")
    uid = pod["metadata"]["uid"]
    agent = cluster.agents[NODE]
    assert host_veth(cluster, uid) is not None and uid in address_table(agent)
    cluster.kubectl.ok("delete", "pod", "-n", ns, "gone", "--wait=true", timeout=60)
    eventually(lambda: host_veth(cluster, uid) is None and uid not in address_table(agent), within=30, what="unwired")


def test_cleanup_leaves_nothing(cluster: Cluster) -> None:
    """After the pods are gone and the agent stopped, `agent --cleanup` removes every link, table and route."""
    cluster.delete_namespaces(list(cluster.namespaces))
    agent = cluster.agents[NODE]
    agent.stop()
    done = agent.cleanup()
    assert done.returncode == 0, done.stderr
    assert "removed link ek0" in done.stdout, done.stdout
    assert device_leftovers(cluster.lab.device(NODE)) == []
    assert not (agent.data_dir / "agent" / "network").exists()
    again = agent.cleanup()
    assert again.returncode == 0 and "nothing to remove" in again.stdout
