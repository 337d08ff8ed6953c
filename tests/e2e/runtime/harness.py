"""The contract harness: a runtime under test plus helpers that keep tests short.

A test names each process twice, as a real argv and as the fake's `Program` twin; the
Podman runtime runs the argv, the fake runs the program taught for that argv.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from agent.runtime.fake import FakeRuntime
from agent.runtime.fake_programs import Program
from agent.runtime.interface import ContainerId, ContainerSpec, LogLine, PodSandboxSpec, Runtime, Sandbox


@dataclass
class Harness:
    kind: str
    runtime: Runtime
    image: str
    run_label: dict[str, str]
    connect: Callable[[], Runtime]
    fake: FakeRuntime | None = None
    extra_runtimes: list[Runtime] = field(default_factory=list)

    def reconnect(self) -> Runtime:
        """A second client of the same runtime, as an agent has after it restarts."""
        runtime = self.connect()
        if runtime is not self.runtime:
            self.extra_runtimes.append(runtime)
        return runtime

    @property
    def real(self) -> bool:
        return self.fake is None

    def argv(self, argv: Sequence[str], fake: Program) -> tuple[str, ...]:
        """`argv` for the real runtime; teaches the fake to run `fake` for it."""
        if self.fake is not None:
            self.fake.teach(argv, fake)
        return tuple(argv)

    def sandbox_spec(self, name: str, **overrides: Any) -> PodSandboxSpec:
        spec = PodSandboxSpec(uid=str(uuid.uuid4()), namespace="contract", name=name, labels=self.run_label)
        return replace(spec, **overrides)

    async def sandbox(self, name: str, **overrides: Any) -> tuple[Sandbox, PodSandboxSpec]:
        spec = self.sandbox_spec(name, **overrides)
        return await self.runtime.create_pod_sandbox(spec), spec

    def container_spec(self, name: str, argv: Sequence[str], fake: Program, **overrides: Any) -> ContainerSpec:
        """A spec running `argv` (plus any `args` override); the fake runs `fake` for it."""
        spec = ContainerSpec(name=name, image=self.image, command=tuple(argv), labels=self.run_label)
        spec = replace(spec, **overrides)
        self.argv(spec.argv(), fake)
        return spec

    async def run(
        self, sandbox: Sandbox, sandbox_spec: PodSandboxSpec, spec: ContainerSpec, *, start: bool = True
    ) -> ContainerId:
        container = await self.runtime.create_container(sandbox.id, spec, sandbox_spec)
        if start:
            await self.runtime.start_container(container)
        return container

    async def logs_until(
        self, container: ContainerId, done: Callable[[list[LogLine]], bool], *, seconds: float = 10.0
    ) -> list[LogLine]:
        """Poll the logs until `done` holds (a container writes asynchronously)."""
        lines: list[LogLine] = []
        async with asyncio.timeout(seconds):
            while True:
                lines = [line async for line in self.runtime.logs(container)]
                if done(lines):
                    return lines
                await asyncio.sleep(0.05)

    async def cleanup(self) -> None:
        for sandbox in await self.runtime.list_pod_sandboxes(self.run_label):
            await self.runtime.remove_pod_sandbox(sandbox.id)
        left = await self.runtime.list_pod_sandboxes(self.run_label), await self.runtime.list_containers(self.run_label)
        for runtime in self.extra_runtimes:
            await runtime.close()
        await self.runtime.close()
        assert left == ([], []), f"cleanup left {left}"
