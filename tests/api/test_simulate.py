"""Simulated nodes against a real server: registration, leases, pods through their statuses, switches."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from edgekube.client import LEASES, NODE_LEASE_NAMESPACE, NODES, PODS, ApiClient, Config, NotFound
from edgekube.simulating import EXIT_AFTER, FAIL, Fleet, HeartbeatSettings, NodeSettings, PodSettings, Settings
from edgekube.simulating.addresses import IpPool, node_ip
from edgekube.simulating.clocks import parse_duration, parse_time
from edgekube.simulating.command import add_parser, settings_from
from edgekube.simulating.queueing import DelayQueue
from edgekube.simulating.running import PodRecord, Stage, Step, next_step
from tests.support.servers import ServerProcess

KUBECTL = "/usr/bin/kubectl"
FAST = PodSettings(start_delay=0.1, ready_delay=0.1, terminate_delay=0.1)


def settings(prefix: str, count: int = 3, **nodes: Any) -> Settings:
    return Settings(
        nodes=NodeSettings(count=count, name_prefix=prefix, labels={"zone": "lab"}, **nodes),
        heartbeat=HeartbeatSettings(lease_interval=0.3),
        pods=FAST,
    )


def pod(name: str, node: str = "", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "localhost/app:1"}], **spec},
    }
    if node:
        body["spec"]["nodeName"] = node
    return body


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """Node names of the test's own (nodes are cluster-wide on the shared server)."""
    return f"s{os.getpid() % 1000}-{request.node.name[5:17].replace('_', '-')}-"


@pytest.fixture
async def api(shared_server: ServerProcess) -> AsyncIterator[ApiClient]:
    async with ApiClient(Config.from_kubeconfig(shared_server.kubeconfig), timeout=10) as client:
        yield client


@pytest.fixture
async def fleet(api: ApiClient, prefix: str) -> AsyncIterator[Fleet]:
    async with Fleet(api, settings(prefix)) as running:
        yield running
        await asyncio.gather(*(running.remove_node(n) for n in running.names))


