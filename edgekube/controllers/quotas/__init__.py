"""Resource quotas: each quota's status says what its namespace holds against its limits.

`counting` holds the pure rules (which kinds a quota counts, what its status should
say); `feeding` queues namespaces on creates and deletes of kinds counted without an
informer; `syncing` is the controller. Enforcement is admission's
(`edgekube.service.quotas`); this controller confirms the charges admission holds once
a status includes them.
"""

from edgekube.controllers.quotas.syncing import ResourceQuotaController

__all__ = ["ResourceQuotaController"]
