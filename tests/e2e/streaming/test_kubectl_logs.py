"""`kubectl logs` against real containers through the API server and the agent's streaming server."""

from __future__ import annotations

import asyncio
import re

from tests.e2e.streaming.conftest import Cluster

TALKER = "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; sleep 3600"
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"


async def test_logs_tail_and_timestamps(cluster: Cluster) -> None:
    """Plain, --tail and --timestamps output of a one-container pod, stderr included."""
    await cluster.running_pod("talker", {"main": TALKER})
    out = await cluster.logs_until("talker", contains="three")
    assert out == "one\ntwo\nthree\n"
    assert (await cluster.kubectl("logs", "talker", "--tail", "1")).stdout == "three\n"
    stamped = (await cluster.kubectl("logs", "talker", "--timestamps", "--tail=2")).stdout.splitlines()
    assert len(stamped) == 2
    assert all(re.fullmatch(rf"{STAMP} (one|two|three)", line) for line in stamped), stamped


async def test_logs_of_a_named_container(cluster: Cluster) -> None:
    """-c picks a container of a two-container pod; the raw API refuses to guess."""
    await cluster.running_pod("pair", {"web": "echo from web; sleep 3600", "side": "echo from side; sleep 3600"})
    assert await cluster.logs_until("pair", "-c", "side", contains="from side") == "from side\n"
    assert await cluster.logs_until("pair", "-c", "web", contains="from web") == "from web\n"
    async with cluster.api.get(f"/api/v1/namespaces/{cluster.namespace}/pods/pair/log") as r:
        status = await r.json()
    assert (r.status, status["message"]) == (
        400,
        "a container name must be specified for pod pair, choose one of: [web side]",
    )


async def test_logs_since(cluster: Cluster) -> None:
    """--since leaves out older lines."""
    await cluster.running_pod("slow", {"main": "echo old; sleep 4; echo new; sleep 3600"})
    await cluster.logs_until("slow", contains="new")
    assert (await cluster.kubectl("logs", "slow", "--since=2s")).stdout == "new\n"
    assert (await cluster.kubectl("logs", "slow", "--since=1h")).stdout == "old\nnew\n"


async def test_logs_follow_streams_new_lines(cluster: Cluster) -> None:
    """-f prints lines as the container writes them, until it is stopped."""
    await cluster.running_pod("ticker", {"main": "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.3; done"})
    await cluster.logs_until("ticker", contains="tick 0")
    proc = await asyncio.create_subprocess_exec(
        *cluster.argv("logs", "-f", "ticker", "--tail=1"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cluster.kubectl_env,
    )
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(15):
            seen = [int((await proc.stdout.readline()).split()[1]) for _ in range(5)]
        assert seen == list(range(seen[0], seen[0] + 5)), seen  # consecutive: each arrived as written
        assert proc.returncode is None
    finally:
        proc.terminate()
        await proc.wait()


async def test_logs_previous(cluster: Cluster) -> None:
    """--previous reads the incarnation before the last restart."""
    await cluster.pod("crashy", {"main": "echo second life; sleep 3600"})
    first = await cluster.run("crashy", "main", "echo first life; exit 1")
    assert await cluster.runtime.wait_container(first) == 1
    await cluster.run("crashy", "main", "echo second life; sleep 3600", restart_count=1)
    assert await cluster.logs_until("crashy", contains="second") == "second life\n"
    assert (await cluster.kubectl("logs", "crashy", "--previous")).stdout == "first life\n"


async def test_logs_errors(cluster: Cluster) -> None:
    """kubectl shows the server's reasons: no node assigned, no previous container."""
    await cluster.pod("pending", {"main": "sleep 3600"}, node="")
    result = await cluster.kubectl("logs", "pending", expect=1)
    assert "pod pending does not have a host assigned" in result.stderr
    await cluster.running_pod("fresh", {"main": "sleep 3600"})
    result = await cluster.kubectl("logs", "fresh", "--previous", expect=1)
    assert 'previous terminated container "main" in pod "fresh" not found' in result.stderr
