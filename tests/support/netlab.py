"""A lab of network namespaces holding a whole EdgeKube cluster: one server and several devices.

    host namespace: untouched, except that the namespaces below exist while the lab does
    <p>-lab    bridge `labbr` 198.18.0.254/24 (the "outside": NodePort clients, upstream DNS)
      +- veth -> <p>-srv    eth0 198.18.0.1    `edgekube server --disable-agent`, kubectl
      +- veth -> <p>-dev1   eth0 198.18.0.11   `python -m agent --node-name <p>-dev1`
      +- veth -> <p>-dev2   eth0 198.18.0.12   `python -m agent --node-name <p>-dev2`
    every namespace: lo up, `sink0` 192.0.2.1/24 (a tun nobody reads) holding the default route

What flows through: shell commands (`ip`, kubectl, busybox) run inside the lab's namespaces
with `ip netns exec`; the server and the agents are child processes started the same way,
the agents sharing the test session's Podman service through its socket.

Invariants:
- Every link, address and route the lab makes lives in a namespace the lab made: veth pairs
  are created inside the lab namespace with their peer born in the device's namespace, so no
  link ever appears in the host namespace, and names inside the lab cannot collide with the
  host's or another run's.
- Every namespace's default route ends in a device that drops what it is given: a packet
  that no rule translates dies there instead of leaving the machine (HOST.md). Addresses
  are from 198.18.0.0/15 (the benchmarking range) and 192.0.2.0/24 (documentation).
- Namespace names start with the lab's prefix (`nl<pid><n>`), so teardown and the leftover
  check find exactly this run's; agents label every Podman pod with the run label.
- Node names are the devices' namespace names, unique on the machine: agents sharing one
  Podman storage remove each other's pods when their node names are equal (an agent collects
  every sandbox labelled with its node name that it does not want).
- `Cluster.down()` tears everything down in the order that exercises the product's own
  cleanup first (API deletes, agent stop, `agent --cleanup`) and then removes whatever is
  left by force; it returns what it had to remove by force or found left over, never raises.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from tests.support.images import Podman

Obj = dict[str, Any]
T = TypeVar("T")

LAB_NET = "198.18.0"
LAB_BRIDGE_IP = f"{LAB_NET}.254"
SERVER_IP = f"{LAB_NET}.1"
SINK_ADDRESS = "192.0.2.1/24"
API_PORT = 6443
START_TIMEOUT = 60.0
COMMAND_TIMEOUT = 60.0


class LabError(RuntimeError):
    """A lab command failed; the message carries the command and what it printed."""


class ProcessExited(Exception):
    """A lab process (server, agent) ended while it should run: waiting on it is pointless."""


def run(
    argv: Sequence[str], *, check: bool = True, timeout: float = COMMAND_TIMEOUT, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command to its end; LabError with its output when `check` and it fails."""
    try:
        done = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as err:
        raise LabError(f"{' '.join(argv)}: no end within {timeout}s; printed {err.stdout!r} {err.stderr!r}") from err
    if check and done.returncode != 0:
        raise LabError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def in_ns(netns: str, *argv: str) -> list[str]:
    return ["ip", "netns", "exec", netns, *argv]


def eventually(check: Callable[[], T | None], *, within: float = 30.0, interval: float = 0.3, what: str = "") -> T:
    """Poll `check` until it returns something truthy (returned), or fail after `within` seconds."""
    deadline = time.monotonic() + within
    last: Any = None
    while True:
        try:
            last = check()
        except (AssertionError, LabError) as err:
            last = err
        else:
            if last:
                result: T = last
                return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'} not within {within}s; last: {last!s:.3000}")
        time.sleep(interval)


# --- what the host looks like, before and after ----------------------------------------------


