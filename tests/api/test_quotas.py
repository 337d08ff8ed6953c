"""ResourceQuotas in a real `edgekube server`, driven by the real kubectl.

`kubectl create quota` makes the quota; the controller fills in its status; the
eleventh pod is refused with Kubernetes' message; `get` and `describe` show used/hard.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.support.servers import ServerProcess


class Kubectl:
    """The real kubectl against the shared server, in one namespace."""

    def __init__(self, server: ServerProcess, namespace: str, home: Path) -> None:
        binary = shutil.which("kubectl")
        if binary is None:
            pytest.fail("kubectl is not installed or not on PATH; these tests need the real binary")
        self.argv = [binary, "--kubeconfig", str(server.kubeconfig), "--cache-dir", str(home / "cache"),
                     "--namespace", namespace]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "KUBECTL_"))}
        self.env["HOME"] = str(home)

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.argv, *args], input=stdin, capture_output=True, text=True, timeout=30, env=self.env, check=False
        )

    def out(self, *args: str, stdin: str | None = None) -> str:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
        return done.stdout

    def until(self, expected: str, *args: str, within: float = 15.0) -> None:
        """Run `args` until it prints `expected` (stripped)."""
        deadline = time.monotonic() + within
        while (found := self.out(*args).strip()) != expected:
            assert time.monotonic() < deadline, f"kubectl {' '.join(args)}: {found!r}, not {expected!r}"
            time.sleep(0.1)


@pytest.fixture
def kubectl(shared_server: ServerProcess, namespace: str, tmp_path: Path) -> Kubectl:
    return Kubectl(shared_server, namespace, tmp_path)


def pod(name: str, cpu: str | None = None) -> dict[str, Any]:
    resources = {"requests": {"cpu": cpu}} if cpu else {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "localhost/app:1", "resources": resources}]},
    }


def pods(*names: str, cpu: str | None = None) -> str:
    """A manifest of pods, one YAML document each."""
    return yaml.safe_dump_all([pod(name, cpu) for name in names])


def test_eleventh_pod_is_refused(kubectl: Kubectl) -> None:
    """`create quota --hard=pods=10`: ten pods fit, the eleventh gets Kubernetes' exceeded-quota message."""
    kubectl.out("create", "quota", "compute", "--hard=pods=10,count/configmaps=5")
    kubectl.until("0", "get", "quota", "compute", "-o", "jsonpath={.status.used.pods}")
    kubectl.out("apply", "-f", "-", stdin=pods(*(f"web-{i}" for i in range(10))))

    refused = kubectl.run("run", "web-10", "--image", "localhost/app:1", "--restart", "Never")
    assert refused.returncode != 0
    assert refused.stderr.strip() == (
        'Error from server (Forbidden): pods "web-10" is forbidden: exceeded quota: compute, '
        "requested: pods=1, used: pods=10, limited: pods=10"
    )

    kubectl.until("10", "get", "quota", "compute", "-o", "jsonpath={.status.used.pods}")
    header, row = kubectl.out("get", "quota").splitlines()
    assert header.split() == ["NAME", "AGE", "REQUEST", "LIMIT"]
    assert row.split()[0] == "compute" and row.rstrip().endswith("count/configmaps: 0/5, pods: 10/10")
    described = [line.split() for line in kubectl.out("describe", "quota", "compute").splitlines()]
    assert ["Resource", "Used", "Hard"] in described
    assert ["pods", "10", "10"] in described and ["count/configmaps", "0", "5"] in described


def test_deleting_a_pod_makes_room(kubectl: Kubectl) -> None:
    """Once a deleted pod is counted out, its place can be taken."""
    kubectl.out("create", "quota", "compute", "--hard=pods=1")
    kubectl.until("0", "get", "quota", "compute", "-o", "jsonpath={.status.used.pods}")
    kubectl.out("apply", "-f", "-", stdin=pods("first"))
    assert kubectl.run("apply", "-f", "-", stdin=pods("second")).returncode != 0
    kubectl.out("delete", "pod", "first", "--wait=false")
    kubectl.until("0", "get", "quota", "compute", "-o", "jsonpath={.status.used.pods}")
    kubectl.out("apply", "-f", "-", stdin=pods("second"))


async def test_pods_must_state_limited_cpu(http: aiohttp.ClientSession, namespace: str, kubectl: Kubectl) -> None:
    """Under a quota on requests.cpu, a pod without a cpu request is refused with `must specify`."""
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "cpu"},
             "spec": {"hard": {"requests.cpu": "1"}}}
    async with http.post(f"/api/v1/namespaces/{namespace}/resourcequotas", json=quota) as r:
        assert r.status == 201, await r.text()
    kubectl.until("0", "get", "quota", "cpu", "-o", "jsonpath={.status.used.requests\\.cpu}")
    async with http.post(f"/api/v1/namespaces/{namespace}/pods", json=pod("plain")) as r:
        status = await r.json()
    assert (r.status, status["reason"]) == (403, "Forbidden")
    assert status["message"] == 'pods "plain" is forbidden: failed quota: cpu: must specify requests.cpu for: app'
    kubectl.out("apply", "-f", "-", stdin=pods("sized", cpu="500m"))
    kubectl.until("500m", "get", "quota", "cpu", "-o", "jsonpath={.status.used.requests\\.cpu}")
