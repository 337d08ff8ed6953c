"""Pod worker logic over the fake runtime: starts, restarts, back-off, policies, deletion, adoption."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from agent.pods.contexts import PodContext
from agent.pods.working import PodWorker
from agent.runtime.fake import FakeRuntime
from agent.runtime.fake_programs import Allocate, Exit, Program, ProgramContext, Sleep, Write
from agent.runtime.interface import LABEL_POD_UID, ContainerState
from tests.unit.agent.conftest import (
    RecordingApi,
    container,
    pod,
    run_worker,
    sink,
    state_of,
    until,
)


def noting(seen: list[str], word: str) -> Callable[[ProgramContext], str]:
    """A fake program's output step that notes `word` when it runs."""

    def write(_: ProgramContext) -> str:
        seen.append(word)
        return ""

    return write


async def test_running_pod_reports_running_and_ready(ctx: PodContext) -> None:
    """Two long-running containers: phase Running, both ready, Ready condition True, podman ids."""
    worker = await run_worker(ctx, pod("web", container("a", "serve"), container("b", "serve")))
    try:
        await until(lambda: sink(ctx).last.get("phase") == "Running")
        status = sink(ctx).last
        assert [c["ready"] for c in status["containerStatuses"]] == [True, True]
        assert all(c["containerID"].startswith("podman://") for c in status["containerStatuses"])
        conditions = {c["type"]: c["status"] for c in status["conditions"]}
        assert conditions == {
            "PodReadyToStartContainers": "True",
            "Initialized": "True",
            "Ready": "True",
            "ContainersReady": "True",
            "PodScheduled": "True",
        }
        assert status["hostIP"] == "10.0.0.7" and status["podIP"] is None
    finally:
        await worker.stop()


async def test_crash_loop_restarts_with_growing_back_off(ctx: PodContext, fake: FakeRuntime) -> None:
    """Always: each exit restarts the container, the first at once, later ones after a growing wait."""
    fake.teach(["crash"], Program((Write("bye\n"), Exit(2))))
    worker = await run_worker(ctx, pod("crashy", container("main", "crash")))
    try:
        await until(lambda: state_of(sink(ctx).last, "main")["restartCount"] >= 3 if sink(ctx).posted else False)
        waits = [
            state_of(s, "main")["state"]["waiting"]
            for s in sink(ctx).posted
            if "waiting" in state_of(s, "main")["state"]
        ]
        loops = [w for w in waits if w["reason"] == "CrashLoopBackOff"]
        assert loops and "back-off 0.1s restarting failed container=main pod=crashy_default(uid-crashy)" in [
            w["message"] for w in loops
        ]
        assert any("back-off 0.2s" in w["message"] for w in loops)
        last = state_of(sink(ctx).last, "main")["lastState"]["terminated"]
        assert last["exitCode"] == 2 and last["reason"] == "Error"
        assert sink(ctx).last["phase"] == "Running"
    finally:
        await worker.stop()


async def test_restart_policy_never_fails_and_on_failure_succeeds(ctx: PodContext, fake: FakeRuntime) -> None:
    """Never + exit 1: Failed, no restart. OnFailure + exit 0: Succeeded."""
    fake.teach(["fail"], Program((Exit(1),)))
    fake.teach(["ok"], Program((Exit(0),)))
    failing = await run_worker(ctx, pod("f", container("main", "fail"), restartPolicy="Never"))
    try:
        await until(lambda: sink(ctx).last.get("phase") == "Failed")
        main = state_of(sink(ctx).last, "main")
        assert main["state"]["terminated"]["exitCode"] == 1 and main["restartCount"] == 0
    finally:
        await failing.stop()
    done = await run_worker(ctx, pod("s", container("main", "ok"), restartPolicy="OnFailure"))
    try:
        await until(lambda: sink(ctx).last.get("phase") == "Succeeded")
        assert state_of(sink(ctx).last, "main")["state"]["terminated"]["reason"] == "Completed"
        conditions = {c["type"]: c.get("reason") for c in sink(ctx).last["conditions"]}
        assert conditions["Ready"] == "PodCompleted"
    finally:
        await done.stop()


async def test_init_containers_run_in_order_before_the_app(ctx: PodContext, fake: FakeRuntime) -> None:
    """Init containers one at a time, each to success; app containers wait with PodInitializing."""
    order: list[str] = []
    fake.teach(["first"], Program((Write(noting(order, "first")), Sleep(0.05))))
    fake.teach(["second"], Program((Write(noting(order, "second")),)))
    body = pod(
        "inits", container("app", "serve"), initContainers=[container("one", "first"), container("two", "second")]
    )
    worker = await run_worker(ctx, body)
    try:
        await until(lambda: sink(ctx).last.get("phase") == "Running")
        assert order == ["first", "second"]
        early = sink(ctx).posted[0]
        assert state_of(early, "app")["state"]["waiting"]["reason"] == "PodInitializing"
        assert {c["type"]: c["status"] for c in early["conditions"]}["Initialized"] == "False"
        inits = sink(ctx).last["initContainerStatuses"]
        assert [c["state"]["terminated"]["reason"] for c in inits] == ["Completed", "Completed"]
    finally:
        await worker.stop()


