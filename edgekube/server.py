"""`edgekube server`: assembles the control plane and runs it until SIGTERM or SIGINT.

Start order: data dirs -> database schema (alembic) -> store -> OpenAPI schema (built
once in a child process) -> the allocators' informers (service IPs, pod CIDRs) ->
defaults (namespaces, service accounts, the kubernetes and kube-dns Services) -> TLS and
admin token -> HTTPS listener -> admin kubeconfig -> other background loops. Long-lived loops are
plain coroutines started and named here, and cancelled here on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import signal
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

from edgekube.api.app import build_app
from edgekube.config import ServerSettings
from edgekube.controllers.managing import run_controllers
from edgekube.controllers.namespaces import protect_system_namespaces
from edgekube.resources.kinds.common_service_ports import NODE_PORT_RANGE
from edgekube.resources.openapi.documents import OpenAPIDocuments
from edgekube.resources.openapi.loading import cache_file_name, load_schema
from edgekube.resources.registry import Registry, default_registry
from edgekube.security.certs import ensure_tls, server_ssl_context
from edgekube.security.kubeconfig import write_kubeconfig
from edgekube.security.tokens import TokenAuthenticator, User, ensure_admin_token
from edgekube.service.allocating import ServiceAllocator
from edgekube.service.bootstrap import ensure_cluster_services, ensure_defaults
from edgekube.service.cidr_allocating import NodeCIDRAllocator
from edgekube.service.quotas import QuotaAdmission
from edgekube.service.resources import ResourceService
from edgekube.service.tolerations import DefaultTolerationSeconds
from edgekube.store import migrating
from edgekube.store.compacting import compacting
from edgekube.store.dialects.base import BaseDialect
from edgekube.store.dialects.sqlite import SQLiteDialect
from edgekube.store.store import Store

log = structlog.get_logger(__name__)

GC_YOUNG_THRESHOLD = 20_000  # allocations between young collections (CPython's default: 700)
ADMIN = User("admin", ("system:masters", "system:authenticated"))


class StartupError(RuntimeError):
    """The server cannot start; the message says why and what to change."""


def dialect_for(settings: ServerSettings) -> BaseDialect:
    endpoint = settings.store.datastore_endpoint
    if not endpoint:
        return SQLiteDialect(settings.server_dir / "state.db")
    if endpoint.startswith("sqlite://"):
        return SQLiteDialect(Path(endpoint.removeprefix("sqlite://")))
    raise StartupError(
        f"datastore endpoint {endpoint!r} is not supported yet: use sqlite://PATH or leave it empty for the default"
    )


def advertised_address(settings: ServerSettings) -> str:
    if settings.network.advertise_address:
        return settings.network.advertise_address
    bind = settings.network.bind_address
    if bind not in ("0.0.0.0", "::", ""):
        return bind
    return "127.0.0.1"


def api_endpoint_address(settings: ServerSettings) -> str | None:
    """The address pods reach the API at (the `kubernetes` Endpoints): never loopback.

    The first routable one of: --advertise-address, the embedded agent's --node-ip,
    --bind-address; else the source address of this machine's default route (found by a
    route lookup: connecting a UDP socket sends nothing). None when there is none.
    Blocking (a socket call): run it in a thread.
    """
    given = [settings.network.advertise_address, settings.agent.node_ip, settings.network.bind_address]
    for candidate in given:
        if _routable(candidate):
            return candidate
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only the route lookup matters
            found = str(probe.getsockname()[0])
    except OSError:
        return None
    return found if _routable(found) else None


def _routable(value: str) -> bool:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_multicast)


def kubeconfig_url(settings: ServerSettings) -> str:
    """The admin kubeconfig talks to this machine: loopback unless bound elsewhere only."""
    bind = settings.network.bind_address
    host = "127.0.0.1" if bind in ("0.0.0.0", "::", "", "127.0.0.1") else bind
    if ":" in host:
        host = f"[{host}]"
    return f"https://{host}:{settings.network.https_listen_port}"


def certificate_names(settings: ServerSettings) -> list[str]:
    names = [socket.gethostname(), *settings.network.tls_san]
    for addr in (settings.network.advertise_address, settings.network.bind_address):
        with contextlib.suppress(ValueError):
            ip = ipaddress.ip_address(addr)
            if not ip.is_unspecified:
                names.append(addr)
    return names


def tune_garbage_collection() -> None:
    """Keep the cyclic GC off the request path.

    What start-up built (registry, schema, caches) lives for the whole process: freezing it
    takes it out of every later collection. JSON objects on the hot path make few cycles,
    so a larger young generation means fewer collections, each scanning little.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


@dataclass
class Running:
    """What a started server holds; `stop()` undoes `start_server()`."""

    store: Store
    runner: web.AppRunner
    tasks: list[asyncio.Task[None]]
    kubeconfig: Path
    url: str

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.runner.cleanup()
        await self.store.close()


