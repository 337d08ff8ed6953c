"""`pods/log` and `pods/exec`: proxied to the streaming server of the pod's node agent.

What flows through: kubectl's request -> the pod (which node, which container) -> the
node's agent endpoint (address, port, pinned certificate; see `streams_targets`) -> one
HTTPS request (logs: a chunked text body copied through as it comes) or one WebSocket
(exec: spliced frame by frame, see `streams_splicing`) to the agent, authenticated with
the cluster's join token. Node credentials (a client certificate per API server, or a
token per node) replace that token later.

Invariants:
- Refusals the API server can make alone (no such pod, no node assigned, which
  container) are HTTP Status errors, identical for WebSocket and SPDY requests: kubectl
  retries a failed WebSocket upgrade with SPDY and shows the second answer.
- Once exec has reached the agent, a failure there (refused, unreachable) is reported on
  the error channel after the upgrade, so kubectl prints it rather than retrying with
  SPDY, which EdgeKube does not serve.
- A log follower whose client left is noticed within `check_interval`, and its
  connection to the agent is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

import aiohttp
import structlog
from aiohttp import web

from edgekube.api import streams_splicing, streams_targets
from edgekube.api.streams_targets import AgentEndpoint, ServiceUnavailable
from edgekube.errors import ApiError, BadRequest, InternalError, MethodNotAllowed
from edgekube.resources.registry import Registry
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)
T = TypeVar("T")

POD_STREAMS = frozenset({"log", "exec"})
"""Pod subresources this module serves."""
STATUS_HEADER = "X-EdgeKube-Status"
"""Where the agent repeats the Status of a refused WebSocket upgrade (the body is lost)."""
WS_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
SPDY_REFUSED = (
    "pods/exec is served over WebSocket only (subprotocol v5.channel.k8s.io, kubectl 1.30 or newer); "
    "SPDY is not supported"
)


class StreamProxy:
    def __init__(
        self,
        service: ResourceService,
        registry: Registry,
        *,
        token: str,
        connect_timeout: float = 10.0,
        check_interval: float = 2.0,
        heartbeat: float = 30.0,
    ) -> None:
        pods, nodes = registry.by_kind("", "v1", "Pod"), registry.by_kind("", "v1", "Node")
        assert pods is not None and nodes is not None
        self.service = service
        self.pods, self.nodes = pods, nodes
        self.token = token
        self.connect_timeout = connect_timeout
        """Seconds to connect to an agent (TCP and TLS)."""
        self.check_interval = check_interval
        """Seconds between checks that a quiet log follower is still connected."""
        self.heartbeat = heartbeat
        """Seconds between pings on the agent's side of an exec, to notice a dead node."""
        self.sockets: set[web.WebSocketResponse] = set()
        self._session: aiohttp.ClientSession | None = None

    # -- entry points ------------------------------------------------------------------

    async def serve(self, request: web.Request, namespace: str, name: str, subresource: str) -> web.StreamResponse:
        if subresource == "log":
            if request.method != "GET":
                raise MethodNotAllowed("only GET is supported on pods/log")
            return await self.logs(request, namespace, name)
        if request.method not in ("GET", "POST"):
            raise MethodNotAllowed("only GET (WebSocket) and POST are supported on pods/exec")
        return await self.exec(request, namespace, name)

    async def logs(self, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
        endpoint, container = await self._target(request, namespace, name)
        url = endpoint.url("containerLogs", namespace, name, container)
        params = _pass(request, streams_targets.LOG_PARAMETERS)
        upstream = await self._reach(endpoint, self._client().get(url, params=params, **self._options(endpoint)))
        async with upstream:
            if upstream.status != 200:
                raise _agent_error(upstream.status, await upstream.read(), endpoint)
            response = web.StreamResponse(headers={"Content-Type": upstream.headers.get("Content-Type", "text/plain")})
            response.enable_chunked_encoding()
            await response.prepare(request)

            async def copy() -> None:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)

            try:
                await _until_gone(request, copy(), interval=self.check_interval)
                await response.write_eof()
            except (ConnectionResetError, aiohttp.ClientError, TimeoutError) as err:
                log.info("log stream ended early", pod=f"{namespace}/{name}", node=endpoint.node, error=str(err))
        return response

    async def exec(self, request: web.Request, namespace: str, name: str) -> web.StreamResponse:
        endpoint, container = await self._target(request, namespace, name)
        offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        protocol = next((p for p in offered if p in WS_PROTOCOLS), None)
        client = web.WebSocketResponse(protocols=(protocol,) if protocol else (), autoping=True, timeout=5.0)
        if not client.can_prepare(request).ok:
            raise BadRequest(SPDY_REFUSED)
        if protocol is None:
            raise BadRequest(f"pods/exec speaks the WebSocket subprotocols {', '.join(WS_PROTOCOLS)}; none was offered")
        url = endpoint.url("exec", namespace, name, container)
        params = _pass(request, streams_targets.EXEC_PARAMETERS)
        bound = log.bind(pod=f"{namespace}/{name}", container=container, node=endpoint.node)
        agent: aiohttp.ClientWebSocketResponse | None = None
        refused = ""
        try:
            connecting = self._client().ws_connect(
                url, params=params, protocols=(protocol,), heartbeat=self.heartbeat, **self._options(endpoint)
            )
            agent = await self._reach(endpoint, connecting)
        except aiohttp.WSServerHandshakeError as err:
            status = err.headers.get(STATUS_HEADER, "") if err.headers else ""
            refused = _agent_error(err.status, status.encode(), endpoint).message
        except ApiError as err:
            refused = err.message
        try:
            await client.prepare(request)
            self.sockets.add(client)
            if agent is None:
                bound.info("exec refused", reason=refused)
                await streams_splicing.fail(client, refused)
            else:
                await streams_splicing.splice(client, agent, node=endpoint.node)
        finally:
            self.sockets.discard(client)
            if agent is not None:
                await agent.close()
        return client

    # -- helpers -----------------------------------------------------------------------

    async def _target(self, request: web.Request, namespace: str, name: str) -> tuple[AgentEndpoint, str]:
        pod, _ = await self.service.read(self.pods, namespace, name)
        node_name = streams_targets.node_of(pod)
        container = streams_targets.container_of(pod, request.query.get("container", ""))
        node, _ = await self.service.read(self.nodes, None, node_name)
        return streams_targets.agent_endpoint(node), container

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=None, connect=self.connect_timeout)
            # No pool limit: every open `logs -f` or exec holds a connection for as long as
            # it lasts, and aiohttp's default of 100 would make the 101st wait for a slot.
            connector = aiohttp.TCPConnector(limit=0)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False)
        return self._session

    def _options(self, endpoint: AgentEndpoint) -> dict[str, Any]:
        return {"headers": {"Authorization": f"Bearer {self.token}"}, "ssl": aiohttp.Fingerprint(endpoint.fingerprint)}

    async def _reach(self, endpoint: AgentEndpoint, connecting: Awaitable[T]) -> T:
        """Connect to an agent; connection failures become Status errors that name the node."""
        try:
            return await connecting
        except aiohttp.ServerFingerprintMismatch as err:
            raise InternalError(
                f"the agent at {endpoint.address} does not present the certificate node {endpoint.node} "
                f"published ({streams_targets.PIN_ANNOTATION}); refusing to talk to it"
            ) from err
        except aiohttp.WSServerHandshakeError:
            raise
        except (aiohttp.ClientError, OSError, TimeoutError) as err:
            raise ServiceUnavailable(
                f"cannot reach the agent of node {endpoint.node} at {endpoint.address}: {_describe(err)}"
            ) from err

    async def shutdown(self, _: web.Application) -> None:
        """End open exec sessions at once when the server stops."""
        for ws in list(self.sockets):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"the API server is stopping")

    async def close(self, _: web.Application) -> None:
        if self._session is not None:
            await self._session.close()