async def test_failed_init_container_with_never_fails_the_pod(ctx: PodContext, fake: FakeRuntime) -> None:
    """An init container that fails under restartPolicy Never fails the pod; the app never starts."""
    fake.teach(["bad-init"], Program((Exit(7),)))
    body = pod("badinit", container("app", "serve"), restartPolicy="Never", initContainers=[container("i", "bad-init")])
    worker = await run_worker(ctx, body)
    try:
        await until(lambda: sink(ctx).last.get("phase") == "Failed")
        assert "containerID" not in state_of(sink(ctx).last, "app")
    finally:
        await worker.stop()


async def test_missing_image_and_config_wait_with_kubelet_reasons(ctx: PodContext) -> None:
    """A pull that fails: ErrImagePull, then ImagePullBackOff; a missing ConfigMap: CreateContainerConfigError."""
    missing = {"name": "main", "image": "registry.example/app:1", "imagePullPolicy": "Always", "command": ["x"]}
    env = [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k"}}}]
    worker = await run_worker(ctx, pod("img", missing))
    config = await run_worker(ctx, pod("cfg", container("main", "serve", env=env)))
    try:

        def reasons() -> set[str]:
            return {
                state_of(s, "main")["state"].get("waiting", {}).get("reason", "")
                for s in sink(ctx).posted
                if s.get("containerStatuses")
            }

        await until(lambda: {"ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError"} <= reasons())
    finally:
        await worker.stop()
        await config.stop()


async def test_deletion_runs_pre_stop_stops_and_deletes(ctx: PodContext, fake: FakeRuntime) -> None:
    """Deleted: preStop exec first, then the container stops; final status Failed; delete with grace 0 and uid."""
    hooked: list[str] = []
    fake.teach(["hook"], Program((Write(noting(hooked, "ran")),)))
    lifecycle = {"preStop": {"exec": {"command": ["hook"]}}}
    body = pod("bye", container("main", "serve", lifecycle=lifecycle))
    worker = await run_worker(ctx, body)
    await until(lambda: sink(ctx).last.get("phase") == "Running")
    deleting = {**body, "metadata": {**body["metadata"], "deletionTimestamp": "2025-01-01T00:00:00Z"}}
    worker.update(deleting)
    await asyncio.wait_for(worker.finished.wait(), 5)
    assert hooked == ["ran"]
    assert sink(ctx).sent and sink(ctx).sent[-1]["phase"] == "Failed"
    assert state_of(sink(ctx).sent[-1], "main")["state"]["terminated"]["exitCode"] == 143
    assert isinstance(ctx.client, RecordingApi)
    assert ctx.client.deletes == [("bye", "default", 0, "uid-bye")]
    assert await fake.list_pod_sandboxes({LABEL_POD_UID: "uid-bye"}) == []


async def test_pod_gone_from_server_is_cleaned_without_writes(ctx: PodContext) -> None:
    """A pod that vanished from the server (force delete) is stopped and removed; no delete call."""
    worker = await run_worker(ctx, pod("gone", container("main", "serve")))
    await until(lambda: sink(ctx).last.get("phase") == "Running")
    worker.remove()
    await asyncio.wait_for(worker.finished.wait(), 5)
    assert isinstance(ctx.client, RecordingApi)
    assert ctx.client.deletes == [] and sink(ctx).sent == []
    assert await ctx.runtime.list_pod_sandboxes({LABEL_POD_UID: "uid-gone"}) == []


async def test_a_new_worker_adopts_running_containers(ctx: PodContext, fake: FakeRuntime) -> None:
    """A restarted agent's worker keeps the running container: same id, same start time, no restart."""
    body = pod("kept", container("main", "serve"))
    first = await run_worker(ctx, body)
    await until(lambda: sink(ctx).last.get("phase") == "Running")
    before = state_of(sink(ctx).last, "main")
    await first.stop()
    second = PodWorker(ctx, body)
    second.start()
    try:
        await until(lambda: second.syncs >= 2)
        after = state_of(sink(ctx).last, "main")
        assert after["containerID"] == before["containerID"]
        assert after["state"] == before["state"] and after["restartCount"] == 0
        containers = await fake.list_containers({LABEL_POD_UID: "uid-kept"})
        assert len(containers) == 1 and containers[0].state is ContainerState.RUNNING
    finally:
        await second.stop()


async def test_restarted_worker_keeps_counting_and_previous_container(ctx: PodContext, fake: FakeRuntime) -> None:
    """Adoption reads the restart count from labels and keeps the previous container for logs --previous."""
    fake.teach(["twice"], Program((Sleep(0.05), Exit(1))))
    body = pod("count", container("main", "twice"))
    first = await run_worker(ctx, body)
    await until(lambda: bool(sink(ctx).posted) and state_of(sink(ctx).last, "main")["restartCount"] >= 2)
    await first.stop()
    counts = sorted(c.restart_count for c in await fake.list_containers({LABEL_POD_UID: "uid-count"}))
    assert len(counts) == 2 and counts[1] == counts[0] + 1  # current and previous, older ones removed
    second = PodWorker(ctx, body)
    second.start()
    try:
        await until(lambda: state_of(sink(ctx).last, "main")["restartCount"] >= counts[1] + 1)
        assert ctx.directory.lookup("default", "count", "main", previous=True) is not None
    finally:
        await second.stop()


async def test_oom_kill_is_reported_as_oom_killed(ctx: PodContext, fake: FakeRuntime) -> None:
    """A container over its memory limit ends OOMKilled (exit 137), and Never keeps it so."""
    fake.teach(["hog"], Program((Allocate(64 << 20),)))
    limits = {"limits": {"memory": "32Mi"}}
    worker = await run_worker(ctx, pod("hog", container("main", "hog", resources=limits), restartPolicy="Never"))
    try:
        await until(lambda: sink(ctx).last.get("phase") == "Failed")
        ended = state_of(sink(ctx).last, "main")["state"]["terminated"]
        assert (ended["exitCode"], ended["reason"]) == (137, "OOMKilled")
    finally:
        await worker.stop()


class Prober:
    """A prober whose verdicts the test gives: `verdicts[kind][-1](ok)`."""

    def __init__(self) -> None:
        self.verdicts: dict[str, list[Callable[[bool], None]]] = {}

    def probe(self, kind: str, probe: dict[str, object], **kwargs: Any) -> Coroutine[Any, Any, None]:
        self.verdicts.setdefault(kind, []).append(kwargs["on_change"])
        return asyncio.Event().wait()  # type: ignore[return-value]

    async def hook(self, handler: dict[str, object], **kwargs: Any) -> tuple[bool, str]:
        return True, ""

    def count(self, kind: str) -> int:
        return len(self.verdicts.get(kind, []))


async def test_liveness_failure_restarts_the_container(ctx: PodContext, fake: FakeRuntime) -> None:
    """A liveness verdict of False kills the container; the restart policy brings a new one."""
    prober = Prober()
    ctx.probing = prober
    live = {"exec": {"command": ["check"]}}
    worker = await run_worker(ctx, pod("live", container("main", "serve", livenessProbe=live)))
    try:
        await until(lambda: prober.count("liveness") == 1 and sink(ctx).last.get("phase") == "Running")
        prober.verdicts["liveness"][-1](False)
        await until(lambda: state_of(sink(ctx).last, "main")["restartCount"] == 1 and prober.count("liveness") == 2)
        assert state_of(sink(ctx).last, "main")["lastState"]["terminated"]["exitCode"] == 143
    finally:
        await worker.stop()


async def test_startup_probe_holds_readiness_and_liveness(ctx: PodContext) -> None:
    """Until the startup probe passes: not started, not ready, no other probes; then readiness decides."""
    prober = Prober()
    ctx.probing = prober
    probe = {"exec": {"command": ["check"]}}
    body = pod("slow", container("main", "serve", startupProbe=probe, readinessProbe=probe, livenessProbe=probe))
    worker = await run_worker(ctx, body)
    try:
        await until(lambda: prober.count("startup") == 1 and sink(ctx).last.get("phase") == "Running")
        main = state_of(sink(ctx).last, "main")
        assert (main["started"], main["ready"]) == (False, False)
        assert prober.count("readiness") == prober.count("liveness") == 0
        prober.verdicts["startup"][-1](True)
        await until(lambda: prober.count("readiness") == 1 and prober.count("liveness") == 1)
        await until(lambda: state_of(sink(ctx).last, "main")["started"] is True)
        assert state_of(sink(ctx).last, "main")["ready"] is False
        prober.verdicts["readiness"][-1](True)
        await until(lambda: state_of(sink(ctx).last, "main")["ready"] is True)
        conditions = {c["type"]: c["status"] for c in sink(ctx).last["conditions"]}
        assert conditions["Ready"] == "True"
        prober.verdicts["readiness"][-1](False)
        await until(lambda: state_of(sink(ctx).last, "main")["ready"] is False)
    finally:
        await worker.stop()
