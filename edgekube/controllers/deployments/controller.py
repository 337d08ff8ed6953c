"""The Deployment controller: rolls a pod template out through ReplicaSets.

Handlers only enqueue the `namespace/name` of the Deployment concerned: its own
changes, changes of the ReplicaSets it controls (or could adopt), and, for Recreate,
the deletion of its pods. `sync(key)` re-reads the Deployment from the cache, works on
a copy, claims its ReplicaSets (adopting matching orphans, releasing ones that stopped
matching), and then hands off to the first case that applies:
  deleting -> status only; paused -> scale only; scaling event -> scale only;
  otherwise the strategy: Recreate or RollingUpdate.
"""

from __future__ import annotations

import copy

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.deployments import progress, recreate, rolling, scaling
from edgekube.controllers.deployments.rollouts import Rollout
from edgekube.controllers.deployments.sizing import RECREATE, strategy_type
from edgekube.controllers.informing import Handlers, Informer, InformerFactory, object_key
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.replicasets.claiming import (
    CONTROLLER_INDEX,
    adopt,
    claim_candidates,
    controller_ref,
    index_for_claims,
    plan_claims,
    release,
)
from edgekube.controllers.replicasets.readiness import is_deleting
from edgekube.controllers.running import Controller
from edgekube.errors import NotFound
from edgekube.resources.kinds.workload_causes import mapping
from edgekube.resources.kinds.workload_selectors import usable_selector
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.selectors import LabelSelector
from edgekube.resources.times import Clock, utc_now
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)


def labels_of(obj: Obj) -> dict[str, str]:
    return {k: v for k, v in mapping(get_path(obj, "metadata", "labels")).items() if isinstance(v, str)}


def owner_key(obj: Obj, kind: str, owners: Informer) -> str | None:
    """The key of the `kind` (apps/v1) in `owners` that controls `obj`, if cached."""
    ref = controller_ref(obj)
    if ref is None or ref.get("kind") != kind or not str(ref.get("apiVersion", "")).startswith("apps/"):
        return None
    key = f"{get_path(obj, 'metadata', 'namespace')}/{ref.get('name')}"
    owner = owners.get(key)
    if owner is None or get_path(owner, "metadata", "uid") != ref.get("uid"):
        return None
    return key