PROXY = web.AppKey("stream-proxy", StreamProxy)


def install(app: web.Application, *, service: ResourceService, registry: Registry, token: str) -> None:
    """Give `app` a stream proxy that calls agents with `token`, closed with the app."""
    proxy = StreamProxy(service, registry, token=token)
    app[PROXY] = proxy
    app.on_shutdown.append(proxy.shutdown)
    app.on_cleanup.append(proxy.close)


async def serve(request: web.Request, namespace: str, name: str, subresource: str) -> web.StreamResponse:
    """The hook of the resource handler: a pods/log or pods/exec request."""
    return await request.app[PROXY].serve(request, namespace, name, subresource)


def _pass(request: web.Request, names: Iterable[str]) -> list[tuple[str, str]]:
    wanted = set(names)
    return [(key, value) for key, value in request.query.items() if key in wanted]


def _agent_error(status: int, body: bytes, endpoint: AgentEndpoint) -> ApiError:
    """The agent's Status as our error; one made up when the body is not a Status."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("kind") == "Status" and parsed.get("message"):
        err = ApiError(str(parsed["message"]))
        err.code = int(parsed.get("code") or status)
        err.reason = str(parsed.get("reason") or "InternalError")
        return err
    err = ApiError(f"the agent of node {endpoint.node} answered HTTP {status}: {body[:200].decode(errors='replace')}")
    err.code = status if 400 <= status < 600 else 500
    return err


def _describe(err: BaseException) -> str:
    if isinstance(err, TimeoutError):
        return "timed out"
    return str(err) or err.__class__.__name__


async def _until_gone(request: web.Request, work: Awaitable[None], *, interval: float) -> None:
    """Run `work` until it ends or the client disconnects (aiohttp would not cancel us)."""
    task = asyncio.ensure_future(work)
    try:
        while not (await asyncio.wait({task}, timeout=interval))[0]:
            if request.transport is None or request.transport.is_closing():
                return
        task.result()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