@pytest.fixture
def kubectl(shared_server: ServerProcess, tmp_path: Path) -> Callable[..., Awaitable[str]]:
    async def run(*args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            KUBECTL, "--kubeconfig", str(shared_server.kubeconfig), "--cache-dir", str(tmp_path / "kube-cache"),
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {err.decode()}"
        return out.decode()

    return run


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 10.0) -> Any:
    """Await `check` until it returns something truthy (assertion errors count as not yet)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            result = await check()
            if result:
                return result
        except (AssertionError, NotFound):
            if asyncio.get_running_loop().time() > deadline:
                raise
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_nodes_register_as_a_kubelet_would(fleet: Fleet, api: ApiClient, kubectl: Any) -> None:
    """Each node has capacity, nodeInfo, addresses, labels and Ready=True; kubectl lists them Ready."""
    for name in fleet.names:
        node = await api.get(NODES, name)
        labels, status = node["metadata"]["labels"], node["status"]
        assert labels["kubernetes.io/hostname"] == name and labels["kubernetes.io/os"] == "linux"
        assert labels["kubernetes.io/arch"] == "amd64" and labels["zone"] == "lab"
        expected = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "32Gi"}
        assert status["capacity"] == status["allocatable"] == expected
        info = status["nodeInfo"]
        assert info["kubeletVersion"] == "v1.32.0-edgekube" and info["containerRuntimeVersion"] == "simulated://1"
        assert info["architecture"] == "amd64"
        addresses = {a["type"]: a["address"] for a in status["addresses"]}
        assert addresses["Hostname"] == name
        assert ipaddress.ip_address(addresses["InternalIP"]) in ipaddress.ip_network("192.0.2.0/24")
        conditions = {c["type"]: c for c in status["conditions"]}
        assert conditions["Ready"]["status"] == "True" and conditions["MemoryPressure"]["status"] == "False"
        assert parse_time(conditions["Ready"]["lastHeartbeatTime"]) is not None
    table = await kubectl("get", "nodes", "-l", "zone=lab", "--no-headers")
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line.split()[0] in fleet.names}
    assert set(rows) == set(fleet.names)
    assert all(row[1] == "Ready" and row[-1] == "v1.32.0-edgekube" for row in rows.values())


async def test_leases_renew_without_rewriting_nodes(fleet: Fleet, api: ApiClient) -> None:
    """renewTime (MicroTime) advances every interval; the Node object is not written meanwhile."""
    name = fleet.names[0]
    lease = await api.get(LEASES, name, NODE_LEASE_NAMESPACE)
    node_rv = (await api.get(NODES, name))["metadata"]["resourceVersion"]
    spec = lease["spec"]
    assert spec["holderIdentity"] == name and spec["leaseDurationSeconds"] == 40
    assert len(spec["renewTime"].split(".")[1]) == len("123456Z")
    assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"

    async def renewed() -> bool:
        again = await api.get(LEASES, name, NODE_LEASE_NAMESPACE)
        return bool(again["spec"]["renewTime"] > spec["renewTime"])

    await eventually(renewed, within=3)
    await asyncio.sleep(0.7)  # two more renewals
    assert (await api.get(NODES, name))["metadata"]["resourceVersion"] == node_rv
    assert fleet.stats.lease_renewals >= 3


async def test_bound_pod_runs_and_is_ready(fleet: Fleet, api: ApiClient, namespace: str, kubectl: Any) -> None:
    """A pod bound to a node (nodeName or pods/binding) becomes Running and Ready with addresses."""
    node = fleet.names[1]
    await api.create(PODS, pod("direct", node), namespace)
    await api.create(PODS, pod("bound", schedulerName="manual"), namespace)  # bound by the test, not the scheduler
    await api.bind(namespace, "bound", node)

    async def running(name: str) -> dict[str, Any] | None:
        status: dict[str, Any] = (await api.get(PODS, name, namespace))["status"]
        ready = {c["type"]: c["status"] for c in status.get("conditions", [])}.get("Ready")
        return status if status["phase"] == "Running" and ready == "True" else None

    for name in ("direct", "bound"):
        status = await eventually(functools.partial(running, name))
        assert status["hostIP"] == node_ip(fleet.node(node).index)
        assert ipaddress.ip_address(status["podIP"]) in ipaddress.ip_network("10.42.0.0/16")
        (container,) = status["containerStatuses"]
        assert container["ready"] and container["restartCount"] == 0 and "running" in container["state"]
        assert container["containerID"].startswith("simulated://") and container["imageID"]
        types = {c["type"] for c in status["conditions"]}
        assert {"PodScheduled", "Initialized", "ContainersReady", "Ready"} <= types
    wide = await kubectl("get", "pods", "-n", namespace, "-o", "wide", "--no-headers")
    for line in wide.splitlines():
        cells = line.split()
        assert cells[1:3] == ["1/1", "Running"] and cells[6] == node
        assert cells[5].startswith("10.42.")


async def test_deleted_pod_disappears(fleet: Fleet, api: ApiClient, namespace: str) -> None:
    """Graceful deletion of a bound pod ends with the node deleting it for good."""
    await api.create(PODS, pod("doomed", fleet.names[0]), namespace)
    await eventually(lambda: _phase(api, namespace, "doomed", "Running"))
    marked = await api.delete(PODS, "doomed", namespace)
    assert marked["metadata"].get("deletionTimestamp")  # graceful: the node finishes it

    async def gone() -> bool:
        try:
            await api.get(PODS, "doomed", namespace)
        except NotFound:
            return True
        return False

    await eventually(gone)

    async def counted() -> bool:
        # The fleet counts the delete when the server's answer reaches it, which can be just
        # after the test's own GET already sees the pod gone.
        return fleet.stats.pod_deletes >= 1

    await eventually(counted)


async def test_exit_after_and_failures(fleet: Fleet, api: ApiClient, namespace: str) -> None:
    """exit-after completes a Never pod (Succeeded); a failing pod shows CrashLoopBackOff or Failed."""
    node = fleet.names[2]
    job = pod("job", node, restartPolicy="Never")
    job["metadata"]["annotations"] = {EXIT_AFTER: "300ms"}
    crash = pod("crash", node)
    crash["metadata"]["annotations"] = {FAIL: "true"}
    once = pod("once", node, restartPolicy="Never")
    once["metadata"]["annotations"] = {FAIL: "true"}
    for body in (job, crash, once):
        await api.create(PODS, body, namespace)
    await eventually(lambda: _phase(api, namespace, "job", "Succeeded"))
    done = (await api.get(PODS, "job", namespace))["status"]["containerStatuses"][0]["state"]["terminated"]
    assert done["exitCode"] == 0 and done["reason"] == "Completed"
    await eventually(lambda: _phase(api, namespace, "once", "Failed"))
    status = await eventually(lambda: _phase(api, namespace, "crash", "Running"))
    assert status["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"


async def test_switches_heartbeat_and_readiness(fleet: Fleet, api: ApiClient, kubectl: Any) -> None:
    """stop_heartbeat freezes the Lease, resume_heartbeat restarts it; set_ready(False) shows NotReady."""
    name = fleet.names[0]
    fleet.stop_heartbeat(name)
    await asyncio.sleep(0.4)  # a renewal in flight lands
    frozen = (await api.get(LEASES, name, NODE_LEASE_NAMESPACE))["spec"]["renewTime"]
    await asyncio.sleep(1.0)  # three intervals
    assert (await api.get(LEASES, name, NODE_LEASE_NAMESPACE))["spec"]["renewTime"] == frozen
    other = fleet.names[1]
    before = (await api.get(LEASES, other, NODE_LEASE_NAMESPACE))["spec"]["renewTime"]
    assert before > frozen  # the others went on

    fleet.resume_heartbeat(name)

    async def moving() -> bool:
        return bool((await api.get(LEASES, name, NODE_LEASE_NAMESPACE))["spec"]["renewTime"] > frozen)

    await eventually(moving, within=3)
    await fleet.set_ready(other, False)
    table = await kubectl("get", "node", other, "--no-headers")
    assert table.split()[1] == "NotReady"


async def test_restart_adopts_nodes_and_remove_deletes(api: ApiClient, prefix: str) -> None:
    """A second fleet with the same names adopts the nodes (same uid); remove_node deletes Node and Lease."""
    async with Fleet(api, settings(prefix, count=1, unready=1)) as first:
        name = first.names[0]
        uid = (await api.get(NODES, name))["metadata"]["uid"]
        ready = {c["type"]: c["status"] for c in (await api.get(NODES, name))["status"]["conditions"]}["Ready"]
        assert ready == "False"  # --unready-nodes
    async with Fleet(api, settings(prefix, count=1)) as second:
        node = await api.get(NODES, name)
        assert node["metadata"]["uid"] == uid
        assert {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] == "True"
        await second.remove_node(name)
        with pytest.raises(NotFound):
            await api.get(NODES, name)
        with pytest.raises(NotFound):
            await api.get(LEASES, name, NODE_LEASE_NAMESPACE)
        assert second.names == []


async def _phase(api: ApiClient, namespace: str, name: str, phase: str) -> dict[str, Any] | None:
    status: dict[str, Any] = (await api.get(PODS, name, namespace)).get("status", {})
    return status if status.get("phase") == phase else None


# -- the pure parts, no server --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("5s", 5.0), ("1m30s", 90.0), ("250ms", 0.25), ("2h", 7200.0), ("1.5", 1.5)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    """Go-style durations and bare numbers of seconds."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "s", "5s3"])
def test_parse_duration_rejects(text: str) -> None:
    """Anything else is a ValueError."""
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("index", "ip"),
    [(0, "192.0.2.1"), (253, "192.0.2.254"), (254, "198.51.100.1"), (508, "203.0.113.1"), (762, "2001:db8::2fb")],
)
def test_node_ips_stay_in_documentation_ranges(index: int, ip: str) -> None:
    """TEST-NET-1, -2, -3, then 2001:db8::/32."""
    assert node_ip(index) == ip


