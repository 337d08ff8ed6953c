"""The runtime contract: every test runs against real Podman and against the fake."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.runtime.errors import (
    AlreadyExistsError,
    ContainerRuntimeError,
    CreateContainerError,
    ImageImportError,
    ImageNeverPullError,
    ImagePullError,
    NotFoundError,
    StartContainerError,
)
from agent.runtime.fake_programs import (
    Allocate,
    CopyStdin,
    Exit,
    Fetch,
    Program,
    Serve,
    Sleep,
    Write,
)
from agent.runtime.interface import (
    LABEL_CONTAINER_NAME,
    LABEL_MANAGED,
    LABEL_POD_UID,
    ContainerState,
    PullPolicy,
    Resources,
    SecurityContext,
    exec_output,
)
from tests.e2e.runtime.harness import Harness
from tests.support.images import INDEX_HTML

pytestmark = pytest.mark.timeout(60)

MiB = 1024 * 1024
TALKER = ("sh", "-c", "echo hi; echo oops >&2; sleep 30")
TALKER_FAKE = Program((Write("hi\n"), Write("oops\n", "stderr"), Sleep(30)), ignore_sigterm=True)


async def test_version_names_the_runtime(h: Harness) -> None:
    """version() says which runtime answers, and for Podman which OCI runtime it uses."""
    version = await h.runtime.version()
    assert version.runtime_name == h.kind
    assert version.runtime_version
    if h.real:
        assert version.oci_runtime == os.environ.get("EDGEKUBE_TEST_OCI_RUNTIME", "runc")


async def test_sandbox_lifecycle(h: Harness) -> None:
    """A sandbox starts ready with its own network namespace and adoption labels; removal is idempotent."""
    sandbox, spec = await h.sandbox("lifecycle")
    assert sandbox.ready
    assert sandbox.labels[LABEL_POD_UID] == spec.uid
    assert sandbox.labels[LABEL_MANAGED] == "true"
    if h.real:
        assert sandbox.netns_path is not None
        assert os.readlink(sandbox.netns_path) != os.readlink("/proc/self/ns/net")
    inspected = await h.runtime.inspect_pod_sandbox(sandbox.id)
    assert (inspected.id, inspected.ready, inspected.infra_pid) == (sandbox.id, True, sandbox.infra_pid)
    with pytest.raises(AlreadyExistsError):
        await h.runtime.create_pod_sandbox(spec)

    await h.runtime.remove_pod_sandbox(sandbox.id)
    await h.runtime.remove_pod_sandbox(sandbox.id)
    assert await h.runtime.list_pod_sandboxes(h.run_label) == []
    with pytest.raises(NotFoundError):
        await h.runtime.inspect_pod_sandbox(sandbox.id)


async def test_running_container_logs(h: Harness) -> None:
    """A running container's stdout and stderr reach its logs by line, with tail and timestamps."""
    sandbox, spec = await h.sandbox("logs")
    container = await h.run(sandbox, spec, h.container_spec("talker", TALKER, TALKER_FAKE))
    lines = await h.logs_until(container, lambda ls: len(ls) >= 2)
    assert sorted((line.stream, line.text) for line in lines) == [("stderr", "oops"), ("stdout", "hi")]
    assert all(line.timestamp is None for line in lines)

    status = await h.runtime.inspect_container(container)
    assert status.state is ContainerState.RUNNING
    assert status.exit_code is None
    assert status.started_at is not None and status.started_at > datetime.now(UTC) - timedelta(minutes=1)
    assert status.container_name == "talker"
    assert status.sandbox_id == sandbox.id

    assert len([line async for line in h.runtime.logs(container, tail=1)]) == 1
    assert len([line async for line in h.runtime.logs(container, since=status.started_at - timedelta(hours=1))]) == 2
    assert [line async for line in h.runtime.logs(container, since=datetime.now(UTC) + timedelta(hours=1))] == []
    stamped = [line async for line in h.runtime.logs(container, timestamps=True)]
    assert stamped and all(line.timestamp is not None for line in stamped)
    stats = await h.runtime.stats(container)
    assert stats.memory_bytes > 0


async def test_follow_logs_until_exit(h: Harness) -> None:
    """Following logs yields lines as they are written and ends when the container exits."""
    sandbox, spec = await h.sandbox("follow")
    argv = ("sh", "-c", "echo one; sleep 1; echo two")
    fake = Program((Write("one\n"), Sleep(1), Write("two\n")))
    container = await h.run(sandbox, spec, h.container_spec("follower", argv, fake))
    async with asyncio.timeout(15):
        texts = [line.text async for line in h.runtime.logs(container, follow=True)]
    assert texts == ["one", "two"]


