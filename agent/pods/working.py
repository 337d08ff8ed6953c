"""`PodWorker`: one task per pod uid, taking the pod from its spec to running containers and back.

Level-triggered: each `sync` looks at the pod as it is now (the latest object, what the
runtime reports) and does the next due step, in a fixed order:

    1. adopt what the runtime already runs for this pod (once, at the start)
    2. deleted on the server, or gone from it -> stop, clean up, final delete (`terminating`)
    3. terminal phase (Succeeded/Failed)      -> nothing runs again; report only
    4. the sandbox (recreated if its infra process died); its resolv.conf is written before it,
       and after it the pod network wires it (a new sandbox is wired again, same address)
    5. volumes
    6. look at every container; an exit is restarted at once or after a back-off (`restarts`)
    7. init containers one at a time, each to success; then the app containers
    8. render the status and hand it to the poster (sent only if it changed)

A sync is started by a pod update, a container exit (one `wait` task per running
container), a probe verdict, or a timer (the end of a back-off, the periodic resync).
Nothing here stops a container because the agent stops: pods outlive the agent, and so
does their wiring; only a pod stopped for good is unwired and gives its address back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import structlog

from agent.plugins import PodNetwork
from agent.pods import adopting, starting, terminating
from agent.pods.backoffs import after_crash
from agent.pods.contexts import PodContext
from agent.pods.labels import LABEL_IMAGE, LABEL_NODE
from agent.pods.ports import named_ports
from agent.pods.records import ContainerRecord, Mode, Termination
from agent.pods.restarts import crash_message, should_restart
from agent.pods.specs import grace_period, sandbox_spec
from agent.pods.statuses import TERMINAL, PodView, pod_status
from agent.runtime.errors import AlreadyExistsError, ContainerRuntimeError, NotFoundError, RuntimeUnavailableError
from agent.runtime.interface import LABEL_POD_UID, ContainerId, ContainerState, ContainerStatus, PullPolicy, Sandbox
from agent.waiting import wait_event
from edgekube.nodeinfo import now as wall_now
from edgekube.nodeinfo import parse_time

log = structlog.get_logger(__name__)
Obj = dict[str, Any]


def pod_network(ctx: PodContext) -> PodNetwork | None:
    """The context's pod network (None: --flannel-backend none)."""
    return ctx.network


def _containers(pod: Obj, key: str) -> list[Obj]:
    return [c for c in (pod.get("spec") or {}).get(key) or [] if isinstance(c, dict)]


