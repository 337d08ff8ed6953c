"""An in-memory runtime with the Podman runtime's behaviour, for unit tests and simulated nodes.

Containers "run" as asyncio tasks executing a scripted `Program` (see `fake_programs`),
chosen by the container's argv (command + args) from a table the test or simulator
fills with `teach`; an unknown argv runs forever, like a server. State lives in this
object: a "restarted agent" that keeps the same FakeRuntime finds its sandboxes and
containers again by label, as it would with Podman.

It honours the same contract as Podman (tests/e2e/runtime runs one suite on both):
labels and adoption, typed errors, idempotent removal, stop = SIGTERM then SIGKILL
after the timeout, OOM kill above the memory limit, logs and exec streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import tarfile
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

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
    RUN_FOREVER,
    SIGKILL_EXIT,
    Outcome,
    Program,
    ProgramContext,
    run_program,
)
from agent.runtime.interface import (
    LABEL_MANAGED,
    ContainerId,
    ContainerSpec,
    ContainerState,
    ContainerStats,
    ContainerStatus,
    ContainerSummary,
    ExecChunk,
    ImageId,
    ImageInfo,
    LogLine,
    PodSandboxSpec,
    PullPolicy,
    RuntimeVersion,
    Sandbox,
    SandboxId,
    Stream,
)

_NOT_FOUND_EXIT = 127


def _now() -> datetime:
    return datetime.now(UTC)


def _image(ref: str) -> ImageInfo:
    digest = hashlib.sha256(ref.encode()).hexdigest()
    return ImageInfo(ImageId(digest), (ref,), digest=f"sha256:{digest}", size_bytes=1 << 20)


@dataclass
class _FakeSandbox:
    id: SandboxId
    spec: PodSandboxSpec
    labels: dict[str, str]
    created_at: datetime
    listeners: dict[int, str] = field(default_factory=dict)


@dataclass
class _FakeContainer:
    id: ContainerId
    name: str
    sandbox: _FakeSandbox
    spec: ContainerSpec
    labels: dict[str, str]
    image: ImageInfo
    state: ContainerState = ContainerState.CREATED
    exit_code: int | None = None
    oom_killed: bool = False
    started_at: datetime | None = None
    finished_at: datetime | None = None
    logs: list[LogLine] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    context: ProgramContext | None = None

    def emit(self, stream: Stream, data: bytes) -> None:
        text = data.decode(errors="replace")
        stamp = _now()
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.logs.extend(LogLine(stream, line, stamp) for line in lines)
        self.notify()

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


class FakeRuntime:
    def __init__(
        self,
        *,
        images: Iterable[str] = (),
        registry: Iterable[str] = (),
        programs: Mapping[Sequence[str], Program] | None = None,
        offline_fallback: bool = True,
    ) -> None:
        self.images: dict[str, ImageInfo] = {ref: _image(ref) for ref in images}
        """Images present on the node, by reference."""
        self.registry: set[str] = set(registry)
        """References a pull succeeds for; every other pull fails as if offline."""
        self.offline_fallback = offline_fallback
        self._programs: dict[tuple[str, ...], Program] = {tuple(k): v for k, v in (programs or {}).items()}
        self._sandboxes: dict[SandboxId, _FakeSandbox] = {}
        self._containers: dict[ContainerId, _FakeContainer] = {}
        self._ids = itertools.count(1)

    def teach(self, argv: Sequence[str], program: Program) -> None:
        """Containers and execs whose argv is `argv` run `program`."""
        self._programs[tuple(argv)] = program

    def _new_id(self, kind: str) -> str:
        return hashlib.sha256(f"{kind}-{id(self)}-{next(self._ids)}".encode()).hexdigest()

    async def version(self) -> RuntimeVersion:
        return RuntimeVersion("fake", "1.0", "1.0", "")

    async def close(self) -> None:
        return None

    # --- images -------------------------------------------------------------------------

    async def ensure_image(self, ref: str, pull_policy: PullPolicy) -> ImageInfo:
        local = self.images.get(ref)
        if pull_policy is PullPolicy.NEVER:
            if local is None:
                raise ImageNeverPullError(f"image {ref!r} is not present and the pull policy is Never")
            return local
        if pull_policy is PullPolicy.IF_NOT_PRESENT and local is not None:
            return local
        if ref in self.registry:
            self.images[ref] = local or _image(ref)
            return self.images[ref]
        if local is not None and self.offline_fallback:
            return local
        raise ImagePullError(f"pull {ref}: no registry serves it (fake)")

    async def import_image_archive(self, path: Path) -> list[str]:
        names = await asyncio.to_thread(_archive_names, path)
        for name in names:
            self.images[name] = _image(name)
        return names

    async def list_images(self) -> list[ImageInfo]:
        return list(self.images.values())

    async def remove_image(self, ref: str) -> None:
        self.images.pop(ref, None)

    # --- sandboxes ----------------------------------------------------------------------

    async def create_pod_sandbox(self, spec: PodSandboxSpec) -> Sandbox:
        name = spec.runtime_name()
        if any(s.spec.runtime_name() == name for s in self._sandboxes.values()):
            raise AlreadyExistsError(f"create sandbox {name}: the name is already in use")
        sandbox = _FakeSandbox(SandboxId(self._new_id("pod")), spec, {**spec.labels, **spec.adoption_labels()}, _now())
        self._sandboxes[sandbox.id] = sandbox
        return self._sandbox_view(sandbox)

    def _sandbox_view(self, sandbox: _FakeSandbox) -> Sandbox:
        name = sandbox.spec.runtime_name()
        return Sandbox(sandbox.id, name, dict(sandbox.labels), ready=True, created_at=sandbox.created_at)

    def _sandbox(self, sandbox: SandboxId) -> _FakeSandbox:
        try:
            return self._sandboxes[sandbox]
        except KeyError:
            raise NotFoundError(f"no sandbox {sandbox}") from None

    async def inspect_pod_sandbox(self, sandbox: SandboxId) -> Sandbox:
        return self._sandbox_view(self._sandbox(sandbox))

    async def remove_pod_sandbox(self, sandbox: SandboxId) -> None:
        if sandbox not in self._sandboxes:
            return
        for container in [c for c in self._containers.values() if c.sandbox.id == sandbox]:
            await self.remove_container(container.id)
        del self._sandboxes[sandbox]

    async def list_pod_sandboxes(self, labels: Mapping[str, str] | None = None) -> list[Sandbox]:
        return [self._sandbox_view(s) for s in self._sandboxes.values() if _matches(s.labels, labels)]

    # --- containers -------------------------------------------------------------------------

    async def create_container(
        self, sandbox: SandboxId, spec: ContainerSpec, sandbox_spec: PodSandboxSpec
    ) -> ContainerId:
        name = spec.runtime_name(sandbox_spec)
        if sandbox not in self._sandboxes:
            raise CreateContainerError(f"create container {name}: no sandbox {sandbox}")
        image = self.images.get(spec.image)
        if image is None:
            raise CreateContainerError(f"create container {name}: image {spec.image!r} not known")
        if any(c.name == name for c in self._containers.values()):
            raise AlreadyExistsError(f"create container {name}: the name is already in use")
        container = _FakeContainer(
            ContainerId(self._new_id("ctr")),
            name,
            self._sandboxes[sandbox],
            spec,
            spec.labels_for(sandbox_spec),
            image,
        )
        self._containers[container.id] = container
        return container.id

    def _container(self, container: ContainerId) -> _FakeContainer:
        try:
            return self._containers[container]
        except KeyError:
            raise NotFoundError(f"no container {container}") from None

    def _program(self, argv: Sequence[str], default: Program) -> Program:
        return self._programs.get(tuple(argv), default)

    async def start_container(self, container: ContainerId) -> None:
        c = self._container(container)
        if c.state is ContainerState.RUNNING:
            return
        program = self._program(c.spec.argv(), RUN_FOREVER)
        if program.start_error:
            c.state, c.exit_code = ContainerState.EXITED, _NOT_FOUND_EXIT
            raise StartContainerError(f"start {container}: {program.start_error}")
        ctx = ProgramContext(c.spec, dict(c.spec.env), c.sandbox.listeners, c.emit)
        c.context = ctx
        c.state, c.exit_code, c.oom_killed = ContainerState.RUNNING, None, False
        c.started_at, c.finished_at = _now(), None
        c.task = asyncio.create_task(self._run(c, program, ctx), name=f"fake-container-{c.name}")
        c.notify()

    async def _run(self, c: _FakeContainer, program: Program, ctx: ProgramContext) -> None:
        outcome = await run_program(program, ctx)
        self._finish(c, outcome)

    def _finish(self, c: _FakeContainer, outcome: Outcome) -> None:
        if c.state is not ContainerState.RUNNING:
            return
        c.state, c.exit_code, c.oom_killed = ContainerState.EXITED, outcome.exit_code, outcome.oom_killed
        c.finished_at = _now()
        c.notify()

    async def _kill(self, c: _FakeContainer, exit_code: int) -> None:
        task = c.task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._finish(c, Outcome(exit_code))

    async def stop_container(self, container: ContainerId, grace_period: float) -> None:
        c = self._container(container)
        if c.state is not ContainerState.RUNNING:
            return
        program = self._program(c.spec.argv(), RUN_FOREVER)
        if not program.ignore_sigterm:
            await self._kill(c, program.sigterm_exit_code)
            return
        assert c.task is not None
        try:
            await asyncio.wait_for(asyncio.shield(c.task), max(grace_period, 0))
        except TimeoutError:
            await self._kill(c, SIGKILL_EXIT)

    async def remove_container(self, container: ContainerId) -> None:
        c = self._containers.get(container)
        if c is None:
            return
        await self._kill(c, SIGKILL_EXIT)
        del self._containers[container]

    async def inspect_container(self, container: ContainerId) -> ContainerStatus:
        c = self._container(container)
        return ContainerStatus(
            id=c.id,
            name=c.name,
            sandbox_id=c.sandbox.id,
            state=c.state,
            image=c.spec.image,
            image_id=c.image.id,
            labels=dict(c.labels),
            exit_code=c.exit_code,
            started_at=c.started_at,
            finished_at=c.finished_at,
            oom_killed=c.oom_killed,
        )

    async def wait_container(self, container: ContainerId) -> int:
        c = self._container(container)
        while c.state is not ContainerState.EXITED:
            await c.changed.wait()
        assert c.exit_code is not None
        return c.exit_code

    async def list_containers(
        self, labels: Mapping[str, str] | None = None, sandbox: SandboxId | None = None
    ) -> list[ContainerSummary]:
        return [
            ContainerSummary(c.id, c.name, c.sandbox.id, c.state, c.spec.image, dict(c.labels))
            for c in self._containers.values()
            if _matches(c.labels, labels) and (sandbox is None or c.sandbox.id == sandbox)
        ]

    async def stats(self, container: ContainerId) -> ContainerStats:
        c = self._container(container)
        if c.state is not ContainerState.RUNNING or c.context is None:
            raise ContainerRuntimeError(f"stats {container}: the container is not running")
        return ContainerStats(memory_bytes=max(c.context.allocated_bytes, 1 << 20), cpu_nanos=0, pids=1)

    async def logs(
        self,
        container: ContainerId,
        *,
        follow: bool = False,
        tail: int | None = None,
        since: datetime | None = None,
        timestamps: bool = False,
    ) -> AsyncIterator[LogLine]:
        c = self._container(container)
        lines = [line for line in c.logs if since is None or line.timestamp is None or line.timestamp >= since]
        position = len(c.logs)
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        for line in lines:
            yield _stamped(line, timestamps)
        while follow:
            while position < len(c.logs):
                yield _stamped(c.logs[position], timestamps)
                position += 1
            if c.state is not ContainerState.RUNNING:
                return
            await c.changed.wait()

    async def exec(
        self, container: ContainerId, cmd: Sequence[str], *, stdin: bool = False, tty: bool = False
    ) -> FakeExecSession:
        c = self._container(container)
        if c.state is not ContainerState.RUNNING:
            raise ContainerRuntimeError(f"exec in {container}: can only exec in running containers")
        unknown = Program()
        program = self._program(cmd, unknown)
        session = FakeExecSession(tty=tty)
        ctx = ProgramContext(c.spec, dict(c.spec.env), c.sandbox.listeners, session.emit)
        session.context = ctx
        if program is unknown:
            session.emit("stderr", f"exec: {cmd[0] if cmd else ''}: not found (fake)\n".encode())
            session.task = asyncio.create_task(_exit_with(_NOT_FOUND_EXIT))
        else:
            session.task = asyncio.create_task(run_program(program, ctx))
        session.task.add_done_callback(lambda _: session.emit_end())
        return session


async def _exit_with(code: int) -> Outcome:
    return Outcome(code)


class FakeExecSession:
    def __init__(self, *, tty: bool) -> None:
        self._tty = tty
        self._output: asyncio.Queue[ExecChunk | None] = asyncio.Queue()
        self.context: ProgramContext | None = None
        self.task: asyncio.Task[Outcome] | None = None

    def emit(self, stream: Stream, data: bytes) -> None:
        # a terminal merges stderr into its one output stream
        self._output.put_nowait(ExecChunk("stdout" if self._tty else stream, data))

    def emit_end(self) -> None:
        self._output.put_nowait(None)

    async def output(self) -> AsyncIterator[ExecChunk]:
        while (chunk := await self._output.get()) is not None:
            yield chunk

    async def write(self, data: bytes) -> None:
        assert self.context is not None
        self.context.stdin.put_nowait(data)

    async def close_stdin(self) -> None:
        assert self.context is not None
        self.context.stdin.put_nowait(None)

    async def resize(self, width: int, height: int) -> None:
        return None

    async def wait(self) -> int:
        assert self.task is not None
        return (await asyncio.shield(self.task)).exit_code

    async def close(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()


def _stamped(line: LogLine, timestamps: bool) -> LogLine:
    return line if timestamps else LogLine(line.stream, line.text)


def _matches(labels: Mapping[str, str], wanted: Mapping[str, str] | None) -> bool:
    if labels.get(LABEL_MANAGED) != "true":
        return False
    return all(labels.get(k) == v for k, v in (wanted or {}).items())


def _archive_names(path: Path) -> list[str]:
    """The image names in a docker-archive (manifest.json) or OCI archive (index.json)."""
    try:
        with tarfile.open(path) as archive:
            members = {m.name.removeprefix("./"): m for m in archive.getmembers()}
            if "manifest.json" in members:
                manifest = json.load(_extract(archive, members["manifest.json"]))
                return [str(tag) for entry in manifest for tag in entry.get("RepoTags") or []]
            if "index.json" in members:
                index = json.load(_extract(archive, members["index.json"]))
                annotations = [m.get("annotations") or {} for m in index.get("manifests") or []]
                return [str(a["io.containerd.image.name"]) for a in annotations if "io.containerd.image.name" in a]
    except (OSError, tarfile.TarError, ValueError) as err:
        raise ImageImportError(f"load {path}: {err}") from err
    raise ImageImportError(f"load {path}: neither a docker nor an OCI archive")


def _extract(archive: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    handle = archive.extractfile(member)
    if handle is None:
        raise ImageImportError(f"{member.name} is not a file")
    return handle