async def test_stop_kills_after_the_grace_period(h: Harness) -> None:
    """Stop sends SIGTERM; a process that ignores it (sh as PID 1) is SIGKILLed after the grace period."""
    sandbox, spec = await h.sandbox("stop")
    container = await h.run(sandbox, spec, h.container_spec("stubborn", TALKER, TALKER_FAKE))
    await h.logs_until(container, lambda ls: len(ls) >= 2)
    started = time.monotonic()
    await h.runtime.stop_container(container, 1)
    assert time.monotonic() - started >= 0.9
    status = await h.runtime.inspect_container(container)
    assert (status.state, status.exit_code, status.oom_killed) == (ContainerState.EXITED, 137, False)
    assert status.finished_at is not None and status.started_at is not None
    assert status.finished_at >= status.started_at
    await h.runtime.stop_container(container, 1)  # stopping a stopped container is fine


async def test_stop_of_a_process_that_handles_sigterm(h: Harness) -> None:
    """A process that exits on SIGTERM stops at once, with its own exit code."""
    sandbox, spec = await h.sandbox("polite")
    argv = ("sh", "-c", "trap 'exit 0' TERM; echo ready; while true; do sleep 0.1; done")
    fake = Program((Write("ready\n"), Sleep()), sigterm_exit_code=0)
    container = await h.run(sandbox, spec, h.container_spec("polite", argv, fake))
    await h.logs_until(container, lambda ls: len(ls) >= 1)
    started = time.monotonic()
    await h.runtime.stop_container(container, 20)
    assert time.monotonic() - started < 10
    assert (await h.runtime.inspect_container(container)).exit_code == 0


async def test_exit_code_is_reported(h: Harness) -> None:
    """wait_container and inspect report a process's own exit code."""
    sandbox, spec = await h.sandbox("exit")
    container = await h.run(sandbox, spec, h.container_spec("three", ("sh", "-c", "exit 3"), Program((Exit(3),))))
    async with asyncio.timeout(15):
        assert await h.runtime.wait_container(container) == 3
    status = await h.runtime.inspect_container(container)
    assert (status.state, status.exit_code, status.oom_killed) == (ContainerState.EXITED, 3, False)


async def test_command_args_env_and_working_dir(h: Harness) -> None:
    """command replaces the entrypoint, args follow it, env is set and a missing workingDir is created."""
    sandbox, spec = await h.sandbox("env")
    script = 'echo "$GREETING from $(pwd) with $#: $1"'
    fake = Program((Write(lambda ctx: f"{ctx.env['GREETING']} from {ctx.spec.working_dir} with 1: arg\n"),))
    container_spec = h.container_spec(
        "env", ("sh", "-c"), fake, args=(script, "zero", "arg"), env={"GREETING": "hello"}, working_dir="/work/d"
    )
    container = await h.run(sandbox, spec, container_spec)
    async with asyncio.timeout(15):
        assert await h.runtime.wait_container(container) == 0
    assert [line.text async for line in h.runtime.logs(container)] == ["hello from /work/d with 1: arg"]


async def test_security_context_and_cpu_limit(h: Harness) -> None:
    """User, group, read-only root filesystem and the CPU quota reach the process."""
    sandbox, spec = await h.sandbox("security")
    script = (
        'echo "$(id -u):$(id -g)"; touch /probe 2>/dev/null && echo writable || echo read-only; '
        "cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d' ' -f1 /sys/fs/cgroup/cpu.max"
    )
    fake = Program(
        (
            Write(lambda ctx: f"{ctx.spec.security.run_as_user}:{ctx.spec.security.run_as_group}\n"),
            Write(lambda ctx: "read-only\n" if ctx.spec.security.read_only_root_filesystem else "writable\n"),
            Write(lambda ctx: f"{ctx.spec.resources.cpu_quota_us()}\n"),
        )
    )
    security = SecurityContext(
        run_as_user=1000, run_as_group=2000, read_only_root_filesystem=True, capabilities_drop=("ALL",)
    )
    container_spec = h.container_spec(
        "secure", ("sh", "-c", script), fake, security=security, resources=Resources(cpu_limit_millis=500)
    )
    container = await h.run(sandbox, spec, container_spec)
    async with asyncio.timeout(15):
        assert await h.runtime.wait_container(container) == 0
    assert [line.text async for line in h.runtime.logs(container)] == ["1000:2000", "read-only", "50000"]


