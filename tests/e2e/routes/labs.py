"""A lab of network namespaces: "nodes" on one L2 segment, each with a bridge and one "pod".

    lab ns: bridge br0 (198.18.0.1/24) -- veth -- node ns N: eth0 198.18.0.(1+N)/24
                                                   ek0 10.42.N.1/24 -- veth -- pod ns: eth0 10.42.N.2/24

Every namespace's default route ends in a sink device (a veth whose peer stays down), so a
packet nothing routes dies there instead of leaving the machine; HOST.md's dummy device is
not available on every kernel (CONFIG_DUMMY). All names start with the lab's own prefix and
`close()` deletes every namespace it made.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
DRIVER = Path(__file__).with_name("node_driver.py")
PYTHON = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
Obj = dict[str, Any]


def ip(*args: str, check: bool = True) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


@dataclass
class LabNode:
    name: str
    netns: str
    pod_netns: str
    ip: str
    pod_cidr: str
    mtu: int = 1450

    @property
    def pod_ip(self) -> str:
        return str(ipaddress.IPv4Network(self.pod_cidr).network_address + 2)

    def obj(self, ip: str | None = None) -> Obj:
        """The Node object the server would serve for this node."""
        return {
            "metadata": {"name": self.name},
            "spec": {"podCIDR": self.pod_cidr},
            "status": {"addresses": [{"type": "InternalIP", "address": ip or self.ip}]},
        }

    def local(self) -> Obj:
        return {"name": self.name, "ip": self.ip, "pod_cidr": self.pod_cidr, "interface": "eth0", "mtu": self.mtu}


@dataclass
class Lab:
    prefix: str = field(default_factory=lambda: f"ekrt{secrets.token_hex(2)}")
    nodes: list[LabNode] = field(default_factory=list)
    made: list[str] = field(default_factory=list)

    @property
    def lab_ns(self) -> str:
        return f"{self.prefix}-lab"

    def _netns(self, name: str) -> str:
        ip("netns", "add", name)
        self.made.append(name)
        ip("-n", name, "link", "set", "lo", "up")
        # The sink: default route into a veth whose peer is down, so unrouted packets are dropped here.
        ip("-n", name, "link", "add", "sink0", "type", "veth", "peer", "name", "sink1")
        ip("-n", name, "addr", "add", "192.0.2.1/24", "dev", "sink0")
        ip("-n", name, "link", "set", "sink0", "up")
        ip("-n", name, "route", "add", "default", "dev", "sink0")
        return name

    def build(self, count: int) -> Lab:
        lab = self._netns(self.lab_ns)
        ip("-n", lab, "link", "add", "br0", "type", "bridge")
        ip("-n", lab, "addr", "add", "198.18.0.1/24", "dev", "br0")
        ip("-n", lab, "link", "set", "br0", "up")
        for n in range(1, count + 1):
            node = LabNode(
                f"node{n}", f"{self.prefix}-n{n}", f"{self.prefix}-p{n}", f"198.18.0.{1 + n}", f"10.42.{n}.0/24"
            )
            ns, pod = self._netns(node.netns), self._netns(node.pod_netns)
            exec_in(ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
            ip("-n", lab, "link", "add", f"l-n{n}", "type", "veth", "peer", "name", "eth0", "netns", ns)
            ip("-n", lab, "link", "set", f"l-n{n}", "master", "br0", "up")
            ip("-n", ns, "addr", "add", f"{node.ip}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "link", "add", "ek0", "type", "bridge")
            ip("-n", ns, "addr", "add", f"10.42.{n}.1/24", "dev", "ek0")
            ip("-n", ns, "link", "set", "ek0", "mtu", str(node.mtu), "up")
            ip(
                "-n",
                ns,
                "link",
                "add",
                "ekv-pod",
                "mtu",
                str(node.mtu),
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                pod,
            )
            ip("-n", ns, "link", "set", "ekv-pod", "master", "ek0", "up")
            ip("-n", pod, "addr", "add", f"{node.pod_ip}/24", "dev", "eth0")
            ip("-n", pod, "link", "set", "eth0", "up")
            ip("-n", pod, "route", "replace", "default", "via", f"10.42.{n}.1")
            self.nodes.append(node)
        return self

    def close(self) -> None:
        for name in reversed(self.made):
            ip("netns", "del", name, check=False)
        self.made.clear()


def exec_in(netns: str, *cmd: str, stdin: str | None = None, timeout: float = 20) -> str:
    done = subprocess.run(
        ["ip", "netns", "exec", netns, *cmd],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=ENV,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} in {netns} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


def drive(node: LabNode, request: Obj) -> Obj:
    """Run the driver once in `node`'s namespace; its JSON answer."""
    out = exec_in(node.netns, PYTHON, str(DRIVER), stdin=json.dumps({"node": node.local(), **request}))
    answer: Obj = json.loads(out.strip().splitlines()[-1])
    return answer


def sync(node: LabNode, backend: str, nodes: list[Obj]) -> Obj:
    return drive(node, {"action": "sync", "settings": {"backend": backend}, "nodes": nodes})


def start_runner(node: LabNode, backend: str, nodes_file: Path, resync: float) -> subprocess.Popen[str]:
    """run_routes in `node`'s namespace until terminated, following `nodes_file`."""
    request = {
        "action": "run",
        "node": node.local(),
        "settings": {"backend": backend, "resync_interval": resync},
        "nodes_file": str(nodes_file),
    }
    proc = subprocess.Popen(
        ["ip", "netns", "exec", node.netns, PYTHON, str(DRIVER), json.dumps(request)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=ENV,
    )
    assert proc.stdout is not None
    assert json.loads(proc.stdout.readline()) == {"started": True}
    return proc


_SERVER = textwrap.dedent(
    """
    import socket, sys
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], 8080)); s.listen(1); s.settimeout(10)
    print("ready", flush=True)
    c, peer = s.accept(); c.sendall(peer[0].encode()); c.close()
    """
)
_CLIENT = textwrap.dedent(
    """
    import socket, sys
    c = socket.create_connection((sys.argv[1], 8080), timeout=3)
    print(c.recv(100).decode())
    """
)


def peer_seen(client: LabNode, server: LabNode) -> str:
    """Connect over TCP from `client`'s pod to `server`'s pod; the source address the server saw."""
    proc = subprocess.Popen(
        ["ip", "netns", "exec", server.pod_netns, PYTHON, "-c", _SERVER, server.pod_ip],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return exec_in(client.pod_netns, PYTHON, "-c", _CLIENT, server.pod_ip).strip()
    finally:
        proc.kill()
        proc.wait()


def our_routes(node: LabNode) -> list[str]:
    return [line.strip() for line in ip("-n", node.netns, "route", "show", "proto", "101").splitlines()]


def vxlan_entries(node: LabNode) -> tuple[list[str], list[str]]:
    """(fdb lines, permanent neighbour lines) of ek-vxlan; empty when it does not exist."""
    if not ip("-n", node.netns, "link", "show", "ek-vxlan", check=False):
        return [], []
    fdb = subprocess.run(
        ["bridge", "-n", node.netns, "fdb", "show", "dev", "ek-vxlan"], capture_output=True, text=True, check=True
    ).stdout
    neigh = ip("-n", node.netns, "neigh", "show", "dev", "ek-vxlan", "nud", "permanent")
    return [x.strip() for x in fdb.splitlines()], [x.strip() for x in neigh.splitlines()]


def has_vxlan(node: LabNode) -> bool:
    return bool(ip("-n", node.netns, "link", "show", "ek-vxlan", check=False))
