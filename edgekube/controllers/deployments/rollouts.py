"""One sync of one Deployment: what it read, and the writes it may make.

A `Rollout` holds a working copy of the Deployment (whose status gains conditions as
the sync goes), the status the store holds, the Deployment's ReplicaSets and their
pods. Every write goes through here, with the resourceVersion last read or written as
precondition, so a concurrent change makes the sync fail with a conflict and run again
on fresh data rather than act on a stale view. Each written ReplicaSet replaces its
old copy, so later steps of the same sync see the sizes they just set.

Deployment status is written at most once per sync, at the end, and only if it
changed; the revision annotation is metadata and goes through a normal update first.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime

from edgekube.controllers.deployments.revisions import set_deployment_revision, set_replicas_annotations
from edgekube.controllers.deployments.sizing import desired_replicas, max_surge, max_unavailable, strategy_type
from edgekube.controllers.deployments.statuses import spec_replicas, status_changed
from edgekube.controllers.recording import EventRecorder
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.strategy import Strategy
from edgekube.resources.times import format_time
from edgekube.service import deleting
from edgekube.service.options import DeleteOptions, WriteOptions
from edgekube.service.resources import ResourceService

SCALING_REASON = "ScalingReplicaSet"


@dataclass
class Rollout:
    service: ResourceService
    recorder: EventRecorder
    deployment_kind: Strategy
    replica_set_kind: Strategy
    now: datetime
    deployment: Obj
    replica_sets: list[Obj]
    pods: dict[str, list[Obj]] = field(default_factory=dict)  # by the uid of their ReplicaSet
    stored_status: Obj = field(init=False)  # the status as the store has it

    def __post_init__(self) -> None:
        self.deployment.setdefault("status", {})
        self.stored_status = copy.deepcopy(self.deployment["status"])

    # -- views ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return str(get_path(self.deployment, "metadata", "name"))

    @property
    def namespace(self) -> str:
        return str(get_path(self.deployment, "metadata", "namespace"))

    @property
    def status(self) -> Obj:
        status: Obj = self.deployment["status"]
        return status

    @property
    def desired(self) -> int:
        return desired_replicas(self.deployment)

    @property
    def surge(self) -> int:
        return max_surge(self.deployment)

    @property
    def unavailable(self) -> int:
        return max_unavailable(self.deployment)

    @property
    def strategy(self) -> str:
        return strategy_type(self.deployment)

    @property
    def stamp(self) -> str:
        return format_time(self.now)

    def current(self, rs: Obj) -> Obj:
        """The latest copy of `rs` this sync has (after its own writes)."""
        uid = get_path(rs, "metadata", "uid")
        return next((r for r in self.replica_sets if get_path(r, "metadata", "uid") == uid), rs)

    def _replace(self, rs: Obj) -> None:
        uid = get_path(rs, "metadata", "uid")
        self.replica_sets = [r for r in self.replica_sets if get_path(r, "metadata", "uid") != uid] + [rs]

    def event(self, type_: str, reason: str, message: str) -> None:
        """Record an event on the Deployment (a snapshot of its metadata: later writes change it)."""
        subject = {
            "apiVersion": self.deployment.get("apiVersion"),
            "kind": self.deployment.get("kind"),
            "metadata": copy.deepcopy(self.deployment.get("metadata") or {}),
        }
        self.recorder.record(subject, type_, reason, message)

    # -- ReplicaSet writes ------------------------------------------------------------------

    async def create_replica_set(self, body: Obj) -> Obj:
        created = await self.service.create(self.replica_set_kind, self.namespace, body, WriteOptions())
        self._replace(created)
        return created

    async def update_replica_set(self, rs: Obj) -> Obj:
        """Write `rs` (a changed copy), failing with a conflict if it changed meanwhile."""
        md = rs["metadata"]
        written = await self.service.update(
            self.replica_set_kind, md.get("namespace"), str(md.get("name")), copy.deepcopy(rs), WriteOptions()
        )
        self._replace(written)
        return written

    async def delete_replica_set(self, rs: Obj) -> None:
        md = rs["metadata"]
        await deleting.delete(
            self.service,
            self.replica_set_kind,
            md.get("namespace"),
            str(md.get("name")),
            DeleteOptions(precondition_uid=md.get("uid")),
        )
        uid = md.get("uid")
        self.replica_sets = [r for r in self.replica_sets if get_path(r, "metadata", "uid") != uid]

    async def scale(self, rs: Obj, size: int, operation: str) -> tuple[bool, Obj]:
        """Set `rs` to `size` and stamp the Deployment's size on it; (whether the size changed, rs).

        The desired-/max-replicas annotations are brought up to date even when the size
        stays, so a later sync does not take the same change for a scaling event again.
        """
        rs = self.current(rs)
        before = spec_replicas(rs)
        changed = copy.deepcopy(rs)
        changed.setdefault("spec", {})["replicas"] = size
        annotated = set_replicas_annotations(changed, self.desired, self.desired + self.surge)
        if before == size and not annotated:
            return False, rs
        written = await self.update_replica_set(changed)
        if before != size:
            message = f"Scaled {operation} replica set {written['metadata']['name']} from {before} to {size}"
            self.event("Normal", SCALING_REASON, message)
        return before != size, written

    async def scale_and_record(self, rs: Obj, size: int) -> tuple[bool, Obj]:
        """`scale`, but only when the size changes (up or down, as it goes)."""
        rs = self.current(rs)
        before = spec_replicas(rs)
        if before == size:
            return False, rs
        return await self.scale(rs, size, "up" if size > before else "down")

    def record_scaled_up(self, rs: Obj) -> None:
        """The event for a ReplicaSet created with pods: a scale-up from 0."""
        message = f"Scaled up replica set {rs['metadata']['name']} from 0 to {spec_replicas(rs)}"
        self.event("Normal", SCALING_REASON, message)

    # -- Deployment writes ------------------------------------------------------------------

    async def write_revision(self, revision: str) -> None:
        """Carry `revision` in the Deployment's annotation (a metadata-only update)."""
        if not revision or not set_deployment_revision(self.deployment, revision):
            return
        body = copy.deepcopy(self.deployment)
        body["status"] = copy.deepcopy(self.stored_status)
        written = await self.service.update(self.deployment_kind, self.namespace, self.name, body, WriteOptions())
        self.deployment["metadata"]["resourceVersion"] = written["metadata"]["resourceVersion"]

    async def write_status(self, status: Obj) -> None:
        """Make `status` the Deployment's status; written only if it differs from the stored one."""
        self.deployment["status"] = status
        if not status_changed(self.stored_status, status):
            return
        written = await self.service.update(
            self.deployment_kind,
            self.namespace,
            self.name,
            copy.deepcopy(self.deployment),
            WriteOptions(),
            subresource="status",
        )
        self.stored_status = copy.deepcopy(status)
        self.deployment["metadata"]["resourceVersion"] = written["metadata"]["resourceVersion"]
