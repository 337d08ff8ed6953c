"""The pod worker and the pod network seam: DNS files first, wiring per sandbox, podIP, unwiring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.pods.contexts import PodContext
from agent.pods.working import PodWorker
from agent.runtime.fake import FakeRuntime
from agent.runtime.interface import DnsFiles, Sandbox
from tests.unit.agent.conftest import RecordingApi, container, pod, run_worker, sink, until

Obj = dict[str, Any]


class RecordingNetwork:
    """A PodNetwork that hands out 10.42.0.<n> and notes every call in order."""

    def __init__(self, *, ready: bool = True) -> None:
        self.ready = ready
        self.calls: list[tuple[str, str]] = []
        self.addresses: dict[str, str] = {}

    def dns_files(self, uid: str) -> DnsFiles | None:
        return DnsFiles(resolv_conf=Path(f"/pods/{uid}/resolv.conf"))

    async def prepare(self, pod: Obj) -> None:
        self.calls.append(("prepare", pod["metadata"]["uid"]))

    def address_of(self, uid: str) -> str:
        return self.addresses.get(uid, "")

    async def attach(self, pod: Obj, sandbox: Sandbox) -> str:
        uid = pod["metadata"]["uid"]
        self.calls.append(("attach", sandbox.id))
        return self.addresses.setdefault(uid, f"10.42.0.{len(self.addresses) + 2}")

    async def detach(self, uid: str) -> None:
        self.calls.append(("detach", uid))
        self.addresses.pop(uid, None)


def with_network(ctx: PodContext, network: RecordingNetwork) -> PodContext:
    setattr(ctx, "network", network)  # noqa: B010 (as the agent does until PodContext has the field)
    return ctx


async def test_pod_waits_for_the_network_then_gets_its_address(ctx: PodContext, fake: FakeRuntime) -> None:
    """Not ready: ContainerCreating, no container; ready: wired once, podIP and podIPs in the status."""
    network = RecordingNetwork(ready=False)
    worker = await run_worker(with_network(ctx, network), pod("web", container("a", "serve")))
    try:
        await until(lambda: "pod network" in str(sink(ctx).last))
        assert not await fake.list_containers()
        network.ready = True
        await until(lambda: sink(ctx).last.get("phase") == "Running")
        status = sink(ctx).last
        assert status["podIP"] == "10.42.0.2" and status["podIPs"] == [{"ip": "10.42.0.2"}]
        assert [c[0] for c in network.calls] == ["prepare", "attach"]
        assert worker.sandbox_spec.dns == DnsFiles(resolv_conf=Path("/pods/uid-web/resolv.conf"))
    finally:
        await worker.stop()


async def test_a_new_sandbox_is_wired_again(ctx: PodContext, fake: FakeRuntime) -> None:
    """The infra died: the new sandbox is attached too, and the pod keeps its address."""
    network = RecordingNetwork()
    worker = await run_worker(with_network(ctx, network), pod("web", container("a", "serve")))
    try:
        await until(lambda: sink(ctx).last.get("phase") == "Running")
        assert worker.sandbox is not None
        first = worker.sandbox.id
        await fake.remove_pod_sandbox(first)
        await until(
            lambda: (
                worker.sandbox is not None
                and worker.sandbox.id != first
                and worker.wired_sandbox is not None
                and worker.wired_sandbox != first
            ),
            within=5,
        )
        assert [c for c in network.calls if c[0] == "attach"][-1][1] != first
        assert worker.pod_ip() == "10.42.0.2"
    finally:
        await worker.stop()


async def test_deleted_pod_is_unwired(ctx: PodContext) -> None:
    """A pod removed from the server is stopped, then detached (its address freed)."""
    network = RecordingNetwork()
    worker = await run_worker(with_network(ctx, network), pod("web", container("a", "serve")))
    await until(lambda: sink(ctx).last.get("phase") == "Running")
    worker.remove()
    await until(lambda: worker.finished.is_set())
    assert network.calls[-1] == ("detach", "uid-web") and not network.addresses
    assert isinstance(ctx.client, RecordingApi)


async def test_host_network_pod_is_not_wired(ctx: PodContext) -> None:
    """hostNetwork: no attach, podIP is the node IP; its resolv.conf is still written."""
    network = RecordingNetwork()
    worker = await run_worker(with_network(ctx, network), pod("host", container("a", "serve"), hostNetwork=True))
    try:
        await until(lambda: sink(ctx).last.get("phase") == "Running")
        assert sink(ctx).last["podIP"] == "10.0.0.7"
        assert [c[0] for c in network.calls] == ["prepare"]
    finally:
        await worker.stop()


async def test_no_network_means_no_dns_files_and_no_address(ctx: PodContext) -> None:
    """Backend none (no network on the context): the pod runs as before, without podIP."""
    worker = PodWorker(ctx, pod("plain", container("a", "serve")))
    worker.start()
    try:
        await until(lambda: sink(ctx).last.get("phase") == "Running")
        assert sink(ctx).last["podIP"] is None and worker.sandbox_spec.dns is None
    finally:
        await worker.stop()