class DeploymentController(Controller):
    name = "deployment-controller"
    workers = 4

    def __init__(
        self,
        *,
        factory: InformerFactory,
        service: ResourceService,
        recorder: EventRecorder,
        settings: ControllerSettings,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__()
        self.service = service
        self.recorder = recorder
        self.settings = settings
        self.clock = clock
        self.deployments = factory.informer("apps", "v1", "Deployment")
        self.replicasets = factory.informer("apps", "v1", "ReplicaSet")
        self.pods = factory.informer("", "v1", "Pod")
        index_for_claims(self.replicasets)
        index_for_claims(self.pods)
        self.deployments.add_handlers(
            Handlers(
                on_add=lambda d: self.enqueue(object_key(d)),
                on_update=lambda _old, d: self.enqueue(object_key(d)),
                on_delete=lambda d: self.enqueue(object_key(d)),
            )
        )
        self.replicasets.add_handlers(
            Handlers(on_add=self._rs_added, on_update=self._rs_updated, on_delete=self._rs_deleted)
        )
        self.pods.add_handlers(Handlers(on_delete=self._pod_deleted))

    # -- handlers ---------------------------------------------------------------------------

    def _matching(self, rs: Obj) -> list[str]:
        """Deployments whose selector matches an orphan ReplicaSet (they may adopt it)."""
        labels = labels_of(rs)
        keys = []
        for d in self.deployments.list(str(get_path(rs, "metadata", "namespace") or "")):
            selector = usable_selector(get_path(d, "spec", "selector"))
            if selector is not None and selector.matches(labels):
                keys.append(object_key(d))
        return keys

    def _rs_added(self, rs: Obj) -> None:
        key = owner_key(rs, "Deployment", self.deployments)
        if key is not None:
            self.enqueue(key)
        elif controller_ref(rs) is None and not is_deleting(rs):
            for match in self._matching(rs):
                self.enqueue(match)

    def _rs_updated(self, old: Obj, rs: Obj) -> None:
        key = owner_key(rs, "Deployment", self.deployments)
        old_key = owner_key(old, "Deployment", self.deployments)
        if old_key is not None and old_key != key:
            self.enqueue(old_key)
        if key is not None:
            self.enqueue(key)
        elif controller_ref(rs) is None and (labels_of(rs) != labels_of(old) or controller_ref(old) is not None):
            for match in self._matching(rs):
                self.enqueue(match)

    def _rs_deleted(self, rs: Obj) -> None:
        key = owner_key(rs, "Deployment", self.deployments)
        if key is not None:
            self.enqueue(key)

    def _pod_deleted(self, pod: Obj) -> None:
        """Recreate waits for the old pods to be gone: each deletion may be the last."""
        rs_key = owner_key(pod, "ReplicaSet", self.replicasets)
        rs = self.replicasets.get(rs_key) if rs_key is not None else None
        key = owner_key(rs, "Deployment", self.deployments) if rs is not None else None
        deployment = self.deployments.get(key) if key is not None else None
        if key is not None and deployment is not None and strategy_type(deployment) == RECREATE:
            self.enqueue(key)

    # -- sync -------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        cached = self.deployments.get(key)
        if cached is None:
            return
        d = copy.deepcopy(cached)
        selector = usable_selector(get_path(d, "spec", "selector"))
        if selector is None:
            log.warning("deployment has no usable selector", key=key)
            return
        replica_sets = await self._claim(d, selector)
        run = Rollout(
            service=self.service,
            recorder=self.recorder,
            deployment_kind=self.deployments.strategy,
            replica_set_kind=self.replicasets.strategy,
            now=self.clock(),
            deployment=d,
            replica_sets=replica_sets,
            pods=self._pods_by_replica_set(d, selector, replica_sets),
        )
        if is_deleting(d):
            return await progress.status_only(run)
        progress.check_paused(run)
        if get_path(d, "spec", "paused"):
            return await scaling.sync(run)
        if await scaling.is_scaling_event(run):
            return await scaling.sync(run)
        if run.strategy == RECREATE:
            return await recreate.rollout(run)
        return await rolling.rollout(run)

    async def _claim(self, d: Obj, selector: LabelSelector) -> list[Obj]:
        """Copies of the ReplicaSets `d` controls, after adopting and releasing by its selector."""
        claims = plan_claims(d, lambda rs: selector.matches(labels_of(rs)), claim_candidates(self.replicasets, d))
        owned = [copy.deepcopy(rs) for rs in claims.owned]
        if claims.adopt and await self._may_adopt(d):
            for rs in claims.adopt:
                adopted = await adopt(self.service, self.replicasets.strategy, rs, d)
                if adopted is not None:
                    owned.append(adopted)
        for rs in claims.release:
            await release(self.service, self.replicasets.strategy, rs, d)
        return owned

    async def _may_adopt(self, d: Obj) -> bool:
        md = d["metadata"]
        try:
            fresh, _ = await self.service.read(self.deployments.strategy, md.get("namespace"), str(md.get("name")))
        except NotFound:
            return False
        return get_path(fresh, "metadata", "uid") == md.get("uid") and not is_deleting(fresh)

    def _pods_by_replica_set(self, d: Obj, selector: LabelSelector, replica_sets: list[Obj]) -> dict[str, list[Obj]]:
        """The Deployment's pods (by its selector) grouped by the ReplicaSet controlling them."""
        uids = {str(get_path(rs, "metadata", "uid")) for rs in replica_sets}
        grouped: dict[str, list[Obj]] = {uid: [] for uid in uids}
        for uid in uids:  # each ReplicaSet's own pods, from the index: no namespace scan
            grouped[uid] = [
                pod for pod in self.pods.by_index(CONTROLLER_INDEX, uid) if selector.matches(labels_of(pod))
            ]
        return grouped