async def start_server(settings: ServerSettings) -> Running:
    server_dir = settings.server_dir
    server_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    dialect = dialect_for(settings)
    store = Store(
        dialect,
        history=settings.store.watch_history,
        watcher_buffer=settings.store.watcher_buffer,
    )
    await asyncio.to_thread(migrating.upgrade, store.engine)
    await store.open()

    registry = default_registry()
    schema_path = server_dir / cache_file_name()
    schema = await asyncio.to_thread(load_schema, schema_path)
    documents = await asyncio.to_thread(OpenAPIDocuments.load, schema_path, registry)
    service = ResourceService(store, registry, schema)
    allocator = ServiceAllocator(
        store, settings.network.service_cidr, NODE_PORT_RANGE, cluster_dns=settings.network.cluster_dns
    )
    try:
        pod_cidrs = NodeCIDRAllocator(store, settings.network.cluster_cidr)
    except ValueError as err:
        await store.close()
        raise StartupError(f"--cluster-cidr {settings.network.cluster_cidr!r}: {err}") from err
    service.admission.append(allocator)
    service.admission.append(pod_cidrs)
    service.admission.append(protect_system_namespaces)
    service.admission.append(DefaultTolerationSeconds(settings.controllers.default_toleration_seconds))
    # The allocators' informers start first: the cluster services below ask them for IPs.
    tasks = [
        asyncio.create_task(allocator.run(), name="service-allocator"),
        asyncio.create_task(pod_cidrs.run(), name="pod-cidr-allocator"),
    ]
    try:
        return await _start_serving(settings, store, registry, service, documents, tasks)
    except BaseException:
        await _cancel(tasks)
        raise


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _start_serving(
    settings: ServerSettings,
    store: Store,
    registry: Registry,
    service: ResourceService,
    documents: OpenAPIDocuments,
    tasks: list[asyncio.Task[None]],
) -> Running:
    server_dir = settings.server_dir
    await ensure_defaults(service, registry)
    await ensure_cluster_services(
        service,
        registry,
        service_cidr=settings.network.service_cidr,
        cluster_dns=settings.network.cluster_dns,
        https_port=settings.network.https_listen_port,
        api_address=await asyncio.to_thread(api_endpoint_address, settings),
    )
    # After the defaults: quota admission waits for its informer, which starts below.
    quotas = QuotaAdmission(store)
    service.admission.append(quotas)

    tls = await asyncio.to_thread(ensure_tls, server_dir / "tls", sans=certificate_names(settings))
    token = ensure_admin_token(server_dir / "token", settings.access.token or None)
    authenticator = TokenAuthenticator({token: ADMIN})

    app = build_app(
        service=service,
        registry=registry,
        documents=documents,
        authenticator=authenticator,
        ready=lambda: True,
        server_address=f"{advertised_address(settings)}:{settings.network.https_listen_port}",
        # Orphan and Foreground deletes wait on finalizers only a running garbage collector removes.
        gc_running=not settings.controllers.disable_controllers,
        streaming_token=token,
    )
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(
        runner,
        settings.network.bind_address,
        settings.network.https_listen_port,
        ssl_context=server_ssl_context(tls),
        backlog=1024,
    )
    try:
        await site.start()
    except OSError as err:
        await _cancel(tasks)
        await runner.cleanup()
        await store.close()
        raise StartupError(
            f"cannot listen on {settings.network.bind_address}:{settings.network.https_listen_port}: {err.strerror}"
        ) from err

    kubeconfig = Path(settings.access.write_kubeconfig)
    url = kubeconfig_url(settings)
    write_kubeconfig(
        kubeconfig,
        server_url=url,
        ca_pem=tls.ca_cert.read_bytes(),
        token=token,
        mode=int(settings.access.write_kubeconfig_mode, 8),
    )
    tasks += [
        asyncio.create_task(service.namespaces.run(), name="namespace-cache"),
        asyncio.create_task(quotas.run(), name="quota-admission"),
        asyncio.create_task(
            compacting(
                store=store,
                interval=settings.store.compaction_interval,
                retention_seconds=settings.store.compaction_retention_seconds,
                retention_events=settings.store.compaction_retention_events,
            ),
            name="compacting",
        ),
    ]
    if not settings.controllers.disable_controllers:
        tasks.append(
            asyncio.create_task(
                run_controllers(service=service, settings=settings.controllers), name="controller-manager"
            )
        )
    tune_garbage_collection()
    log.info("edgekube server is running", url=url, kubeconfig=str(kubeconfig), data_dir=str(settings.data_dir))
    return Running(store, runner, tasks, kubeconfig, url)


EmbeddedAgent = Callable[[ServerSettings, Path], Coroutine[Any, Any, None]]


async def serve(settings: ServerSettings, *, embedded_agent: EmbeddedAgent | None = None) -> None:
    """Run until SIGTERM or SIGINT; with `embedded_agent`, this machine is a node too."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    running = await start_server(settings)
    if embedded_agent is not None:
        running.tasks.append(asyncio.create_task(embedded_agent(settings, running.kubeconfig), name="embedded-agent"))
    print(f"Admin kubeconfig written to {running.kubeconfig}", flush=True)
    await stop.wait()
    log.info("stopping")
    await running.stop()
