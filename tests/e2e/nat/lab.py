"""The test lab: a node, three "pods" and an outside client, all network namespaces of this test session.

    client ns (198.51.100.2) --veth-- node ns (198.51.100.1, the node IP; ek0 10.42.0.1/24;
                                               default route -> sink0)
                                          |-- sink0 -- sink ns (drops everything)
                                          |-- ek0 -- pod ns p1 10.42.0.11 (busybox httpd :8080)
                                          |-- ek0 -- pod ns p2 10.42.0.12
                                          |-- ek0 -- pod ns p3 10.42.0.13

Each pod's CGI answers "<pod> <REMOTE_ADDR>", so a test sees which endpoint answered and
which source address it saw. The proxy runs in the test's own process with its thread
moved into the node namespace (`inside`), so every `nft` it starts acts there; Services
and EndpointSlices come in through `FakeWatches` (the same calls SharedWatches takes).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from edgekube.client import Resource, key_of

CLONE_NEWNET = 0x40000000
NODE_IP = "198.51.100.1"
CLIENT_IP = "198.51.100.2"
GATEWAY = "10.42.0.1"
POD_IPS = {"p1": "10.42.0.11", "p2": "10.42.0.12", "p3": "10.42.0.13"}
HTTP_PORT = 8080
CGI = '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$POD $REMOTE_ADDR"\n'
Obj = dict[str, Any]


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=check, capture_output=True, text=True)


async def ash(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`sh` off the event loop."""
    return await asyncio.to_thread(sh, *args, check=check)


