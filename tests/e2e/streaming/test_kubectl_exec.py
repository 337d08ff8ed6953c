"""`kubectl exec` against real containers: output, exit codes, piped stdin and a terminal."""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import struct
import termios

from tests.e2e.streaming.conftest import Cluster
from tests.support.servers import free_port

IDLE = "sleep 3600"


async def test_exec_prints_output(cluster: Cluster) -> None:
    """`kubectl exec pod -- echo ok` prints ok; stderr stays on stderr."""
    await cluster.running_pod("box", {"main": IDLE})
    assert (await cluster.kubectl("exec", "box", "--", "echo", "ok")).stdout == "ok\n"
    result = await cluster.kubectl("exec", "box", "--", "sh", "-c", "echo out; echo err >&2")
    assert (result.stdout, result.stderr) == ("out\n", "err\n")


async def test_exec_exit_code_propagates(cluster: Cluster) -> None:
    """kubectl exits with the command's exit code."""
    await cluster.running_pod("box", {"main": IDLE})
    result = await cluster.kubectl("exec", "box", "--", "sh", "-c", "exit 3", expect=3)
    assert "command terminated with exit code 3" in result.stderr


async def test_exec_with_piped_stdin(cluster: Cluster) -> None:
    """`echo hi | kubectl exec -i pod -- cat` prints hi: stdin arrives, and its end too."""
    await cluster.running_pod("box", {"main": IDLE})
    assert (await cluster.kubectl("exec", "-i", "box", "--", "cat", stdin=b"hi\n")).stdout == "hi\n"
    big = b"".join(b"line %d\n" % i for i in range(20000))  # many frames' worth
    echoed = await cluster.kubectl("exec", "-i", "box", "--", "cat", stdin=big)
    assert echoed.stdout.encode() == big


async def test_exec_in_a_named_container(cluster: Cluster) -> None:
    """-c picks the container of a two-container pod."""
    await cluster.running_pod("pair", {"web": IDLE, "side": IDLE})
    result = await cluster.kubectl("exec", "pair", "-c", "side", "--", "hostname")
    assert result.stdout.strip()
    assert (await cluster.kubectl("exec", "pair", "-c", "web", "--", "echo", "web")).stdout == "web\n"


async def test_exec_interactive_terminal(cluster: Cluster) -> None:
    """`kubectl exec -it pod -- sh` on a pseudo-terminal runs what is typed and exits with the shell."""
    await cluster.running_pod("box", {"main": IDLE})
    main, child = os.openpty()
    fcntl.ioctl(main, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = await asyncio.create_subprocess_exec(
        *cluster.argv("exec", "-it", "box", "--", "sh"),
        stdin=child,
        stdout=child,
        stderr=child,
        env={**cluster.kubectl_env, "TERM": "dumb"},
        start_new_session=True,
    )
    os.close(child)
    reader = asyncio.create_task(asyncio.to_thread(_read_until_closed, main))
    try:
        os.write(main, b"echo $((6*7))\n")
        os.write(main, b"exit\n")
        async with asyncio.timeout(30):
            code = await proc.wait()
            output = await reader
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        os.close(main)
    text = output.decode(errors="replace")
    assert code == 0, text
    assert re.search(r"(^|\n)42\r?\n", text), text


def _read_until_closed(fd: int) -> bytes:
    """Everything the terminal shows until its other side is closed (EIO on Linux)."""
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


async def test_exec_errors(cluster: Cluster) -> None:
    """kubectl shows why an exec cannot run: no such container, or an agent that does not answer."""
    await cluster.running_pod("box", {"main": IDLE})
    result = await cluster.kubectl("exec", "box", "-c", "nope", "--", "true", expect=1)
    assert "container nope is not valid for pod box" in result.stderr
    node = {
        "metadata": {"name": f"{cluster.node}-down", "annotations": {"edgekube.io/streaming-cert-sha256": "00" * 32}},
        "status": {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": free_port()}},
        },
    }
    await cluster.post("/api/v1/nodes", node)
    try:
        await cluster.pod("orphan", {"main": IDLE}, node=f"{cluster.node}-down")
        result = await cluster.kubectl("exec", "orphan", "--", "true", expect=1)
        assert f"cannot reach the agent of node {cluster.node}-down" in result.stderr
    finally:
        async with cluster.api.delete(f"/api/v1/nodes/{cluster.node}-down"):
            pass
