"""Clusters in a lab of network namespaces (tests/support/netlab.py) for the networking acceptance tests.

`cluster` is the session's host-gw cluster: a server and two devices (dev1, dev2; their Node
names are `cluster.node("dev1")`, unique on the machine), shared by every module here;
`vxlan_cluster` is the same with the vxlan backend, made for the module that asks for it and
removed after it. Both run the agents on the session's Podman service. When a cluster ends,
its agents must not have logged errors.

Each test (or module) makes its objects in namespaces of its own, from `namespaces`
(per test) or `module_namespaces` (per module). When they end, their namespaces are deleted
through the API and the fixture checks that the product removed what it had made for their
pods: no Podman pod of those namespaces, no host-side veth `ekv<uid>` in any device, and the
host namespace as before (no ek* link, the same nft tables). When a cluster ends, it checks
that nothing at all is left (Cluster.down). A failing test prints the agents' and the
server's logs and the devices' addresses, routes and nft rules.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.runtime.interface import LABEL_POD_NAMESPACE
from agent.runtime.podman_service import PodmanService
from tests.e2e.conftest import podman_cli
from tests.e2e.network.workloads import namespace
from tests.support.netlab import Cluster, HostState, device_state, eventually, run
from tests.support.tools import require_kubectl

Obj = dict[str, Any]
_labs = itertools.count(1)


def _make_cluster(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    podman_service: PodmanService,
    test_run_label: tuple[str, str],
) -> Cluster:
    require_kubectl()
    index = next(_labs)
    key, run_id = test_run_label
    return Cluster.up(
        # short: namespace names show up in `ip netns`; pid and a counter keep runs apart
        prefix=f"nl{os.getpid() % 100000}{index}",
        work_dir=tmp_path_factory.mktemp(f"netlab-{backend}"),
        backend=backend,
        devices=2,
        podman=podman_cli(podman_service),
        podman_socket=podman_service.settings.socket_path,
        run_label=(key, f"{run_id}-net{index}"),
    )


def _finish(cluster: Cluster) -> None:
    problems = cluster.down()
    # As in tests/e2e/agent: a cluster whose tests passed must not have logged errors either.
    errors = [f"{name}: {line[:600]}" for name, agent in cluster.agents.items() for line in agent.errors()]
    if errors:
        problems.append(f"agents logged {len(errors)} errors; the first:\n" + "\n".join(errors[:15]))
    assert not problems, "the lab was not left clean:\n" + "\n".join(problems)


@pytest.fixture(scope="session")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
    podman_service: PodmanService,
    busybox_image: str,
    schema_cache: Path,
    test_run_label: tuple[str, str],
) -> Iterator[Cluster]:
    """The host-gw cluster shared by every module of this folder."""
    made = _make_cluster("host-gw", tmp_path_factory, podman_service, test_run_label)
    try:
        yield made
    finally:
        _finish(made)


@pytest.fixture(scope="module")
def vxlan_cluster(
    tmp_path_factory: pytest.TempPathFactory,
    podman_service: PodmanService,
    busybox_image: str,
    schema_cache: Path,
    test_run_label: tuple[str, str],
) -> Iterator[Cluster]:
    """A cluster whose nodes reach each other's pods through the VXLAN overlay."""
    made = _make_cluster("vxlan", tmp_path_factory, podman_service, test_run_label)
    try:
        yield made
    finally:
        _finish(made)


NamespaceMaker = Callable[..., str]


class Namespaces:
    """Namespaces made for a test or module; `close()` deletes them and checks the product cleaned up."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.made: list[str] = []

    def make(self, name: str, labels: dict[str, str] | None = None) -> str:
        self.cluster.kubectl.apply([namespace(name, labels)])
        self.made.append(name)
        self.cluster.namespaces.append(name)
        return name

    def close(self) -> None:
        cluster = self.cluster
        devices = {d.node: d.name for d in cluster.lab.devices}
        veths: dict[str, set[str]] = {}
        for name in self.made:
            for item in cluster.kubectl.get("pods", "-n", name)["items"]:
                device = devices.get((item.get("spec") or {}).get("nodeName") or "")
                if device:
                    veths.setdefault(device, set()).add("ekv" + item["metadata"]["uid"].replace("-", "")[:8])
        cluster.delete_namespaces(self.made)
        eventually(lambda: not self._sandboxes(), within=30, what="the namespaces' Podman pods removed")

        def veths_left() -> dict[str, list[str]]:
            return {
                node: sorted(names & _links(cluster, node))
                for node, names in veths.items()
                if names & _links(cluster, node)
            }

        eventually(lambda: not veths_left(), within=30, what="the pods' veths removed")
        now = HostState.capture()
        new_links = sorted(now.ek_links - cluster.before.ek_links)
        assert not new_links, f"ek* links appeared in the host namespace: {new_links}"
        assert now.nft_tables == cluster.before.nft_tables, f"host nft tables changed: {now.nft_tables}"

    def _sandboxes(self) -> list[str]:
        found: list[str] = []
        for name in self.made:
            out = self.cluster.podman.run(
                "pod", "ps", "-q", "--filter", f"label={LABEL_POD_NAMESPACE}={name}", check=False
            )
            found += out.split()
        return found


def _links(cluster: Cluster, device: str) -> set[str]:
    out = run(cluster.lab.device(device).argv("ip", "-o", "link", "show"), check=False).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}


@pytest.fixture
def current_cluster(cluster: Cluster) -> Cluster:
    """The cluster a test works in: the host-gw one, unless a module overrides this fixture."""
    return cluster


@pytest.fixture
def namespaces(current_cluster: Cluster) -> Iterator[Namespaces]:
    """Namespaces for one test (in `current_cluster`); deleted and checked after it."""
    made = Namespaces(current_cluster)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="module")
def module_namespaces(cluster: Cluster) -> Iterator[Namespaces]:
    """Namespaces shared by one module's tests; deleted and checked after the module."""
    made = Namespaces(cluster)
    try:
        yield made
    finally:
        made.close()


# --- what a failing test prints --------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed:
        funcargs: dict[str, object] = getattr(item, "funcargs", {})
        for fixture in ("current_cluster", "cluster", "vxlan_cluster"):
            found = funcargs.get(fixture)
            if isinstance(found, Cluster):
                report.sections.append((f"{fixture}: diagnostics", diagnostics(found)))
                break


def diagnostics(cluster: Cluster) -> str:
    parts = [f"--- server log ---\n{cluster.server.log()}"]
    parts += [f"--- agent {name} log ---\n{agent.log(12000)}" for name, agent in cluster.agents.items()]
    for device in cluster.lab.devices:
        parts.append(f"--- {device.name} ({device.netns}) ---\n{device_state(device)}")
    return "\n".join(parts)