@contextlib.contextmanager
def inside(netns: str) -> Iterator[None]:
    """Move this thread (and so the children it starts) into `netns`; back afterwards."""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {netns}")
        try:
            yield
        finally:
            if libc.setns(home, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back home")
    finally:
        os.close(target)
        os.close(home)


@dataclass
class Lab:
    prefix: str
    root: Path
    httpds: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def node(self) -> str:
        return f"{self.prefix}-node"

    @property
    def client(self) -> str:
        return f"{self.prefix}-cl"

    @property
    def sink(self) -> str:
        return f"{self.prefix}-sink"

    @property
    def namespaces(self) -> tuple[str, ...]:
        return (self.node, self.client, self.sink, *(self.pod(p) for p in POD_IPS))

    def pod(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def get(self, netns: str, url: str, timeout: float = 2) -> tuple[bool, str]:
        """busybox wget from `netns`: (worked, body or error text; 'timed out' after `timeout` s).

        No `wget -T`: this busybox-static (1.35) crashes with it, so the process is killed instead.
        """
        try:
            done = subprocess.run(
                ["ip", "netns", "exec", netns, "busybox", "wget", "-q", "-O", "-", url],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return False, "timed out"
        return done.returncode == 0, (done.stdout if done.returncode == 0 else done.stderr).strip()

    async def aget(self, netns: str, url: str, wait: float = 2) -> tuple[bool, str]:
        """`get` off the event loop, so the proxy keeps running meanwhile."""
        return await asyncio.to_thread(self.get, netns, url, wait)


def _build(lab: Lab) -> None:
    node = lab.node
    for ns in lab.namespaces:
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    # The node's default route ends in a device whose far end is a namespace that forwards nothing:
    # a packet no rule translated dies there. (HOST.md says dummy; this kernel has no dummy driver.)
    sh("ip", "-n", node, "link", "add", "sink0", "type", "veth", "peer", "name", "sink1", "netns", lab.sink)
    sh("ip", "-n", lab.sink, "link", "set", "sink1", "up")
    sh("ip", "-n", node, "addr", "add", "192.0.2.1/24", "dev", "sink0")
    sh("ip", "-n", node, "link", "set", "sink0", "up")
    sh("ip", "-n", node, "route", "add", "default", "dev", "sink0")
    sh("ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    sh("ip", "-n", node, "link", "add", "ek0", "type", "bridge")
    sh("ip", "-n", node, "addr", "add", f"{GATEWAY}/24", "dev", "ek0")
    sh("ip", "-n", node, "link", "set", "ek0", "up")
    # Same-node replies cross the bridge at L2; conntrack must see them to undo the DNAT.
    sh("ip", "netns", "exec", node, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1")
    sh("ip", "-n", node, "link", "add", "h4cl", "type", "veth", "peer", "name", "eth0", "netns", lab.client)
    sh("ip", "-n", node, "addr", "add", f"{NODE_IP}/24", "dev", "h4cl")
    sh("ip", "-n", node, "link", "set", "h4cl", "up")
    sh("ip", "-n", lab.client, "addr", "add", f"{CLIENT_IP}/24", "dev", "eth0")
    sh("ip", "-n", lab.client, "link", "set", "eth0", "up")
    for name, ip in POD_IPS.items():
        pod = lab.pod(name)
        sh("ip", "-n", node, "link", "add", f"h4v{name}", "type", "veth", "peer", "name", "eth0", "netns", pod)
        sh("ip", "-n", node, "link", "set", f"h4v{name}", "master", "ek0", "up")
        # Hairpin: with bridge-nf-call-iptables, a pod's packet DNATed back to that pod leaves
        # through the bridge port it came in by; the bridge drops that unless the port allows it.
        sh("ip", "-n", node, "link", "set", f"h4v{name}", "type", "bridge_slave", "hairpin", "on")
        sh("ip", "-n", pod, "addr", "add", f"{ip}/24", "dev", "eth0")
        sh("ip", "-n", pod, "link", "set", "eth0", "up")
        sh("ip", "-n", pod, "route", "add", "default", "via", GATEWAY)
        docroot = lab.root / name
        (docroot / "cgi-bin").mkdir(parents=True)
        script = docroot / "cgi-bin" / "who"
        script.write_text(CGI)
        script.chmod(0o755)
        env = {**os.environ, "POD": name}
        lab.httpds.append(
            subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    pod,
                    "busybox",
                    "httpd",
                    "-f",
                    "-p",
                    f"0.0.0.0:{HTTP_PORT}",
                    "-h",
                    str(docroot),
                ],
                env=env,
            )
        )
    for name, ip in POD_IPS.items():
        deadline = time.monotonic() + 5
        while not lab.get(node, f"http://{ip}:{HTTP_PORT}/cgi-bin/who")[0]:
            assert time.monotonic() < deadline, f"httpd in {name} did not come up"
            time.sleep(0.05)


def build(lab: Lab) -> None:
    """Create the namespaces; `teardown` removes them (call it also when this fails halfway)."""
    if os.geteuid() != 0 or shutil.which("nft") is None or shutil.which("busybox") is None:
        pytest.fail("these tests run as root with nft and busybox (apt-get install nftables busybox-static)")
    _build(lab)


def teardown(lab: Lab) -> None:
    for proc in lab.httpds:
        proc.terminate()
        proc.wait()
    for ns in lab.namespaces:
        sh("ip", "netns", "del", ns, check=False)


class FakeCache:
    """A ListWatcher stand-in: a cache the test fills, handlers the test's changes reach."""

    def __init__(self) -> None:
        self.cache: dict[str, Obj] = {}
        self.synced = asyncio.Event()
        self.handlers: list[Callable[[str, Obj], None]] = []

    async def wait_synced(self) -> None:
        await self.synced.wait()

    def put(self, obj: Obj) -> None:
        kind = "MODIFIED" if key_of(obj) in self.cache else "ADDED"
        self.cache[key_of(obj)] = obj
        for handler in self.handlers:
            handler(kind, obj)

    def delete(self, obj: Obj) -> None:
        self.cache.pop(key_of(obj), None)
        for handler in self.handlers:
            handler("DELETED", obj)


class FakeWatches:
    """What `run_service_proxy` uses of SharedWatches: `watch(resource, handler)`."""

    def __init__(self) -> None:
        self.caches: dict[str, FakeCache] = {}

    def watch(self, resource: Resource, handler: Callable[[str, Obj], None] | None = None) -> FakeCache:
        cache = self.caches.setdefault(resource.plural, FakeCache())
        if handler is not None:
            cache.handlers.append(handler)
        return cache


def service(name: str, cluster_ip: str, *, type_: str = "ClusterIP", node_port: int = 0, **spec: Any) -> Obj:
    port: Obj = {"name": "http", "port": 80, "protocol": "TCP", "targetPort": HTTP_PORT}
    if node_port:
        port["nodePort"] = node_port
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"namespace": "default", "name": name},
        "spec": {"type": type_, "clusterIP": cluster_ip, "ports": [port], **spec},
    }


def endpoint_slice(service_name: str, pods: list[str], node_name: str = "node-a") -> Obj:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "namespace": "default",
            "name": f"{service_name}-abc",
            "labels": {"kubernetes.io/service-name": service_name},
        },
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": HTTP_PORT, "protocol": "TCP"}],
        "endpoints": [{"addresses": [POD_IPS[p]], "nodeName": node_name, "conditions": {"ready": True}} for p in pods],
    }


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
