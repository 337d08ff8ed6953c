"""The agent assembled: every long-lived loop is started, named and stopped here.

    node reporting   register the Node, then keep its status current (`node.reporting`)
    heartbeating     renew the Lease every 10 s (`node.heartbeating`)
    images           airgap archives in, unused images out (`agent.images`, when installed)
    pod dispatching  desired pods -> one worker per pod (`pods.dispatching`)
    status posting   pod statuses to the server, kept on disk while it is away (`pods.posting`)
    streaming        the logs/exec server on port 10250 (`agent.streaming`, when installed)
    pod network      bridge, veths, addresses, hostPorts (`agent.network.running`, unless the
                     backend is none), which starts "routes", "service proxy", "cluster dns" and
                     "network policy" as agent tasks of their own once the node's pod CIDR is known

`run_agent(settings)` runs them until cancelled; the server's embedded agent and the
`edgekube agent` command both call it. Stopping the agent stops none of the pods: a
restarted agent adopts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import platform
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from agent.cache import LocalCache
from agent.connectivity import Connectivity
from agent.node.heartbeating import heartbeating
from agent.node.hostfacts import architecture, node_ip_guess
from agent.node.reporting import node_reporting
from agent.node.states import NodeState
from agent.plugins import Streaming, load_images, load_probing, load_volumes, start_streaming
from agent.pods.contexts import ApiReferences, PodContext
from agent.pods.dispatching import PodDispatcher
from agent.pods.labels import LABEL_NODE
from agent.pods.posting import StatusPoster
from agent.runtime.interface import Runtime
from agent.runtimes import open_runtime
from agent.settings import AgentSettings
from agent.watches import SharedWatches
from edgekube.client import ApiClient, Config
from edgekube.nodeinfo import node_labels

log = structlog.get_logger(__name__)


class AgentError(Exception):
    """The agent cannot start; the message says what to change."""


def client_config(settings: AgentSettings) -> Config:
    conn = settings.connection
    if conn.server:
        if not conn.token:
            raise AgentError("--server needs --token (or use --kubeconfig)")
        return Config.from_files(conn.server, token=conn.token, ca_file=conn.ca_file or None)
    if conn.kubeconfig:
        return Config.from_kubeconfig(conn.kubeconfig)
    raise AgentError("say where the server is: --server URL --token TOKEN [--ca-file CA], or --kubeconfig FILE")


def node_name(settings: AgentSettings) -> str:
    return (settings.node.name or socket.gethostname()).strip().lower()


class Agent:
    """One running agent: `await agent.start()`, later `await agent.stop()`."""

    def __init__(self, settings: AgentSettings, *, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self.name = node_name(settings)
        self.ip = settings.node.ip or node_ip_guess()
        self.connectivity = Connectivity()
        self.cache = LocalCache(settings.agent_dir)
        self.node = NodeState(
            self.name, self.ip, node_labels(self.name, architecture(platform.machine()), settings.node.labels)
        )
        self._given_runtime = runtime
        self.runtime: Runtime | None = runtime
        self._close_runtime: Callable[[], Awaitable[None]] | None = None
        self.client: ApiClient | None = None
        self.dispatcher: PodDispatcher | None = None
        self.poster: StatusPoster | None = None
        self.context: PodContext | None = None
        self._streaming: Streaming | None = None
        self.networking: Any = None
        """The `agent.network.attaching.PodNetworking` (None with backend none)."""
        self.watches: SharedWatches | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        settings = self.settings
        config = client_config(settings)
        await asyncio.to_thread(settings.agent_dir.mkdir, parents=True, exist_ok=True, mode=0o700)
        if self.runtime is None:
            self.runtime, self._close_runtime = await open_runtime(settings)
        runtime = self.runtime
        self.client = client = ApiClient(
            config, timeout=settings.connection.request_timeout, user_agent=f"edgekube-agent/{self.name}"
        )
        self.poster = StatusPoster(
            client=client,
            cache=self.cache,
            connectivity=self.connectivity,
            server_view=lambda namespace, name: self._server_view(namespace, name),
            retry_max=settings.pods.status_retry_max,
        )
        self.context = ctx = PodContext(
            runtime=runtime,
            client=client,
            node_name=self.name,
            node_ip=self.ip,
            settings=settings.pods,
            poster=self.poster,
            cache=self.cache,
            volumes=load_volumes(client, settings.agent_dir, self.name),
            references=ApiReferences(client),
            probing=load_probing(runtime),
            extra_labels=dict(settings.runtime.extra_labels),
        )
        self.dispatcher = PodDispatcher(
            ctx,
            client,
            initial_sync_wait=settings.pods.offline_start_wait,
            collect_interval=max(settings.pods.resync_interval, 30.0),
        )
        if settings.network.backend != "none":
            # Imported here: with backend none the agent loads no netlink code at all.
            from agent.network.attaching import PodNetworking

            self.networking = PodNetworking(settings.network, settings.agent_dir)
            ctx.network = self.networking
        self.connectivity.on_return(self.dispatcher.server_returned)
        self.connectivity.on_return(self.poster.nudge)
        self.connectivity.on_return(self.node.report_again)
        await self.cache.open()
        await self.poster.load()
        if settings.streaming.enabled:
            await self._start_streaming(config.token)
        spawn = self._spawn
        spawn("node reporting", node_reporting(
            client=client, runtime=runtime, state=self.node, settings=settings, connectivity=self.connectivity
        ))  # fmt: skip
        spawn("heartbeating", heartbeating(
            client=client, state=self.node, settings=settings.heartbeat, connectivity=self.connectivity
        ))  # fmt: skip
        spawn("pod dispatching", self.dispatcher.run())
        spawn("status posting", self.poster.run())
        images = load_images(runtime, settings.agent_dir / "images") if settings.runtime.manage_images else None
        if images is not None:
            spawn("images", images)
        if self.networking is not None:
            self._start_network(client)
        log.info("agent started", node=self.name, ip=self.ip, server=config.server, data_dir=str(settings.data_dir))

    async def _start_streaming(self, token: str) -> None:
        assert self.runtime is not None and self.context is not None
        streaming = self.settings.streaming
        try:
            self._streaming = await start_streaming(
                self.runtime,
                self.context.directory,
                token=token,
                cert_dir=self.settings.agent_dir / "streaming",
                address=streaming.address,
                port=streaming.port,
                names=(self.name, self.ip),
            )
        except OSError as err:
            log.error("cannot serve logs and exec; carrying on without", error=str(err), port=streaming.port)
            return
        if self._streaming is not None:
            self.node.kubelet_port = self._streaming.port
            self.node.annotations.update(self._streaming.annotations)

    def _start_network(self, client: ApiClient) -> None:
        from agent.network.running import run_pod_network

        self.watches = SharedWatches(client)
        self._spawn("pod network", run_pod_network(
            settings=self.settings.network,
            client=client,
            watches=self.watches,
            networking=self.networking,
            node_name=self.name,
            node_ip=self.ip,
            in_use=self._pods_in_use,
            desired_pods=self.cache.load_pods,
            spawn=self._spawn,
        ))  # fmt: skip

    async def _pods_in_use(self) -> set[str]:
        """Uids that may hold a pod address: sandboxes of this node, desired pods, live workers."""
        assert self.runtime is not None
        sandboxes = await self.runtime.list_pod_sandboxes({LABEL_NODE: self.name})
        uids = {s.pod_uid for s in sandboxes if s.pod_uid}
        dispatcher = self.dispatcher
        if dispatcher is None or not dispatcher.ready.is_set():
            uids |= set(await self.cache.load_pods())  # the dispatcher has not read its local copy yet
        if dispatcher is not None:
            uids |= set(dispatcher.desired()[0]) | set(dispatcher.workers)
        return uids

    def _spawn(self, name: str, coroutine: Any) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(coroutine, name=name))

    def _server_view(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.dispatcher.server_view(namespace, name) if self.dispatcher is not None else None

    async def wait(self) -> None:
        """Until a loop ends (it should not: that is a bug, raised here) or the agent is cancelled."""
        done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.cancelled():  # by nobody here: a loop swallowed someone else's cancellation
                raise RuntimeError(f"agent loop {task.get_name()!r} was cancelled from within")
            task.result()
        raise RuntimeError(f"agent loop ended: {[t.get_name() for t in done]}")

    async def stop(self) -> None:
        """Stop the loops and release connections; the pods keep running."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.watches is not None:
            with contextlib.suppress(Exception):
                await self.watches.stop()
            self.watches = None
        if self._streaming is not None:
            with contextlib.suppress(Exception):
                await self._streaming.stop()
            self._streaming = None
        if self.client is not None:
            await self.client.close()
        if self._close_runtime is not None:
            await self._close_runtime()
            self.runtime = self._given_runtime
        log.info("agent stopped", node=self.name)


async def run_agent(settings: AgentSettings, *, runtime: Runtime | None = None) -> None:
    """Run the agent until cancelled."""
    agent = Agent(settings, runtime=runtime)
    try:
        await agent.start()
        await agent.wait()
    finally:
        await asyncio.shield(agent.stop())