def test_ip_pool_hands_out_free_addresses() -> None:
    """From .2 up, skipping claimed ones; a released address comes back only after the rest."""
    pool = IpPool("10.42.7.0/24")
    pool.claim("10.42.7.3")
    assert [pool.allocate() for _ in range(2)] == ["10.42.7.2", "10.42.7.4"]
    pool.release("10.42.7.2")
    assert pool.allocate() == "10.42.7.5"


def test_command_flags_become_settings() -> None:
    """Flags fill the settings dataclass; bad values name the flag."""
    import argparse

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(
        ["simulate", "--nodes", "5", "--labels", "a=1,b=2", "--labels", "c=3", "--fail-rate", "0.1"]
    )
    built = settings_from(args)
    assert built.nodes.count == 5 and built.nodes.labels == {"a": "1", "b": "2", "c": "3"}
    assert built.pods.fail_rate == 0.1 and built.heartbeat.lease_interval == 10.0
    with pytest.raises(ValueError, match="--fail-rate"):
        settings_from(parser.parse_args(["simulate", "--fail-rate", "2"]))


async def test_delay_queue_keeps_the_earliest_time_and_one_holder() -> None:
    """A key is queued once, at its earliest wanted time; re-added while held, it comes back after done()."""
    queue = DelayQueue()
    queue.add("a", 0.05)
    queue.add("a", 10)  # later than wanted already: ignored
    queue.add("b")
    assert await asyncio.wait_for(queue.get(), 1) == "b"
    queue.add("b")  # while held
    assert await asyncio.wait_for(queue.get(), 1) == "a"
    queue.done("b")
    assert await asyncio.wait_for(queue.get(), 1) == "b"
    queue.close()


@pytest.mark.parametrize(
    ("stage", "annotations", "expected"),
    [
        (Stage.PENDING, {}, (Step.START, 100.5)),
        (Stage.RUNNING, {}, (Step.READY, 200.5)),
        (Stage.READY, {}, None),
        (Stage.READY, {EXIT_AFTER: "2s"}, (Step.COMPLETE, 202.0)),
        (Stage.RUNNING, {EXIT_AFTER: "100ms"}, (Step.COMPLETE, 200.1)),
        (Stage.CRASHING, {EXIT_AFTER: "1s"}, None),
        (Stage.DONE, {}, None),
    ],
)
def test_next_step(stage: Stage, annotations: dict[str, str], expected: tuple[Step, float] | None) -> None:
    """Start after start_delay from first sight, ready after ready_delay, complete at exit-after, whichever first."""
    body = pod("p", "n", restartPolicy="Never")
    body["metadata"]["annotations"] = annotations
    record = PodRecord(uid="u", node="n", seen_at=100.0, stage=stage, started_loop=200.0)
    assert next_step(body, record, PodSettings(start_delay=0.5, ready_delay=0.5)) == expected
