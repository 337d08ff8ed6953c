"""Stopping: a container's preStop hook, then SIGTERM, then SIGKILL when its grace period runs out.

A pod deleted on the server (deletionTimestamp set) is stopped within its grace period,
its sandbox and volumes removed, its last status written, and then the pod object is
deleted for good (grace 0, with a uid precondition, so a new pod of the same name is never
hit). A pod that vanished from the server (force-deleted, or deleted while the agent was
away) is stopped and cleaned up the same way, without writes. While the server is
unreachable the cleanup happens at once and the final writes wait for its return.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from agent.pods.labels import LABEL_NODE
from agent.pods.ports import named_ports
from agent.pods.records import ContainerRecord, Mode
from agent.pods.specs import grace_period
from agent.pods.statuses import final_phase
from agent.runtime.errors import ContainerRuntimeError, NotFoundError
from agent.runtime.interface import LABEL_POD_UID, ContainerId, exec_output
from edgekube.client import PODS, ApiError, Conflict, NotFound, ServerUnreachable

if TYPE_CHECKING:
    from agent.pods.working import PodWorker

Obj = dict[str, Any]
MIN_STOP_AFTER_HOOK = 2.0
"""Seconds SIGTERM still gets after a preStop hook used up the grace period (the kubelet's 2 s)."""


async def _run_hook(
    worker: PodWorker, record: ContainerRecord, container: ContainerId, hook: Obj, grace: float
) -> None:
    runtime = worker.ctx.runtime
    probing = worker.ctx.probing
    if probing is not None and (isinstance(hook.get("httpGet"), dict) or isinstance(hook.get("tcpSocket"), dict)):
        ok, message = await probing.hook(
            hook,
            container=container,
            netns_path=worker.netns_path(),
            ports=named_ports(worker.spec_of(record) or {}),
            timeout_seconds=grace,
        )
        if not ok:
            worker.log.warning("preStop hook failed", container=record.name, message=message)
    elif isinstance(hook.get("exec"), dict):
        command = [str(c) for c in hook["exec"].get("command") or []]
        if command:
            result = await exec_output(runtime, container, command)
            if result.exit_code != 0:
                worker.log.warning("preStop hook failed", exit_code=result.exit_code, stderr=result.stderr[-500:])
    elif isinstance(hook.get("sleep"), dict):
        await asyncio.sleep(float(hook["sleep"].get("seconds") or 0))
    elif hook:
        worker.log.warning("preStop hook kind not supported yet; skipping it", kinds=sorted(hook))


async def stop_container(worker: PodWorker, record: ContainerRecord, container: ContainerId, grace: float) -> None:
    """preStop (bounded by `grace`), then SIGTERM and SIGKILL after what is left of it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    hook = ((worker.spec_of(record) or {}).get("lifecycle") or {}).get("preStop")
    if isinstance(hook, dict) and grace > 0:
        try:
            async with asyncio.timeout(grace):
                await _run_hook(worker, record, container, hook, grace)
        except TimeoutError:
            worker.log.warning("preStop hook outlived the grace period", container=record.name)
        except ContainerRuntimeError as err:
            worker.log.warning("preStop hook could not run", container=record.name, error=str(err))
    left = max(deadline - loop.time(), min(MIN_STOP_AFTER_HOOK, grace))
    try:
        await worker.ctx.runtime.stop_container(container, left)
    except NotFoundError:
        pass


async def stop_running(worker: PodWorker) -> None:
    """Stop every running container of the pod at once, each within the pod's grace period."""
    grace = grace_period(worker.pod, worker.ctx.settings.default_grace_period)
    running = [(r, r.current) for r in worker.init + worker.app if r.mode is Mode.RUNNING and r.current]
    await asyncio.gather(*(stop_container(worker, r, c, grace) for r, c in running if c is not None))


async def _remove_sandboxes(worker: PodWorker) -> None:
    runtime = worker.ctx.runtime
    if worker.sandbox is not None:
        await runtime.remove_pod_sandbox(worker.sandbox.id)
        worker.sandbox = None
    for leftover in await runtime.list_pod_sandboxes({LABEL_POD_UID: worker.uid, LABEL_NODE: worker.ctx.node_name}):
        await runtime.remove_pod_sandbox(leftover.id)


async def terminate(worker: PodWorker) -> bool:
    """Stop and clean up; True once done (and, for a deleted pod, deleted on the server)."""
    ctx = worker.ctx
    if not worker.terminating:
        worker.terminating = True
        why = "deleted" if worker.deleting and not worker.gone else "no longer on the server"
        worker.log.info("stopping the pod", reason=why)
    if not worker.stopped:
        await stop_running(worker)
        await worker.refresh()
        worker.stopped = True
        worker.final_status = worker.render_phase(final_phase(worker.app, worker.phase))
        await _remove_sandboxes(worker)
        await ctx.volumes.cleanup(worker.uid)
        ctx.directory.forget_pod(worker.uid)
    if worker.deleting and not worker.gone:
        try:
            if worker.final_status is not None:
                await ctx.poster.send_now(worker.namespace, worker.name, worker.uid, worker.final_status)
            await ctx.client.delete(PODS, worker.name, worker.namespace, grace_period_seconds=0, uid=worker.uid)
        except (NotFound, Conflict):
            pass  # gone already, or the name belongs to a new pod now
        except ServerUnreachable:
            worker.schedule(ctx.settings.status_retry_max)
            return False
        except ApiError as err:
            worker.log.warning("final delete refused; trying again", error=err.message, code=err.code)
            worker.schedule(ctx.settings.sync_retry)
            return False
    ctx.poster.forget(worker.uid)
    await ctx.cache.forget_pod(worker.uid)
    worker.log.info("pod removed")
    return True