@dataclass(frozen=True)
class HostState:
    """The host-namespace facts the lab must leave as it found them."""

    netns: frozenset[str]
    ek_links: frozenset[str]
    nft_tables: tuple[str, ...]

    @classmethod
    def capture(cls) -> HostState:
        names = run(["ip", "netns", "list"]).stdout.split("\n")
        links = json.loads(run(["ip", "-j", "link", "show"]).stdout or "[]")
        tables = run(["nft", "list", "tables"]).stdout.splitlines()
        return cls(
            netns=frozenset(line.split()[0] for line in names if line.strip()),
            ek_links=frozenset(str(link["ifname"]) for link in links if str(link["ifname"]).startswith("ek")),
            nft_tables=tuple(sorted(line.strip() for line in tables if line.strip())),
        )

    def differences(self, before: HostState, prefix: str) -> list[str]:
        """What this state has that `before` had not (or lost), as sentences."""
        problems: list[str] = []
        ours = sorted(n for n in self.netns if n.startswith(prefix))
        if ours:
            problems.append(f"network namespaces of the run left: {ours}")
        # Only links that appeared: a link another run left is not ours to report (it is named at setup).
        new_links = sorted(self.ek_links - before.ek_links)
        if new_links:
            problems.append(f"ek* links appeared in the host namespace: {new_links}")
        if self.nft_tables != before.nft_tables:
            problems.append(f"host nft tables changed: before {list(before.nft_tables)}, now {list(self.nft_tables)}")
        return problems


# --- the namespaces and their wiring ------------------------------------------------------------


@dataclass(frozen=True)
class Device:
    """One "machine" of the lab: a namespace with one lab-facing interface."""

    name: str
    """Short name in the lab: dev1, dev2, ..., 'server' or 'lab'."""
    netns: str
    ip: str

    @property
    def node(self) -> str:
        """The Node name of a device's agent: its namespace's name, unique on this machine."""
        return self.netns

    def argv(self, *argv: str) -> list[str]:
        return in_ns(self.netns, *argv)

    def sh(self, script: str, *, check: bool = True, timeout: float = COMMAND_TIMEOUT) -> str:
        """A shell script run in this namespace (on the host's file system); its stdout."""
        return run(self.argv("sh", "-c", script), check=check, timeout=timeout).stdout