async def test_containers_of_a_sandbox_share_localhost(h: Harness) -> None:
    """Containers of one sandbox reach each other on 127.0.0.1; a container of another sandbox does not."""
    sandbox, spec = await h.sandbox("shared")
    server = ("httpd", "-f", "-p", "8080", "-h", "/www")
    await h.run(sandbox, spec, h.container_spec("server", server, Program((Serve(8080, INDEX_HTML),))))
    tries = " ".join(str(i) for i in range(20))  # httpd may not listen yet
    fetch = f"for i in {tries}; do wget -qO- http://127.0.0.1:8080/ && exit 0; sleep 0.2; done; exit 1"
    client = await h.run(sandbox, spec, h.container_spec("client", ("sh", "-c", fetch), Program((Fetch(8080),))))
    async with asyncio.timeout(15):
        assert await h.runtime.wait_container(client) == 0
    assert [line.text async for line in h.runtime.logs(client)] == [INDEX_HTML.strip()]

    other, other_spec = await h.sandbox("other")
    probe = "wget -qO- http://127.0.0.1:8080/"  # (busybox 1.35's wget -T crashes)
    stranger = await h.run(
        other, other_spec, h.container_spec("stranger", ("sh", "-c", probe), Program((Fetch(8080),)))
    )
    async with asyncio.timeout(15):
        assert await h.runtime.wait_container(stranger) == 1


async def test_memory_limit_oom_kill_is_reported(h: Harness) -> None:
    """A container that grows past its memory limit is OOM-killed, and inspect says so."""
    sandbox, spec = await h.sandbox("oom")
    argv = ("sh", "-c", "a=$(yes | head -c 100000000); echo survived")
    fake = Program((Allocate(100_000_000), Write("survived\n")))
    container_spec = h.container_spec("hungry", argv, fake, resources=Resources(memory_limit_bytes=16 * MiB))
    container = await h.run(sandbox, spec, container_spec)
    async with asyncio.timeout(30):
        assert await h.runtime.wait_container(container) == 137
    status = await h.runtime.inspect_container(container)
    assert (status.state, status.exit_code, status.oom_killed) == (ContainerState.EXITED, 137, True)
    assert [line.text async for line in h.runtime.logs(container)] == []


async def test_listing_by_labels_finds_exactly_ours(h: Harness) -> None:
    """A new runtime client (an agent after a restart) finds exactly our sandboxes and containers by label."""
    first, first_spec = await h.sandbox("adopt-a")
    second, second_spec = await h.sandbox("adopt-b")
    one = await h.run(first, first_spec, h.container_spec("web", TALKER, TALKER_FAKE, restart_count=2))
    two = await h.run(second, second_spec, h.container_spec("db", TALKER, TALKER_FAKE), start=False)

    agent = h.reconnect()
    assert {s.id for s in await agent.list_pod_sandboxes(h.run_label)} == {first.id, second.id}
    assert [s.id for s in await agent.list_pod_sandboxes({LABEL_POD_UID: first_spec.uid})] == [first.id]
    assert await agent.list_pod_sandboxes({**h.run_label, LABEL_POD_UID: "no-such-uid"}) == []

    found = {c.id: c for c in await agent.list_containers(h.run_label)}
    assert set(found) == {one, two}
    assert (found[one].container_name, found[one].restart_count, found[one].sandbox_id) == ("web", 2, first.id)
    assert (found[one].state, found[two].state) == (ContainerState.RUNNING, ContainerState.CREATED)
    assert [c.id for c in await agent.list_containers(sandbox=second.id)] == [two]
    assert [c.id for c in await agent.list_containers({LABEL_CONTAINER_NAME: "web", **h.run_label})] == [one]

    status = await agent.inspect_container(one)
    assert (status.restart_count, status.labels[LABEL_POD_UID]) == (2, first_spec.uid)


async def test_pull_policies(h: Harness, test_run_id: str) -> None:
    """Never refuses a missing image, IfNotPresent fails to pull it cleanly, present images are used."""
    missing = f"localhost/edgekube-missing-{test_run_id}:latest"
    with pytest.raises(ImageNeverPullError):
        await h.runtime.ensure_image(missing, PullPolicy.NEVER)
    async with asyncio.timeout(30):
        with pytest.raises(ImagePullError):
            await h.runtime.ensure_image(missing, PullPolicy.IF_NOT_PRESENT)

    present = await h.runtime.ensure_image(h.image, PullPolicy.NEVER)
    assert h.image in present.tags
    assert (await h.runtime.ensure_image(h.image, PullPolicy.IF_NOT_PRESENT)).id == present.id
    # Always with no registry: the node is offline, so the local image is used (offline_fallback)
    assert (await h.runtime.ensure_image(h.image, PullPolicy.ALWAYS)).id == present.id
    assert present.id in {image.id for image in await h.runtime.list_images()}