class PodWorker:
    def __init__(self, ctx: PodContext, pod: Obj, *, on_finished: Callable[[str], None] | None = None) -> None:
        meta = pod.get("metadata") or {}
        self.ctx = ctx
        self.pod = pod
        self.uid = str(meta.get("uid", ""))
        self.namespace = str(meta.get("namespace", ""))
        self.name = str(meta.get("name", ""))
        self.log = log.bind(pod=f"{self.namespace}/{self.name}", uid=self.uid[:8])
        self.network = pod_network(ctx)
        dns = self.network.dns_files(self.uid) if self.network is not None and self.uid else None
        self.sandbox_spec = sandbox_spec(pod, node_name=ctx.node_name, extra_labels=ctx.extra_labels, dns=dns)
        self.sandbox: Sandbox | None = None
        self.dns_written = False
        self.wired_sandbox: str | None = None
        """Id of the sandbox the pod network wired (None: not wired yet in this worker's life)."""
        self.pod_address = ""
        self.init = [
            ContainerRecord(str(c.get("name")), str(c.get("image")), init=True)
            for c in _containers(pod, "initContainers")
        ]
        self.app = [ContainerRecord(str(c.get("name")), str(c.get("image"))) for c in _containers(pod, "containers")]
        self.prepared: Any = None
        self.started_at: datetime | None = parse_time(str((pod.get("status") or {}).get("startTime") or ""))
        self.phase = str((pod.get("status") or {}).get("phase") or "")
        self.adopted = False
        self.gone = False
        """The pod left the server for good (deleted with grace 0, or while we were away)."""
        self.terminating = False
        self.stopped = False
        self.final_status: Obj | None = None
        """The status written before the final delete (phase Succeeded or Failed)."""
        self.finished = asyncio.Event()
        self.syncs = 0
        self._on_finished = on_finished
        self._wake = asyncio.Event()
        self._due: float | None = None
        self._last_resync = -1e18
        self._waits: dict[ContainerId, asyncio.Task[None]] = {}
        self._probes: dict[str, list[asyncio.Task[None]]] = {}
        self._killing: set[ContainerId] = set()
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._last_volume_refresh = 0.0
        self.task: asyncio.Task[None] | None = None

    # --- driving ------------------------------------------------------------------------

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.run(), name=f"pod {self.namespace}/{self.name}")

    async def stop(self) -> None:
        """Stop working on the pod, leaving its containers as they are (the agent is stopping)."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    def update(self, pod: Obj) -> None:
        self.pod = pod
        for record in self.init + self.app:
            spec = self.spec_of(record)
            if spec is not None:
                record.image = str(spec.get("image", record.image))
        self.wake()

    def remove(self) -> None:
        self.gone = True
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    def schedule(self, delay: float) -> None:
        """Sync again within `delay` seconds at the latest."""
        due = self.loop.time() + max(0.0, delay)
        if self._due is None or due < self._due:
            self._due = due

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    @property
    def deleting(self) -> bool:
        return bool((self.pod.get("metadata") or {}).get("deletionTimestamp"))

    @property
    def restart_policy(self) -> str:
        return str((self.pod.get("spec") or {}).get("restartPolicy") or "Always")

    def loop_time_of(self, at: datetime) -> float:
        return self.loop.time() - (wall_now() - at).total_seconds()

    def spec_of(self, record: ContainerRecord) -> Obj | None:
        key = "initContainers" if record.init else "containers"
        return next((c for c in _containers(self.pod, key) if c.get("name") == record.name), None)

    async def run(self) -> None:
        try:
            while True:
                self._wake.clear()
                self._due = None
                try:
                    self.syncs += 1
                    if await self.sync():
                        return
                except ContainerRuntimeError as err:
                    self.log.warning("runtime call failed; trying again", error=str(err))
                    self.schedule(self.ctx.settings.sync_retry)
                except Exception:  # a bug with one pod must not stop the others
                    self.log.exception("pod sync failed")
                    self.schedule(self.ctx.settings.sync_retry)
                timeout = None if self._due is None else max(0.0, self._due - self.loop.time())
                with contextlib.suppress(TimeoutError):
                    await wait_event(self._wake.wait(), timeout)
        finally:
            tasks = [*self._waits.values(), *(t for ts in self._probes.values() for t in ts), *self._side_tasks]
            for task in tasks:
                task.cancel()
            self.finished.set()
            if self._on_finished is not None:
                self._on_finished(self.uid)

    # --- one sync -----------------------------------------------------------------------

    async def sync(self) -> bool:
        """One pass; True when the worker is done (the pod is gone and cleaned up)."""
        now = self.loop.time()
        periodic = now - self._last_resync >= self.ctx.settings.resync_interval
        if not self.adopted:
            await adopting.adopt(self)
            self.adopted = True
        if self.gone or self.deleting:
            done = await terminating.terminate(self)
            if self.stopped:
                await self.leave_network()
            return done
        if self.phase in TERMINAL:
            await self.refresh()
            await terminating.stop_running(self)  # declared over by someone else (an eviction): nothing runs
            if any(r.current is not None for r in self.init + self.app):
                self.post()
            return False
        if periodic:
            self._last_resync = now
        self.schedule(self.ctx.settings.resync_interval)
        if not await self.ensure_dns_files():
            self.post()
            return False
        if not await self.ensure_sandbox(check=periodic):
            self.post()
            return False
        if not await self.ensure_network():
            self.post()
            return False
        refresh_volumes = now - self._last_volume_refresh >= self.ctx.settings.volume_refresh_interval
        if refresh_volumes:
            self._last_volume_refresh = now
        if not await self.ensure_volumes(refresh=refresh_volumes):
            self.post()
            return False
        await self.refresh()
        if await self.step_init():
            await self.step_app()
        else:
            for record in self.app:
                if record.current is None and record.mode is Mode.WAITING:
                    record.wait("PodInitializing")
        self.post()
        return False

    async def ensure_sandbox(self, *, check: bool) -> bool:
        runtime = self.ctx.runtime
        if self.sandbox is not None and not check:
            return True
        if self.sandbox is not None:
            try:
                self.sandbox = await runtime.inspect_pod_sandbox(self.sandbox.id)
            except NotFoundError:
                self.sandbox = None
            if self.sandbox is not None and self.sandbox.ready:
                return True
            self.log.warning("the pod sandbox stopped; creating it again and restarting the containers")
            await self.forget_sandbox()
        try:
            self.sandbox = await runtime.create_pod_sandbox(self.sandbox_spec)
        except AlreadyExistsError:
            # A sandbox of this name from an interrupted attempt: remove it, create next time.
            for leftover in await runtime.list_pod_sandboxes({LABEL_POD_UID: self.uid, LABEL_NODE: self.ctx.node_name}):
                await runtime.remove_pod_sandbox(leftover.id)
            self.schedule(min(0.5, self.ctx.settings.sync_retry))
            return False
        except RuntimeUnavailableError:
            raise
        except ContainerRuntimeError as err:
            self.log.warning("cannot create the pod sandbox", error=str(err))
            for record in self.init + self.app:
                if record.current is None:
                    record.wait("ContainerCreating", f"failed to create pod sandbox: {err}")
            self.schedule(self.ctx.settings.sync_retry)
            return False
        self.started_at = self.started_at or wall_now()
        self.log.info("pod sandbox created", sandbox=self.sandbox.id[:12])
        return True

    @property
    def host_network(self) -> bool:
        return (self.pod.get("spec") or {}).get("hostNetwork") is True

    def _wait_all(self, reason: str, message: str) -> None:
        for record in self.init + self.app:
            if record.current is None:
                record.wait(reason, message)

    async def ensure_dns_files(self) -> bool:
        """The pod's resolv.conf, written once per worker before any container is created."""
        if self.network is None or self.dns_written:
            return True
        try:
            await self.network.prepare(self.pod)
        except Exception as err:  # a full disk, a bad dnsConfig: shown on the pod, tried again
            self.log.warning("cannot write the pod's DNS files", error=str(err))
            self._wait_all("ContainerCreating", f"cannot write resolv.conf: {err}")
            self.schedule(self.ctx.settings.sync_retry)
            return False
        self.dns_written = True
        return True

    async def ensure_network(self) -> bool:
        """Wire the current sandbox into the pod network (once per sandbox); True when it is."""
        network, sandbox = self.network, self.sandbox
        if network is None or sandbox is None or self.host_network or self.wired_sandbox == sandbox.id:
            return True
        if not network.ready:
            self._wait_all("ContainerCreating", "waiting for the node's pod network")
            self.schedule(min(1.0, self.ctx.settings.sync_retry))
            return False
        try:
            self.pod_address = await network.attach(self.pod, sandbox)
        except Exception as err:  # netlink refused, the namespace vanished: shown on the pod, tried again
            self.log.warning("cannot wire the pod into the network", error=str(err))
            self._wait_all("ContainerCreating", f"failed to set up the pod network: {err}")
            self.schedule(self.ctx.settings.sync_retry)
            return False
        self.wired_sandbox = sandbox.id
        return True

    async def leave_network(self) -> None:
        """Unwire the stopped pod and free its address (idempotent: a later pass finds nothing)."""
        if self.network is None or self.host_network:
            return
        try:
            await self.network.detach(self.uid)
        except Exception as err:  # the network task's collection frees it later
            self.log.warning("cannot unwire the pod", error=str(err))
        self.wired_sandbox = None
        self.pod_address = ""

    async def forget_sandbox(self) -> None:
        """Remove the sandbox and everything in it; containers start afresh in the next one."""
        if self.sandbox is not None:
            await self.ctx.runtime.remove_pod_sandbox(self.sandbox.id)
            self.sandbox = None
        now = wall_now()
        for record in self.init + self.app:
            self.stop_probes(record)
            if record.current is not None:
                ended = record.exit or Termination(
                    137, "Error", record.running_since, now, "", "the pod sandbox stopped"
                )
                record.last_termination = ended
            record.current = record.previous = None
            record.exit = None
            record.wait("ContainerCreating")

    async def ensure_volumes(self, *, refresh: bool) -> bool:
        volumes = self.ctx.volumes
        if self.prepared is None:
            try:
                self.prepared = await volumes.prepare(self.pod)
            except ContainerRuntimeError:
                raise
            except Exception as err:  # the volume manager's errors are many; each is shown as is
                self.log.warning("cannot prepare volumes", error=str(err))
                for record in self.init + self.app:
                    if record.current is None:
                        record.wait("ContainerCreating", f"volumes: {err}")
                self.schedule(self.ctx.settings.sync_retry)
                return False
        elif refresh:
            try:
                await volumes.refresh(self.pod)
            except Exception as err:
                self.log.warning("cannot refresh volumes", error=str(err))
        return True

    # --- containers -------------------------------------------------------------------------

    async def refresh(self) -> None:
        """Look at every current container; note exits and decide restarts."""
        for record in self.init + self.app:
            container = record.current
            if container is None:
                continue
            if record.mode is Mode.TERMINATED and record.exit is not None and record.exit.container_id == container:
                continue  # ended for good: nothing more will happen to it
            try:
                status = await self.ctx.runtime.inspect_container(container)
            except NotFoundError:
                gone = Termination(
                    137, "Error", record.running_since, wall_now(), container, "the container disappeared"
                )
                self.on_exit(record, gone)
                continue
            if not record.image_id:
                record.image_id = await self.image_id_of(record, status)
            if status.state is ContainerState.RUNNING:
                if record.mode is not Mode.RUNNING:
                    record.run(status.started_at)
                    self.start_probes(record)
                self.watch_exit(container)
                wanted = record.image
                if status.labels.get(LABEL_IMAGE, wanted) != wanted and not record.restart_requested:
                    self.log.info("container image changed; restarting it", container=record.name, image=wanted)
                    record.restart_requested = True
                if record.restart_requested:
                    self.kill_for_restart(record)
            elif status.state is ContainerState.EXITED:
                self.on_exit(record, Termination.of(status))
            elif status.state is ContainerState.CREATED and not self.terminating and self.phase not in TERMINAL:
                await starting.start_created(self, record)

    async def image_id_of(self, record: ContainerRecord, status: ContainerStatus) -> str:
        """The imageID of an adopted container: as `starting.image_ref` gives it while its image is here."""
        try:
            image = await self.ctx.runtime.ensure_image(record.image, PullPolicy.NEVER)
        except ContainerRuntimeError:
            image = None
        if image is not None and (not status.image_id or image.id == status.image_id.removeprefix("sha256:")):
            return starting.image_ref(image, record.image)
        return f"sha256:{status.image_id.removeprefix('sha256:')}" if status.image_id else ""

    def on_exit(self, record: ContainerRecord, ended: Termination) -> None:
        self.stop_probes(record)
        if self.terminating or not should_restart(self.restart_policy, init=record.init, exit_code=ended.exit_code):
            if record.mode is not Mode.TERMINATED:
                self.log.info("container ended", container=record.name, exit_code=ended.exit_code, reason=ended.reason)
            record.end(ended)
            return
        record.exit = ended
        if record.crash_of != ended.container_id:
            ran = (
                (ended.finished_at - ended.started_at).total_seconds()
                if ended.finished_at and ended.started_at
                else 0.0
            )
            finished = self.loop_time_of(ended.finished_at) if ended.finished_at else self.loop.time()
            settings = self.ctx.settings
            record.crash = after_crash(
                record.crash,
                finished_at=finished,
                ran_for=ran,
                initial=settings.backoff_initial,
                maximum=settings.backoff_max,
                reset=settings.backoff_reset,
            )
            record.crash_of = ended.container_id
            self.log.info(
                "container ended; restarting it",
                container=record.name,
                exit_code=ended.exit_code,
                reason=ended.reason,
                back_off=record.crash.delay,
            )
        now = self.loop.time()
        if record.crash.waiting(now):
            message = crash_message(record.crash.delay, record.name, self.name, self.namespace, self.uid)
            record.wait("CrashLoopBackOff", message)
            self.schedule(record.crash.remaining(now))
        elif record.mode is not Mode.WAITING:
            record.wait("ContainerCreating")

    async def step_init(self) -> bool:
        """Run the init containers in order; True once all have succeeded."""
        now = self.loop.time()
        for record in self.init:
            if record.succeeded:
                continue
            if record.mode in (Mode.RUNNING, Mode.TERMINATED):
                return False
            if record.exit is not None and record.crash.waiting(now):
                return False
            await starting.start(self, record)
            return False
        return True

    async def step_app(self) -> None:
        now = self.loop.time()
        for record in self.app:
            if record.mode in (Mode.RUNNING, Mode.TERMINATED):
                continue
            if record.exit is not None and record.crash.waiting(now):
                continue
            await starting.start(self, record)

    def watch_exit(self, container: ContainerId) -> None:
        """Wake the worker when `container` exits (one wait per running container)."""
        task = self._waits.get(container)
        if task is not None and not task.done():
            return

        async def wait() -> None:
            try:
                await self.ctx.runtime.wait_container(container)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the service restarted, the container went away: look again soon
                self.log.debug("waiting for a container failed", container=container[:12], error=str(err))
                await asyncio.sleep(1.0)
            self.wake()

        self._waits[container] = self.loop.create_task(wait(), name=f"wait {self.name}/{container[:12]}")
        for old in [c for c, t in self._waits.items() if t.done()]:
            del self._waits[old]

    def kill_for_restart(self, record: ContainerRecord) -> None:
        """Stop the current container (a failed liveness probe, a new image); its exit restarts it."""
        container = record.current
        if container is None or container in self._killing:
            return
        self._killing.add(container)
        grace = grace_period(self.pod, self.ctx.settings.default_grace_period)

        async def kill() -> None:
            try:
                await terminating.stop_container(self, record, container, grace)
            finally:
                self._killing.discard(container)
                self.wake()

        task = self.loop.create_task(kill(), name=f"restart {self.name}/{record.name}")
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    # --- probes -------------------------------------------------------------------------

    def start_probes(self, record: ContainerRecord) -> None:
        self.stop_probes(record)
        spec = self.spec_of(record) or {}
        probing = self.ctx.probing
        container = record.current
        if probing is None or record.init or container is None:
            record.started = record.ready = True
            return
        startup = spec.get("startupProbe")
        record.started = not isinstance(startup, dict)
        record.ready = record.started and not isinstance(spec.get("readinessProbe"), dict)
        if isinstance(startup, dict):

            def started(ok: bool) -> None:
                if record.current != container or record.started:
                    return
                if ok:
                    record.started = True
                    record.ready = not isinstance(spec.get("readinessProbe"), dict)
                    self._main_probes(record, container, spec)
                else:
                    self.log.info("startup probe failed; restarting the container", container=record.name)
                    record.restart_requested = True
                self.wake()

            self._run_probe(record, "startup", startup, container, started)
        else:
            self._main_probes(record, container, spec)

    def _main_probes(self, record: ContainerRecord, container: ContainerId, spec: Obj) -> None:
        def live(ok: bool) -> None:
            if record.current == container and not ok:
                self.log.info("liveness probe failed; restarting the container", container=record.name)
                record.restart_requested = True
                self.wake()

        def ready(ok: bool) -> None:
            if record.current == container and record.ready != ok:
                record.ready = ok and record.started
                self.wake()

        if isinstance(spec.get("livenessProbe"), dict):
            self._run_probe(record, "liveness", spec["livenessProbe"], container, live)
        if isinstance(spec.get("readinessProbe"), dict):
            self._run_probe(record, "readiness", spec["readinessProbe"], container, ready)

    def _run_probe(
        self, record: ContainerRecord, kind: Any, probe: Obj, container: ContainerId, on_change: Callable[[bool], None]
    ) -> None:
        assert self.ctx.probing is not None
        netns = self.netns_path()
        ports = named_ports(self.spec_of(record) or {})
        loop = self.probe_coroutine(kind, probe, container, netns, ports, on_change)
        task = self.loop.create_task(loop, name=f"{kind} probe {self.name}/{record.name}")
        self._probes.setdefault(record.name, []).append(task)

    def probe_coroutine(
        self,
        kind: Any,
        probe: Obj,
        container: ContainerId,
        netns: str | None,
        ports: dict[str, int],
        on_change: Callable[[bool], None],
    ) -> Any:
        assert self.ctx.probing is not None
        return self.ctx.probing.probe(
            kind, probe, container=container, netns_path=netns, ports=ports, on_change=on_change
        )

    def netns_path(self) -> str | None:
        """Where probes and hooks connect from: the pod's network namespace (None: the node's own)."""
        if (self.pod.get("spec") or {}).get("hostNetwork") is True or self.sandbox is None:
            return None
        return self.sandbox.netns_path

    def stop_probes(self, record: ContainerRecord) -> None:
        for task in self._probes.pop(record.name, []):
            task.cancel()

    # --- status -------------------------------------------------------------------------

    def pod_ip(self) -> str:
        if self.host_network:
            return self.ctx.node_ip
        if self.pod_address or self.network is None or self.stopped:
            return self.pod_address
        # Adopted but not yet attached (the network is still starting): the address it holds,
        # so the status does not drop podIP for the moment between agent start and network ready.
        return self.network.address_of(self.uid) or self._reported_ip()

    def _reported_ip(self) -> str:
        latest = self.ctx.poster.latest(self.namespace, self.name, self.uid)
        status = (latest or self.pod).get("status") or {}
        return str(status.get("podIP") or "") if self.sandbox is not None else ""

    def status_view(self) -> PodView:
        latest = self.ctx.poster.latest(self.namespace, self.name, self.uid)
        base = self.pod if latest is None else {**self.pod, "status": latest.get("status") or {}}
        now = wall_now()
        return PodView(
            pod=base,
            init=self.init,
            app=self.app,
            host_ip=self.ctx.node_ip,
            pod_ip=self.pod_ip(),
            sandbox_ready=self.sandbox is not None and self.sandbox.ready,
            started_at=self.started_at or now,
            now=now,
        )

    def render(self) -> Obj:
        status = pod_status(self.status_view())
        self.phase = str(status["phase"])
        return status

    def render_phase(self, phase: str) -> Obj:
        """The status with `phase` decided here (a pod stopped for its deletion)."""
        view = self.status_view()
        pod = {**view.pod, "status": {**(view.pod.get("status") or {}), "phase": phase}}
        self.phase = phase
        return pod_status(replace(view, pod=pod))

    def post(self) -> None:
        self.ctx.poster.post(self.namespace, self.name, self.uid, self.render())
        for record in self.init + self.app:
            self.ctx.directory.set(
                self.namespace, self.name, record.name, uid=self.uid, current=record.current, previous=record.previous
            )