class Lab:
    """The namespaces and links; `build()` makes them, `destroy()` removes every one of them."""

    def __init__(self, prefix: str, devices: int) -> None:
        self.prefix = prefix
        self.outside = Device("lab", f"{prefix}-lab", LAB_BRIDGE_IP)
        self.server = Device("server", f"{prefix}-srv", SERVER_IP)
        self.devices = [Device(f"dev{n}", f"{prefix}-dev{n}", f"{LAB_NET}.{10 + n}") for n in range(1, devices + 1)]

    @property
    def namespaces(self) -> list[str]:
        return [d.netns for d in (self.outside, self.server, *self.devices)]

    def device(self, name: str) -> Device:
        return next(d for d in self.devices if d.name == name)

    def build(self) -> None:
        lab = self.outside.netns
        self._namespace(self.outside)
        run(["ip", "-n", lab, "link", "add", "labbr", "type", "bridge"])
        run(["ip", "-n", lab, "addr", "add", f"{LAB_BRIDGE_IP}/24", "dev", "labbr"])
        run(["ip", "-n", lab, "link", "set", "labbr", "up"])
        for member in (self.server, *self.devices):
            self._namespace(member)
            veth = f"v-{member.name}"
            # The peer is born in the member's namespace: no link ever passes through the host's.
            run(["ip", "-n", lab, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", member.netns])
            run(["ip", "-n", lab, "link", "set", veth, "master", "labbr", "up"])
            run(["ip", "-n", member.netns, "addr", "add", f"{member.ip}/24", "dev", "eth0"])
            run(["ip", "-n", member.netns, "link", "set", "eth0", "up"])

    def _namespace(self, member: Device) -> None:
        ns = member.netns
        run(["ip", "netns", "add", ns])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        # A tun device no process holds: routes through it are used (so nat output still sees a
        # packet to a ClusterIP), and every packet sent on it is dropped. HOST.md names a dummy
        # device, but this host's kernel has no dummy driver ("Unknown device type").
        run(["ip", "-n", ns, "tuntap", "add", "mode", "tun", "name", "sink0"])
        run(["ip", "-n", ns, "addr", "add", SINK_ADDRESS, "dev", "sink0"])
        run(["ip", "-n", ns, "link", "set", "sink0", "up"])
        run(["ip", "-n", ns, "route", "add", "default", "dev", "sink0"])

    def existing(self) -> list[str]:
        listed = run(["ip", "netns", "list"]).stdout.splitlines()
        return [line.split()[0] for line in listed if line.startswith(self.prefix + "-")]

    def destroy(self) -> None:
        for ns in self.existing():
            run(["ip", "netns", "delete", ns], check=False)


# --- the processes ---------------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    """Our environment without EDGEKUBE_* settings, so only the flags configure a process."""
    return {k: v for k, v in os.environ.items() if not k.startswith("EDGEKUBE_")}


def _stop(proc: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _tail(path: Path, size: int = 6000) -> str:
    return path.read_text(errors="replace")[-size:] if path.exists() else ""


@dataclass
class LabServer:
    """`edgekube server --disable-agent` in the server namespace, bound to its lab address."""

    device: Device
    data_dir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://{self.device.ip}:{API_PORT}"

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "admin.yaml"

    @property
    def token_file(self) -> Path:
        return self.data_dir / "server" / "token"

    @property
    def ca_file(self) -> Path:
        return self.data_dir / "server" / "tls" / "ca.crt"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def start(self, kubectl: Kubectl) -> None:
        ip = self.device.ip
        argv = self.device.argv(
            sys.executable, "-m", "edgekube", "server",
            "--data-dir", str(self.data_dir),
            "--bind-address", ip,
            "--advertise-address", ip,
            "--tls-san", ip,
            "--https-listen-port", str(API_PORT),
            "--write-kubeconfig", str(self.kubeconfig),
            "--disable-agent",
            "--node-monitor-period", "2",
            "--log-format", "json",
        )  # fmt: skip
        self._copy_schema_cache()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=_clean_env())
        self._wait_ready(kubectl)

    def _copy_schema_cache(self) -> None:
        # The session's schema cache (tests/conftest.py) spares each server seconds of start-up.
        target = self.data_dir / "server"
        target.mkdir(parents=True, exist_ok=True)
        shared = os.environ.get("EDGEKUBE_TEST_SCHEMA_CACHE")
        for cached in Path(shared).glob("schema-*.json") if shared else []:
            dest = target / cached.name
            if not dest.exists():
                dest.write_bytes(cached.read_bytes())

    def _wait_ready(self, kubectl: Kubectl) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise LabError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            if self.kubeconfig.exists() and kubectl("get", "--raw", "/readyz", check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise LabError(f"server not ready after {START_TIMEOUT}s:\n{self.log()}")

    def log(self) -> str:
        return _tail(self.log_path)

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None


@dataclass
class LabAgent:
    """`python -m agent` in a device's namespace, on the session's Podman, with the run label."""

    device: Device
    server: LabServer
    data_dir: Path
    podman_socket: Path
    run_label: tuple[str, str]
    backend: str
    resolv_conf: Path
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    def settings_args(self) -> list[str]:
        """The flags that say how this node's network is laid out (the cleanup needs them too)."""
        return [
            "--data-dir", str(self.data_dir),
            "--node-name", self.device.node,
            "--node-ip", self.device.ip,
            "--flannel-backend", self.backend,
            "--resolv-conf", str(self.resolv_conf),
        ]  # fmt: skip

    def args(self) -> list[str]:
        key, value = self.run_label
        return [
            sys.executable, "-m", "agent",
            "--server", self.server.url,
            "--token-file", str(self.server.token_file),
            "--ca-file", str(self.server.ca_file),
            *self.settings_args(),
            "--podman-socket", str(self.podman_socket),
            "--runtime-label", f"{key}={value}",
            "--lease-interval", "2",
            "--status-check-interval", "2",
            "--resync-interval", "2",
            "--log-format", "json",
            "--log-level", "debug",
            *self.extra_args,
        ]  # fmt: skip

    def start(self) -> LabAgent:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.data_dir / f"agent-{len(self.logs)}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                self.device.argv(*self.args()), stdout=out, stderr=subprocess.STDOUT, env=_clean_env()
            )
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def cleanup(self) -> subprocess.CompletedProcess[str]:
        """`python -m agent --cleanup` in the device: the product's own removal of its network state."""
        argv = self.device.argv(
            sys.executable, "-m", "agent", "--cleanup", *self.settings_args(), "--log-format", "json"
        )
        return run(argv, check=False, timeout=60)

    def errors(self) -> list[str]:
        """Error-level log lines and tracebacks."""
        found: list[str] = []
        for path in self.logs:
            text = path.read_text(errors="replace") if path.exists() else ""
            found += [ln for ln in text.splitlines() if '"level": "error"' in ln or "Traceback" in ln]
        return found

    def log(self, size: int = 8000) -> str:
        return "\n".join(_tail(p, size) for p in self.logs)


@dataclass
class Kubectl:
    """The real kubectl, run inside the server's namespace with the admin kubeconfig."""

    device: Device
    kubeconfig: Path
    cache_dir: Path

    def __call__(
        self, *args: str, stdin: str | None = None, check: bool = False, timeout: float = COMMAND_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        argv = self.device.argv(
            "kubectl", "--kubeconfig", str(self.kubeconfig), "--cache-dir", str(self.cache_dir), *args
        )
        return run(argv, check=check, timeout=timeout, stdin=stdin)

    def ok(self, *args: str, stdin: str | None = None, timeout: float = COMMAND_TIMEOUT) -> str:
        """stdout of a command that must succeed."""
        return self(*args, stdin=stdin, check=True, timeout=timeout).stdout

    def get(self, *args: str) -> Obj:
        """`kubectl get ARGS -o json`, parsed."""
        parsed: Obj = json.loads(self.ok("get", *args, "-o", "json"))
        return parsed

    def apply(self, objects: Iterable[Obj]) -> None:
        body = yaml.safe_dump_all(list(objects))
        self.ok("apply", "-f", "-", stdin=body)

    def exec(
        self, namespace: str, pod: str, script: str, *, timeout: float = COMMAND_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        """`sh -c SCRIPT` in the pod's first container (through the node's streaming server)."""
        return self("exec", "-n", namespace, pod, "--", "sh", "-c", script, timeout=timeout)


# --- the assembly --------------------------------------------------------------------------------------


@dataclass
class Cluster:
    """A lab with a server, one agent per device and kubectl; `down()` removes all of it."""

    lab: Lab
    server: LabServer
    kubectl: Kubectl
    agents: dict[str, LabAgent]
    podman: Podman
    run_label: tuple[str, str]
    before: HostState
    namespaces: list[str] = field(default_factory=list)
    """Namespaces the tests made: deleted through the API first at teardown."""

    @classmethod
    def up(
        cls,
        *,
        prefix: str,
        work_dir: Path,
        backend: str,
        devices: int,
        podman: Podman,
        podman_socket: Path,
        run_label: tuple[str, str],
    ) -> Cluster:
        before = HostState.capture()
        lab = Lab(prefix, devices)
        stale = lab.existing()
        if stale:
            raise LabError(f"namespaces of this prefix exist already (a crashed run?): {stale}")
        work_dir.mkdir(parents=True, exist_ok=True)
        resolv = work_dir / "resolv.conf"
        # The upstream resolver is the lab's own outside address: never a real resolver.
        resolv.write_text(f"nameserver {LAB_BRIDGE_IP}\noptions timeout:1 attempts:1\n")
        server = LabServer(lab.server, work_dir / "server")
        kubectl = Kubectl(lab.server, server.kubeconfig, work_dir / "kubectl-cache")
        agents = {
            d.name: LabAgent(d, server, work_dir / d.name, podman_socket, run_label, backend, resolv)
            for d in lab.devices
        }
        cluster = cls(lab, server, kubectl, agents, podman, run_label, before)
        try:
            lab.build()
            server.start(kubectl)
            for agent in agents.values():
                agent.start()
            cluster.wait_nodes_ready()
        except BaseException:
            problems = cluster.down()
            if problems:
                print("lab teardown after a failed start:\n" + "\n".join(problems))
            raise
        return cluster

    def wait_nodes_ready(self, within: float = 60.0) -> None:
        def ready() -> bool:
            for agent in self.agents.values():
                if not agent.running:
                    raise ProcessExited(f"agent {agent.device.name} exited:\n{agent.log()}")
            nodes = self.kubectl.get("nodes")["items"]
            ready = {
                n["metadata"]["name"]
                for n in nodes
                for c in (n.get("status") or {}).get("conditions") or []
                if c.get("type") == "Ready" and c.get("status") == "True"
            }
            return ready >= {agent.device.node for agent in self.agents.values()}

        eventually(ready, within=within, what="every node Ready")

    def node(self, device: str) -> str:
        """The Node name of the lab device `device` (dev1, dev2, ...)."""
        return self.lab.device(device).node

    # -- teardown ----------------------------------------------------------------------------------

    def delete_namespaces(self, names: Sequence[str], *, within: float = 60.0) -> None:
        """Delete namespaces and wait until the API has no trace of them (their pods stopped)."""
        for name in names:
            self.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found")

        def gone() -> bool:
            listed = self.kubectl.get("namespaces")["items"]
            return not {n["metadata"]["name"] for n in listed} & set(names)

        eventually(gone, within=within, what=f"namespaces {list(names)} deleted")
        for name in names:
            if name in self.namespaces:
                self.namespaces.remove(name)

    def labelled_pods(self) -> list[str]:
        key, value = self.run_label
        out = self.podman.run("pod", "ps", "-q", "--filter", f"label={key}={value}", check=False)
        return out.split()

    def down(self) -> list[str]:
        """Tear everything down (also after failures); what had to be forced or is left over."""
        problems: list[str] = []
        server_up = self.server.proc is not None and self.server.proc.poll() is None
        if server_up and self.namespaces:
            try:
                self.delete_namespaces(list(self.namespaces), within=45)
            except (AssertionError, LabError) as err:
                problems.append(f"namespaces not deleted through the API: {err}")
        for agent in self.agents.values():
            agent.stop()
        self.server.stop()
        pods = self.labelled_pods()
        if pods:
            problems.append(f"Podman pods of the run were left and are now removed: {pods}")
            self.podman.run("pod", "rm", "-f", "-t", "0", *pods, check=False)
        for agent in self.agents.values():
            if agent.device.netns not in self.lab.existing():
                continue
            done = agent.cleanup()
            if done.returncode == 0:
                left = device_leftovers(agent.device)
                if left:
                    problems.append(f"{agent.device.name}: after `agent --cleanup`, which printed {done.stdout!r}:")
                    problems += [f"  {p}" for p in left]
            elif "--cleanup" not in done.stderr:  # absent flag: tolerated until `agent --cleanup` lands
                problems.append(f"agent --cleanup on {agent.device.name} failed: {done.stderr[-2000:]}")
        self.lab.destroy()
        problems += HostState.capture().differences(self.before, self.lab.prefix)
        if self.labelled_pods():
            problems.append(f"Podman pods of the run still exist: {self.labelled_pods()}")
        return problems


def device_leftovers(device: Device) -> list[str]:
    """EdgeKube state still in a device's namespace: ek* links, edgekube* tables, our routes."""
    found: list[str] = []
    links = json.loads(run(device.argv("ip", "-j", "link", "show")).stdout or "[]")
    ek = [str(link["ifname"]) for link in links if str(link["ifname"]).startswith("ek")]
    if ek:
        found.append(f"links left: {ek}")
    tables = [t for t in run(device.argv("nft", "list", "tables")).stdout.splitlines() if " edgekube" in t]
    if tables:
        found.append(f"nft tables left: {tables}")
    routes = run(device.argv("ip", "route", "show", "proto", "101")).stdout.strip()
    if routes:
        found.append(f"routes with proto 101 left: {routes}")
    return found


def device_state(device: Device) -> str:
    """Links, addresses, routes and nft rules of a device: for failure messages."""
    parts = []
    for argv in (["ip", "-br", "addr"], ["ip", "route"], ["nft", "list", "ruleset"]):
        with contextlib.suppress(LabError):
            parts.append(f"$ {' '.join(argv)}\n" + run(device.argv(*argv), check=False).stdout)
    return "\n".join(parts)
