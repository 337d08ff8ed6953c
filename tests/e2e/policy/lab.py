"""A node and its pods as network namespaces, to run rendered NetworkPolicy rulesets against real traffic.

    <p>-node   bridge ek0 10.42.7.1/24 (the pods' gateway), ip_forward=1,
               bridge-nf-call-iptables=1 (bridged pod-to-pod traffic meets the ip forward hook),
               veth hx0 198.51.100.1/24 to the "outside", sink0 192.0.2.1/24 (a tun nobody
               reads) = default route
      +- veth <p>-a / -b / -c   eth0 10.42.7.2 / .3 / .4, default via 10.42.7.1, busybox httpd :8080
      +- veth <p>-x             eth0 198.51.100.2 and .3 (somewhere outside the cluster), httpd :8080

Invariants: every link is created inside the node namespace with its peer born in the pod's,
so nothing appears in the host namespace; the node's default route ends in a device that
drops what it is given;
names start with `h6e<pid>`; `close()` stops the servers and removes every namespace, and
never raises. Traffic only ever goes between these namespaces.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

GATEWAY = "10.42.7.1"
POD_CIDR = "10.42.7.0/24"
OUTSIDE = ("198.51.100.2", "198.51.100.3")
PORT = 8080


class LabError(RuntimeError):
    """A lab command failed; the message carries the command and its output."""


def run(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(args, input=stdin, text=True, capture_output=True, timeout=30)
    if done.returncode != 0:
        raise LabError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


@dataclass
class Lab:
    prefix: str
    root: Path
    pods: dict[str, str] = field(default_factory=dict)
    """Short name (a, b, c) -> pod IP."""
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def node(self) -> str:
        return f"{self.prefix}-node"

    def ns(self, short: str) -> str:
        return f"{self.prefix}-{short}"

    def namespaces(self) -> list[str]:
        return [self.node, *(self.ns(s) for s in [*self.pods, "x"])]

    def build(self, pods: dict[str, str]) -> None:
        node = self.node
        run("ip", "netns", "add", node)
        self._in(node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # Per namespace since Linux 5.3: bridged pod-to-pod traffic then meets the ip forward hook.
        self._in(node, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1")
        run("ip", "-n", node, "link", "set", "lo", "up")
        # A tun nobody reads: what no rule routes elsewhere dies here (this kernel has no dummy driver).
        run("ip", "-n", node, "tuntap", "add", "mode", "tun", "name", "sink0")
        run("ip", "-n", node, "addr", "add", "192.0.2.1/24", "dev", "sink0")
        run("ip", "-n", node, "link", "set", "sink0", "up")
        run("ip", "-n", node, "route", "add", "default", "dev", "sink0")
        run("ip", "-n", node, "link", "add", "ek0", "type", "bridge")
        run("ip", "-n", node, "addr", "add", f"{GATEWAY}/24", "dev", "ek0")
        run("ip", "-n", node, "link", "set", "ek0", "up")
        for short, ip in pods.items():
            self._pod(short, ip)
        self._outside()

    def _pod(self, short: str, ip: str) -> None:
        ns = self.ns(short)
        run("ip", "netns", "add", ns)
        self.pods[short] = ip
        run("ip", "-n", self.node, "link", "add", f"hv{short}", "type", "veth", "peer", "name", "eth0", "netns", ns)
        run("ip", "-n", self.node, "link", "set", f"hv{short}", "master", "ek0", "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        run("ip", "-n", ns, "route", "add", "default", "via", GATEWAY)
        self._serve(ns, short)

    def _outside(self) -> None:
        ns = self.ns("x")
        run("ip", "netns", "add", ns)
        run("ip", "-n", self.node, "link", "add", "hx0", "type", "veth", "peer", "name", "eth0", "netns", ns)
        run("ip", "-n", self.node, "addr", "add", "198.51.100.1/24", "dev", "hx0")
        run("ip", "-n", self.node, "link", "set", "hx0", "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")
        for ip in OUTSIDE:
            run("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        run("ip", "-n", ns, "route", "add", "default", "via", "198.51.100.1")
        self._serve(ns, "x")

    def _serve(self, ns: str, short: str) -> None:
        docs = self.root / short
        docs.mkdir(parents=True, exist_ok=True)
        (docs / "index.html").write_text(f"hello from {short}\n")
        server = subprocess.Popen(
            ["ip", "netns", "exec", ns, "busybox", "httpd", "-f", "-p", str(PORT), "-h", str(docs)]
        )
        self.servers.append(server)

    def _in(self, ns: str, *args: str) -> str:
        return run("ip", "netns", "exec", ns, *args)

    def apply(self, ruleset: str) -> None:
        """Apply nft input in the node namespace (one transaction)."""
        run("ip", "netns", "exec", self.node, "nft", "-f", "-", stdin=ruleset)

    def reaches(self, source: str, address: str, *, timeout: int = 1) -> bool:
        """Whether an HTTP GET from `source` (a pod's short name, or 'node') to address:8080 gets an answer."""
        ns = self.node if source == "node" else self.ns(source)
        # busybox 1.35's wget crashes with -T (and with -q when it cannot connect): bound it from outside.
        url = f"http://{address}:{PORT}/"
        command = ["ip", "netns", "exec", ns, "timeout", str(timeout), "busybox", "wget", "-O", "-", url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout + 10)
        return done.returncode == 0 and done.stdout.startswith("hello from")

    def close(self) -> list[str]:
        """Stop the servers and remove every namespace; what could not be removed."""
        for server in self.servers:
            with contextlib.suppress(ProcessLookupError):
                server.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=5)
        left = []
        for ns in self.namespaces():
            if subprocess.run(["ip", "netns", "del", ns], capture_output=True).returncode != 0:
                left.append(ns)
        return [ns for ns in left if os.path.exists(f"/run/netns/{ns}")]
