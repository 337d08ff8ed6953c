"""The objects the networking acceptance tests apply, and the probes they send from inside pods.

Every web pod serves on port 8080 with busybox httpd: `/` answers the pod's hostname (its
name) and `/cgi-bin/who` answers "<hostname> <REMOTE_ADDR>", so a test sees both which pod
answered and which source address reached it. Its readiness is the file /tmp/ready, which
a test removes with `kubectl exec` to make the pod not ready. Clients sleep until deleted.
Pods are pinned to a device by nodeName or a nodeSelector on kubernetes.io/hostname.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from tests.support.images import BUSYBOX_IMAGE
from tests.support.netlab import Kubectl, eventually

Obj = dict[str, Any]

CLUSTER_CIDR = ipaddress.ip_network("10.42.0.0/16")
WEB_PORT = 8080
# httpd listens on a dual-stack socket and reports IPv4 peers as [::ffff:a.b.c.d]: print a.b.c.d
WHO_CGI = """#!/bin/sh
peer=${REMOTE_ADDR#\\[}
peer=${peer%\\]}
echo "Content-Type: text/plain"
echo
echo "`hostname` ${peer#::ffff:}"
"""
WEB_SCRIPT = (
    "mkdir -p /www/cgi-bin && printf '%s' \"$WHO_CGI\" > /www/cgi-bin/who && chmod 755 /www/cgi-bin/who"
    " && hostname > /www/index.html && touch /tmp/ready"
    f" && exec httpd -f -p {WEB_PORT} -h /www"
)
CLIENT_SCRIPT = "trap 'exit 0' TERM; while true; do sleep 1; done"
READINESS = {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 1, "failureThreshold": 1}


def namespace(name: str, labels: dict[str, str] | None = None) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


def web_container() -> Obj:
    return {
        "name": "web",
        "image": BUSYBOX_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-c", WEB_SCRIPT],
        "env": [{"name": "WHO_CGI", "value": WHO_CGI}],
        "ports": [{"containerPort": WEB_PORT, "name": "http"}],
        "readinessProbe": READINESS,
    }


def client_container() -> Obj:
    return {
        "name": "client",
        "image": BUSYBOX_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-c", CLIENT_SCRIPT],
    }


def pod(name: str, ns: str, node: str, container: Obj, labels: dict[str, str] | None = None) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
        "spec": {"nodeName": node, "containers": [container], "terminationGracePeriodSeconds": 1},
    }


def web_pod(name: str, ns: str, node: str, labels: dict[str, str] | None = None) -> Obj:
    return pod(name, ns, node, web_container(), labels)


def client_pod(name: str, ns: str, node: str, labels: dict[str, str] | None = None) -> Obj:
    return pod(name, ns, node, client_container(), labels)


def deployment(name: str, ns: str, node: str, replicas: int) -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": {"kubernetes.io/hostname": node},
                    "containers": [web_container()],
                    "terminationGracePeriodSeconds": 1,
                },
            },
        },
    }


def service(name: str, ns: str, selector: dict[str, str], **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": WEB_PORT, "protocol": "TCP"}],
            **spec,
        },
    }


def policy(name: str, ns: str, pod_selector: Obj, **spec: Any) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"podSelector": pod_selector, **spec},
    }


# --- looking from inside ---------------------------------------------------------------------------

REACHED, BLOCKED = "REACHED", "BLOCKED"


def wget_script(url: str, *, times: int = 1, timeout: int = 2, prefix: str = "") -> str:
    """A shell loop fetching `url` `times` times; one answer line each, "FAILED" for a failure.

    `timeout N wget`, not `wget -T N`: busybox 1.35's wget crashes (SIGSEGV) when given -T.
    `prefix` goes before both programs (`busybox ` to run the host's busybox in a device).
    """
    one = f"{prefix}timeout {timeout} {prefix}wget -qO- {url} 2>/dev/null || echo FAILED"
    return f"for i in $(seq {times}); do {one}; done" if times > 1 else one


def fetch(kubectl: Kubectl, ns: str, pod: str, url: str, *, times: int = 1, timeout: int = 2) -> list[str]:
    """Answers (first line of each) to `times` fetches of `url` from inside the pod."""
    done = kubectl.exec(ns, pod, wget_script(url, times=times, timeout=timeout), timeout=30 + times * timeout)
    assert done.returncode == 0, f"kubectl exec into {ns}/{pod} failed:\n{done.stdout}\n{done.stderr}"
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def reaches(kubectl: Kubectl, ns: str, pod: str, url: str) -> bool:
    """Whether one fetch of `url` from inside the pod gets an answer (within 2 s)."""
    return fetch(kubectl, ns, pod, url) != ["FAILED"]


def nslookup(kubectl: Kubectl, ns: str, pod: str, name: str) -> tuple[list[str], str]:
    """The addresses busybox nslookup in the pod prints for `name` (not the server's), and all it printed."""
    done = kubectl.exec(ns, pod, f"nslookup {name} 2>&1", timeout=30)
    raw = f"nslookup {name} (exit {done.returncode}):\n{done.stdout}{done.stderr}"
    answers = done.stdout.split("Name:", 1)[1] if "Name:" in done.stdout else ""
    return sorted(set(re.findall(r"^Address(?: \d+)?:\s*([0-9.]+)\s*$", answers, flags=re.MULTILINE))), raw


def ready_pod(kubectl: Kubectl, ns: str, name: str, *, within: float = 90.0) -> str:
    """The pod's IP once it is Ready with an address from the cluster CIDR."""

    def look() -> str | None:
        status = kubectl.get("pod", "-n", ns, name).get("status") or {}
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        ip = str(status.get("podIP") or "")
        return ip if ready and ip and ipaddress.ip_address(ip) in CLUSTER_CIDR else None

    return eventually(look, within=within, what=f"pod {ns}/{name} Ready with a pod-network IP")
