"""Default tolerations: every new pod tolerates a not-ready or unreachable node for a while.

Kubernetes' DefaultTolerationSeconds admission plug-in. On pod CREATE it adds

    {key: node.kubernetes.io/not-ready,   operator: Exists, effect: NoExecute, tolerationSeconds: N}
    {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: N}

unless the pod already has a toleration that covers the key (or has no key) for NoExecute
(or for every effect), so a pod that asked for its own terms keeps them and one that
tolerates everything gets nothing more. Updates are left alone: a status write must not
change the spec, and Kubernetes only defaults new pods too.

The taint-based eviction controller reads these to evict pods N seconds (the server's
`default-toleration-seconds`, 300 by default) after their node went bad.
"""

from __future__ import annotations

from typing import Any

from edgekube.resources.objects import Obj
from edgekube.resources.strategy import Strategy

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DEFAULT_SECONDS = 300


def _covers(toleration: Any, key: str) -> bool:
    """Kubernetes' test: the key matches (or is empty) and the effect is NoExecute (or empty)."""
    if not isinstance(toleration, dict):
        return False
    key_ok = (toleration.get("key") or "") in ("", key)
    effect_ok = (toleration.get("effect") or "") in ("", "NoExecute")
    return key_ok and effect_ok


def add_default_tolerations(spec: dict[str, Any], seconds: int) -> bool:
    """Add the two tolerations a pod spec lacks, in place; True when it added any."""
    tolerations = spec.get("tolerations")
    if not isinstance(tolerations, list):
        tolerations = []
    added = False
    for key in (NOT_READY, UNREACHABLE):
        if not any(_covers(t, key) for t in tolerations):
            tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds})
            added = True
    if added:
        spec["tolerations"] = tolerations
    return added


class DefaultTolerationSeconds:
    """The admission plug-in: append an instance to `ResourceService.admission`."""

    def __init__(self, seconds: int = DEFAULT_SECONDS) -> None:
        self.seconds = seconds

    async def __call__(self, operation: str, strategy: Strategy, obj: Obj, old: Obj | None) -> None:
        if operation != "CREATE" or (strategy.kind.group, strategy.kind.kind) != ("", "Pod"):
            return
        spec = obj.get("spec")
        if isinstance(spec, dict):
            add_default_tolerations(spec, self.seconds)
