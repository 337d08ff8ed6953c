"""Scripted processes for the fake runtime: what a fake container or exec "does".

A `Program` is a list of steps run in order by an asyncio task; after the last step the
process exits 0. The steps cover what tests and node simulations need: output, time,
exit codes, memory (an allocation above the container's limit is an OOM kill, so the
fake honours limits instead of being told the outcome), and localhost traffic between
the containers of one sandbox (`Serve` / `Fetch`).

Example, the fake twin of `sh -c 'echo hi; sleep 30'`:

    Program((Write("hi\\n"), Sleep(30)))
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from agent.runtime.interface import ContainerSpec, Stream

SIGTERM_EXIT = 143  # 128 + SIGTERM
SIGKILL_EXIT = 137  # 128 + SIGKILL


@dataclass
class ProgramContext:
    """What a running program sees of its container."""

    spec: ContainerSpec
    env: Mapping[str, str]
    listeners: dict[int, str]
    """The sandbox's localhost: port -> response body of whoever serves it."""
    emit: Callable[[Stream, bytes], None]
    stdin: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    allocated_bytes: int = 0


Text = str | Callable[[ProgramContext], str]


@dataclass(frozen=True)
class Write:
    """Print `text` (or what a function of the context returns)."""

    text: Text
    stream: Stream = "stdout"


@dataclass(frozen=True)
class Sleep:
    seconds: float = math.inf


@dataclass(frozen=True)
class Exit:
    code: int


@dataclass(frozen=True)
class Allocate:
    """Hold `size` bytes more; above the memory limit the kernel would OOM-kill (137)."""

    size: int


@dataclass(frozen=True)
class Serve:
    """Answer `body` on localhost:`port` of the sandbox until killed (like `httpd -f`)."""

    port: int
    body: str


@dataclass(frozen=True)
class Fetch:
    """Print what localhost:`port` serves; exit 1 if nothing listens there."""

    port: int


@dataclass(frozen=True)
class CopyStdin:
    """Copy stdin to stdout until EOF (like `cat`)."""


Step = Write | Sleep | Exit | Allocate | Serve | Fetch | CopyStdin


@dataclass(frozen=True)
class Program:
    steps: tuple[Step, ...] = ()
    ignore_sigterm: bool = False
    """Like a shell as PID 1: only SIGKILL ends it, after the stop timeout."""
    sigterm_exit_code: int = SIGTERM_EXIT
    """The exit code when SIGTERM ends it (0 for a process that traps it and exits cleanly)."""
    start_error: str = ""
    """Not '': the process cannot be started (no such executable); start fails with this."""


RUN_FOREVER = Program((Sleep(),))


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    oom_killed: bool = False


async def run_program(program: Program, ctx: ProgramContext) -> Outcome:
    served: list[int] = []
    try:
        for step in program.steps:
            outcome = await _run_step(step, ctx, served)
            if outcome is not None:
                return outcome
        return Outcome(0)
    finally:
        for port in served:
            ctx.listeners.pop(port, None)


async def _run_step(step: Step, ctx: ProgramContext, served: list[int]) -> Outcome | None:
    match step:
        case Write(text=text, stream=stream):
            ctx.emit(stream, (text(ctx) if callable(text) else text).encode())
        case Sleep(seconds=seconds):
            await (asyncio.Event().wait() if math.isinf(seconds) else asyncio.sleep(seconds))
        case Exit(code=code):
            return Outcome(code)
        case Allocate(size=size):
            limit = ctx.spec.resources.memory_limit_bytes
            if limit is not None and ctx.allocated_bytes + size > limit:
                return Outcome(SIGKILL_EXIT, oom_killed=True)
            ctx.allocated_bytes += size
        case Serve(port=port, body=body):
            ctx.listeners[port] = body
            served.append(port)
            await asyncio.Event().wait()
        case Fetch(port=port):
            if port not in ctx.listeners:
                ctx.emit("stderr", f"fetch: can't connect to 127.0.0.1:{port}: Connection refused\n".encode())
                return Outcome(1)
            ctx.emit("stdout", ctx.listeners[port].encode())
        case CopyStdin():
            while (data := await ctx.stdin.get()) is not None:
                ctx.emit("stdout", data)
    return None
