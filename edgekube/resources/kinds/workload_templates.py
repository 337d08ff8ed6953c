"""The pod template of a workload (`spec.template`): defaults, checks and wide columns.

Deployments, ReplicaSets and DaemonSets stamp pods out of their template and find them
again with their selector, so the template's labels must satisfy the selector. Their
pods must keep running, hence `restartPolicy: Always` and no deadline. The template's
spec is checked as a pod spec, except that images may be left for tooling to fill in.
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.pod_defaults import default_pod_spec
from edgekube.resources.kinds.pod_spec import validate_pod_spec
from edgekube.resources.kinds.workload_causes import dicts, mapping, text
from edgekube.resources.kinds.workload_selectors import format_label_selector, selector_matches, usable_selector
from edgekube.resources.objects import Obj, get_path, set_default
from edgekube.resources.strategy import Column
from edgekube.resources.validation import (
    forbidden,
    invalid_value,
    required,
    unsupported_value,
    validate_annotations,
    validate_labels,
)

SELECTOR_MISMATCH = "`selector` does not match template `labels`"


def default_pod_template(template: Any) -> None:
    """Apply the pod-spec defaults (template flavour) to `template.spec`, in place."""
    if isinstance(template, dict):
        default_pod_spec(template.get("spec"), template=True)


def validate_pod_template(template: Any, path: str) -> list[Cause]:
    """Problems with a pod template at `path`: its labels, annotations and pod spec."""
    if not isinstance(template, dict):
        return [required(path)]
    meta = mapping(template.get("metadata"))
    causes = validate_labels(meta.get("labels"), f"{path}.metadata.labels")
    causes += validate_annotations(meta.get("annotations"), f"{path}.metadata.annotations")
    causes += validate_pod_spec(template.get("spec"), f"{path}.spec", for_pod=False)
    return causes


def validate_controller_template(template: Any, selector: Any, path: str, owner: str) -> list[Cause]:
    """A template a controller keeps pods running from; `owner`: "ReplicaSet", "DaemonSet".

    Checks the selector match (when the selector is usable: an invalid or empty one is
    reported on its own), then the template itself, then the rules for pods that must
    keep running.
    """
    if not isinstance(template, dict):
        return [required(path)]
    causes: list[Cause] = []
    labels = get_path(template, "metadata", "labels")
    if usable_selector(selector) is not None and not selector_matches(selector, labels):
        causes.append(invalid_value(f"{path}.metadata.labels", labels or {}, SELECTOR_MISMATCH))
    causes += validate_pod_template(template, path)
    spec = template.get("spec")
    if isinstance(spec, dict):
        policy = spec.get("restartPolicy")
        if policy and policy != "Always":
            causes.append(unsupported_value(f"{path}.spec.restartPolicy", policy, ("Always",)))
        if spec.get("activeDeadlineSeconds") is not None:
            causes.append(
                forbidden(
                    f"{path}.spec.activeDeadlineSeconds",
                    f"activeDeadlineSeconds in {owner} is not Supported",
                )
            )
    return causes


def template_columns(owner: str) -> tuple[Column, ...]:
    """The `-o wide` columns every workload kind ends with; `owner` reads "deployment" etc."""
    return (
        Column("Containers", priority=1, description="Container names of the pod template."),
        Column("Images", priority=1, description="Container images of the pod template."),
        Column("Selector", priority=1, description=f"The label selector of the {owner}'s pods."),
    )


def template_cells(obj: Obj) -> list[Any]:
    """The cells of `template_columns`: container names, images and the selector."""
    containers, images = template_containers(obj)
    return [containers, images, format_label_selector(get_path(obj, "spec", "selector"))]


def default_rolling_strategy(strategy: dict[str, Any], *, max_unavailable: int | str, max_surge: int | str) -> None:
    """RollingUpdate unless told otherwise, with the kind's maxUnavailable and maxSurge."""
    if strategy.get("type") in (None, ""):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] != "RollingUpdate":
        return
    set_default(strategy, "rollingUpdate", {})
    rolling = strategy["rollingUpdate"]
    if isinstance(rolling, dict):
        set_default(rolling, "maxUnavailable", max_unavailable)
        set_default(rolling, "maxSurge", max_surge)


def template_containers(obj: Obj) -> tuple[str, str]:
    """CONTAINERS and IMAGES cells: the template's container names and images, comma-joined."""
    containers = dicts(get_path(obj, "spec", "template", "spec", "containers"))
    names = ",".join(text(c.get("name")) for _, c in containers)
    images = ",".join(text(c.get("image")) for _, c in containers)
    return names, images
