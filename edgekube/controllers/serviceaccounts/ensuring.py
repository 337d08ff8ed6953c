"""The service account controller: creates `default` in every namespace that lacks it.

Keys are namespace names. A namespace appearing (or changing) and a `default` account
disappearing both queue the namespace; sync creates the account when the namespace is
active and the cache has none. A create that finds one already there (the cache was
behind) or a namespace that started terminating meanwhile (admission says 403) is done.
"""

from __future__ import annotations

import structlog

from edgekube.config import ControllerSettings
from edgekube.controllers.informing import Handlers, InformerFactory
from edgekube.controllers.recording import EventRecorder
from edgekube.controllers.running import Controller
from edgekube.errors import AlreadyExists, Forbidden, NotFound
from edgekube.resources.objects import Obj
from edgekube.service.namespaces import terminating
from edgekube.service.options import WriteOptions
from edgekube.service.resources import ResourceService

log = structlog.get_logger(__name__)

DEFAULT_ACCOUNT = "default"


class ServiceAccountController(Controller):
    name = "serviceaccount-controller"

    def __init__(
        self,
        *,
        factory: InformerFactory,
        service: ResourceService,
        recorder: EventRecorder,
        settings: ControllerSettings,
    ) -> None:
        super().__init__()
        self.service = service
        self.namespaces = factory.informer("", "v1", "Namespace")
        self.accounts = factory.informer("", "v1", "ServiceAccount")
        self.namespaces.add_handlers(
            Handlers(on_add=self._namespace_changed, on_update=lambda _old, new: self._namespace_changed(new))
        )
        self.accounts.add_handlers(Handlers(on_delete=self._account_deleted))

    def _namespace_changed(self, ns: Obj) -> None:
        if not terminating(ns):
            self.enqueue(str(ns["metadata"]["name"]))

    def _account_deleted(self, account: Obj) -> None:
        md = account.get("metadata") or {}
        if md.get("name") == DEFAULT_ACCOUNT:
            self.enqueue(str(md.get("namespace")))

    async def sync(self, key: str) -> None:
        ns = self.namespaces.get(key)
        if ns is None or terminating(ns) or self.accounts.get(f"{key}/{DEFAULT_ACCOUNT}") is not None:
            return
        body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": DEFAULT_ACCOUNT, "namespace": key}}
        try:
            await self.service.create(self.accounts.strategy, key, body, WriteOptions())
        except (AlreadyExists, Forbidden, NotFound):
            return
        log.info("created the default service account", namespace=key)
