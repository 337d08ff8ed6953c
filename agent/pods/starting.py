"""Starting one container: image, environment, create, start; each failure shown as the kubelet shows it.

    image not present, pull policy Never  -> waiting ErrImageNeverPull
    pull failed                            -> waiting ErrImagePull, then ImagePullBackOff until retried
    env or securityContext cannot be built -> waiting CreateContainerConfigError
    the runtime refuses the container      -> waiting CreateContainerError
    the process cannot be started          -> RunContainerError, counted as a crash (restart policy, back-off)

Each new container is labelled with its restart count; the one before it stays (for
`logs --previous`) and the one before that is removed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.pods.backoffs import Backoff, after_pull_failure
from agent.pods.envs import EnvError, resolve_env
from agent.pods.labels import LABEL_IMAGE
from agent.pods.records import ContainerRecord, Mode, Termination
from agent.pods.specs import container_spec, pull_policy
from agent.runtime.errors import (
    AlreadyExistsError,
    ContainerRuntimeError,
    CreateContainerError,
    ImageNeverPullError,
    ImagePullError,
    NotFoundError,
    StartContainerError,
)
from agent.runtime.interface import (
    LABEL_CONTAINER_NAME,
    LABEL_POD_UID,
    LABEL_RESTART_COUNT,
    ContainerId,
    ContainerState,
    ImageInfo,
)
from edgekube.nodeinfo import now as wall_now

if TYPE_CHECKING:
    from agent.pods.working import PodWorker


def image_ref(image: ImageInfo, wanted: str) -> str:
    """The status's imageID: name@digest when the image has a digest, else its id."""
    if image.digest:
        name = wanted.split("@", 1)[0]
        last = name.rsplit("/", 1)[-1]
        if ":" in last:
            name = name[: len(name) - len(last)] + last.split(":", 1)[0]
        return f"{name}@{image.digest}"
    return f"sha256:{image.id}"


def _retry_later(worker: PodWorker, record: ContainerRecord, reason: str, message: str) -> None:
    settings = worker.ctx.settings
    now = worker.loop.time()
    record.retry = after_pull_failure(
        record.retry, failed_at=now, initial=settings.image_backoff_initial, maximum=settings.image_backoff_max
    )
    record.wait(reason, message)
    worker.schedule(record.retry.remaining(now))


async def start(worker: PodWorker, record: ContainerRecord) -> None:
    """Start a new container for `record` (its first, or the next after an exit)."""
    ctx = worker.ctx
    spec = worker.spec_of(record)
    if spec is None or worker.sandbox is None:
        return
    now = worker.loop.time()
    if record.retry.waiting(now):
        if record.waiting_reason == "ErrImagePull":
            record.wait("ImagePullBackOff", f'Back-off pulling image "{record.image}"')
        worker.schedule(record.retry.remaining(now))
        return
    try:
        image = await ctx.runtime.ensure_image(record.image, pull_policy(spec))
    except ImageNeverPullError as err:
        message = f'Container image "{record.image}" is not present with pull policy of Never'
        record.wait(err.reason, message)
        worker.schedule(ctx.settings.resync_interval)
        return
    except ImagePullError as err:
        worker.log.warning("image pull failed", image=record.image, error=str(err))
        _retry_later(worker, record, err.reason, str(err))
        return
    record.image_id = image_ref(image, record.image)
    try:
        env = await resolve_env(worker.pod, spec, ctx.references, host_ip=ctx.node_ip, allocatable=ctx.allocatable)
        mounts = ctx.volumes.mounts_for(spec, worker.prepared, env=env)
        wanted = container_spec(
            worker.pod,
            spec,
            env=env,
            mounts=mounts,
            restart_count=record.created,
            node_name=ctx.node_name,
            extra_labels={**ctx.extra_labels, LABEL_IMAGE: record.image},
        )
    except EnvError as err:
        _retry_later(worker, record, err.reason, str(err))
        return
    except ContainerRuntimeError:
        raise
    except Exception as err:  # the volume manager's refusals (a bad subPath, a volume not prepared)
        _retry_later(worker, record, EnvError.reason, str(err))
        return
    try:
        container = await ctx.runtime.create_container(worker.sandbox.id, wanted, worker.sandbox_spec)
    except AlreadyExistsError:
        # Created by an earlier attempt that did not live to record it: remove it, create next sync.
        labels = {
            LABEL_POD_UID: worker.uid,
            LABEL_CONTAINER_NAME: record.name,
            LABEL_RESTART_COUNT: str(record.created),
        }
        for leftover in await ctx.runtime.list_containers(labels):
            await ctx.runtime.remove_container(leftover.id)
        worker.schedule(min(0.5, ctx.settings.sync_retry))
        return
    except CreateContainerError as err:
        worker.log.warning("the runtime refused the container", container=record.name, error=str(err))
        _retry_later(worker, record, err.reason, str(err))
        return
    record.retry = Backoff()
    older = record.previous
    record.replaced_by(container)
    if older is not None and older != record.previous:
        await ctx.runtime.remove_container(older)
    await _start(worker, record, container)


async def start_created(worker: PodWorker, record: ContainerRecord) -> None:
    """A container that was created but never started (the agent stopped in between)."""
    if record.current is not None:
        await _start(worker, record, record.current)


async def _start(worker: PodWorker, record: ContainerRecord, container: ContainerId) -> None:
    runtime = worker.ctx.runtime
    try:
        await runtime.start_container(container)
    except StartContainerError as err:
        worker.log.warning("container did not start", container=record.name, error=str(err))
        worker.on_exit(record, Termination(128, "ContainerCannotRun", None, wall_now(), container, str(err)))
        if record.mode is Mode.WAITING and record.waiting_reason != "CrashLoopBackOff":
            record.wait(err.reason, str(err))
        worker.schedule(worker.ctx.settings.sync_retry)
        return
    try:
        status = await runtime.inspect_container(container)
    except NotFoundError:
        worker.schedule(0.0)
        return
    if status.state is ContainerState.RUNNING:
        record.run(status.started_at)
        worker.start_probes(record)
        worker.watch_exit(container)
        worker.log.info("container started", container=record.name, restarts=record.restart_count)
    else:
        worker.wake()  # ended already: the next refresh decides what follows
