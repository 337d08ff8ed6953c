"""The spec rules that Deployments and ReplicaSets share, and the one all workloads share.

Both keep `replicas` copies of their template running, found by their selector; the
selector may not change after creation (the workload would lose or steal pods).
DaemonSets share only that last rule.
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.workload_causes import check_ints
from edgekube.resources.kinds.workload_selectors import validate_workload_selector
from edgekube.resources.kinds.workload_templates import validate_controller_template
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.validation import invalid_value, required


def validate_replica_spec(spec: Any) -> list[Cause]:
    """Problems with the `spec` of a Deployment or ReplicaSet, but for the rollout strategy."""
    if not isinstance(spec, dict):
        return [required("spec")]
    causes = check_ints(spec, ("replicas", "minReadySeconds"), "spec")
    selector = spec.get("selector")
    # Kubernetes says "deployment" for ReplicaSets too; kept so the message is the known one.
    causes += validate_workload_selector(selector, "spec.selector", "deployment")
    causes += validate_controller_template(spec.get("template"), selector, "spec.template", "ReplicaSet")
    return causes


def validate_selector_unchanged(new: Obj, old: Obj) -> list[Cause]:
    """`spec.selector` is fixed at creation (apps/v1)."""
    before = get_path(old, "spec", "selector")
    after = get_path(new, "spec", "selector")
    if _semantic(after) == _semantic(before):
        return []
    return [invalid_value("spec.selector", after, "field is immutable")]


def _semantic(value: Any) -> Any:
    """`value` with null and empty members dropped: Go's semantic equality."""
    if isinstance(value, dict):
        out = {k: _semantic(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_semantic(item) for item in value]
    return value
