"""The real kubectl binary, pointed at the shared server.

`kubectl` runs one command and returns its output, failing the test with stdout and
stderr when the exit code is not the expected one. `kubectl.stream(...)` starts a
long-running command (`get -w`) whose stdout lines the test reads with a deadline;
the process is stopped when the `with` block ends. Discovery is cached in one
directory per session, as a user's ~/.kube/cache would be, so only the first
command pays for it.

kubectl is found on PATH. Where it is missing the test fails (it does not skip):
these are the acceptance tests, and a green run without them would be a lie.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from tests.support.servers import ServerProcess

COMMAND_TIMEOUT = 30.0  # seconds; a hung kubectl fails its test instead of the session
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass(frozen=True)
class Result:
    """What one kubectl command printed and how it exited."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return (
            f"kubectl {' '.join(self.args)}\nexit code {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


class Stream:
    """The stdout of a running kubectl, line by line, read by a thread of its own."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="kubectl-stream", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def next_line(self, timeout: float = 10.0) -> str:
        """The next line, failing the test if none comes within `timeout` seconds."""
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no output from kubectl within {timeout}s; so far:\n" + "\n".join(self.lines))
        if line is None:
            pytest.fail("kubectl exited early; it printed:\n" + "\n".join(self.lines) + "\n" + self.stderr())
        self.lines.append(line)
        return line

    def wait_for(self, *words: str, timeout: float = 10.0) -> str:
        """Skip lines until one holding every word in `words` (split on whitespace) arrives."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no line with {words} within {timeout}s; got:\n" + "\n".join(self.lines))
            line = self.next_line(remaining)
            if all(word in line.split() for word in words):
                return line

    def stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return ""
        return self.proc.stderr.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


@dataclass(frozen=True)
class Kubectl:
    """kubectl with the server's admin kubeconfig and a session-wide discovery cache."""

    binary: str | None
    kubeconfig: Path
    cache_dir: Path
    namespace: str | None = None
    env: dict[str, str] = field(default_factory=dict, repr=False)

    def in_namespace(self, namespace: str) -> Kubectl:
        return replace(self, namespace=namespace)

    def argv(self, args: tuple[str, ...]) -> list[str]:
        if self.binary is None:
            pytest.fail(
                "kubectl is not installed or not on PATH; these acceptance tests need the real "
                "binary: install it (Debian: `apt-get install kubernetes-client`, or a v1.32 "
                "release binary) and run again"
            )
        argv = [self.binary, "--kubeconfig", str(self.kubeconfig), "--cache-dir", str(self.cache_dir)]
        if self.namespace is not None:
            argv += ["--namespace", self.namespace]
        return [*argv, *args]

    def __call__(
        self, *args: str, expect_fail: bool = False, stdin: str | None = None,
        timeout: float = COMMAND_TIMEOUT,
    ) -> Result:
        """Run one command; fail the test unless it exits 0 (or non-zero when `expect_fail`)."""
        try:
            done = subprocess.run(
                self.argv(args), input=stdin, capture_output=True, text=True,
                timeout=timeout, env=self.env, check=False,
            )
        except subprocess.TimeoutExpired as err:
            pytest.fail(f"kubectl {' '.join(args)} did not finish in {timeout}s; stdout:\n{err.stdout!r}")
        result = Result(tuple(args), done.returncode, done.stdout, done.stderr)
        if expect_fail and result.returncode == 0:
            pytest.fail("expected kubectl to fail, but it succeeded:\n" + result.describe())
        if not expect_fail and result.returncode != 0:
            pytest.fail("kubectl failed:\n" + result.describe())
        return result

    def out(self, *args: str) -> str:
        """The stdout of a command that must succeed."""
        return self(*args).stdout

    @contextmanager
    def stream(self, *args: str) -> Iterator[Stream]:
        """A long-running command (such as `get -w`), stopped when the block ends."""
        proc = subprocess.Popen(
            self.argv(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env,
        )
        stream = Stream(proc)
        try:
            yield stream
        finally:
            stream.stop()


@pytest.fixture(scope="session")
def kubectl_session(
    shared_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory,
) -> Kubectl:
    """kubectl for the shared server, with no namespace of its own."""
    # Keep the user's own KUBECONFIG and kubectl settings out of the way of the tests.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "KUBECTL_"))}
    env["HOME"] = str(tmp_path_factory.mktemp("kubectl-home"))
    return Kubectl(
        binary=shutil.which("kubectl"),
        kubeconfig=shared_server.kubeconfig,
        cache_dir=tmp_path_factory.mktemp("kubectl-cache"),
        env=env,
    )


@pytest.fixture
def kubectl(kubectl_session: Kubectl, namespace: str) -> Kubectl:
    """kubectl working in the test's own fresh namespace (`--namespace` on every command)."""
    return kubectl_session.in_namespace(namespace)


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A private copy of examples/ that the test may edit."""
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES, copy)
    return copy


# Setup that runs kubectl is a helper the test calls, not a fixture: where kubectl is
# missing, the test then fails rather than erroring in setup.
def apply_examples(kubectl: Kubectl, *files: str) -> None:
    """Apply examples/ (or the named files in it) into the kubectl's namespace."""
    for path in [EXAMPLES / name for name in files] or [EXAMPLES]:
        kubectl("apply", "-f", str(path))