async def test_import_image_archive(h: Harness, image_archive: tuple[Path, str], tmp_path: Path) -> None:
    """An image archive (the airgap path) loads, is listed, and can be removed; garbage is refused."""
    archive, name = image_archive
    assert name in await h.runtime.import_image_archive(archive)
    info = await h.runtime.ensure_image(name, PullPolicy.NEVER)
    assert name in info.tags
    assert any(name in image.tags for image in await h.runtime.list_images())

    await h.runtime.remove_image(name)
    await h.runtime.remove_image(name)
    with pytest.raises(ImageNeverPullError):
        await h.runtime.ensure_image(name, PullPolicy.NEVER)

    garbage = tmp_path / "not-an-image.tar"
    garbage.write_bytes(b"no tar here")
    with pytest.raises(ImageImportError):
        await h.runtime.import_image_archive(garbage)


async def test_exec(h: Harness) -> None:
    """Exec runs commands in a running container: output, exit code and stdin."""
    sandbox, spec = await h.sandbox("exec")
    container = await h.run(sandbox, spec, h.container_spec("target", TALKER, TALKER_FAKE))
    await h.logs_until(container, lambda ls: len(ls) >= 2)

    result = await exec_output(h.runtime, container, h.argv(("echo", "ok"), Program((Write("ok\n"),))))
    assert (result.exit_code, result.stdout, result.stderr) == (0, b"ok\n", b"")
    failing = h.argv(("sh", "-c", "echo bad >&2; exit 4"), Program((Write("bad\n", "stderr"), Exit(4))))
    result = await exec_output(h.runtime, container, failing, timeout_seconds=10)
    assert (result.exit_code, result.stdout, result.stderr) == (4, b"", b"bad\n")

    session = await h.runtime.exec(container, h.argv(("cat",), Program((CopyStdin(),))), stdin=True)
    try:
        await session.write(b"abc\n")
        await session.close_stdin()
        async with asyncio.timeout(10):
            output = b"".join([chunk.data async for chunk in session.output()])
            assert (output, await session.wait()) == (b"abc\n", 0)
    finally:
        await session.close()

    await h.runtime.stop_container(container, 0)
    with pytest.raises(ContainerRuntimeError):
        await h.runtime.exec(container, ("echo", "ok"))


async def test_create_and_start_errors(h: Harness) -> None:
    """Bad specs fail with typed errors: unknown image, duplicate name, command that cannot run."""
    sandbox, spec = await h.sandbox("errors")
    unknown = h.container_spec("ghost", TALKER, TALKER_FAKE, image="localhost/edgekube-no-such-image:latest")
    with pytest.raises(CreateContainerError):
        await h.runtime.create_container(sandbox.id, unknown, spec)

    await h.run(sandbox, spec, h.container_spec("twin", TALKER, TALKER_FAKE), start=False)
    with pytest.raises(AlreadyExistsError):
        await h.run(sandbox, spec, h.container_spec("twin", TALKER, TALKER_FAKE), start=False)

    missing = h.container_spec("broken", ("/no/such/binary",), Program(start_error="executable file not found"))
    broken = await h.run(sandbox, spec, missing, start=False)
    with pytest.raises(StartContainerError):
        await h.runtime.start_container(broken)


async def test_removed_objects(h: Harness) -> None:
    """Removal is idempotent; other operations on removed objects raise NotFoundError."""
    sandbox, spec = await h.sandbox("removed")
    container = await h.run(sandbox, spec, h.container_spec("gone", TALKER, TALKER_FAKE))
    await h.runtime.remove_container(container)
    await h.runtime.remove_container(container)
    for operation in (h.runtime.inspect_container, h.runtime.start_container, h.runtime.wait_container):
        with pytest.raises(NotFoundError):
            await operation(container)
    with pytest.raises(NotFoundError):
        await h.runtime.stop_container(container, 1)
    with pytest.raises(NotFoundError):
        [line async for line in h.runtime.logs(container)]

    await h.runtime.remove_pod_sandbox(sandbox.id)
    with pytest.raises(CreateContainerError):
        await h.runtime.create_container(sandbox.id, h.container_spec("late", TALKER, TALKER_FAKE), spec)
