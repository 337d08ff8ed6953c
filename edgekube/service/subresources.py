"""The `scale` and `binding` subresources, mapped onto the objects they stand for.

Scale is the autoscaling/v1 view of a workload's replica count; writes to it become
ordinary updates of `spec.replicas` on the workload (so generation, validation and watch
events are the usual ones). Binding sets a pod's node, once.
"""

from __future__ import annotations

import copy
from typing import Any

from edgekube.errors import BadRequest, Cause, Conflict, Details, invalid
from edgekube.resources.objects import Obj, get_path
from edgekube.resources.patching import apply_patch
from edgekube.resources.selectors import label_selector_from_object
from edgekube.resources.strategy import Strategy
from edgekube.service import metadata as meta
from edgekube.service.listing import parse_revision
from edgekube.service.options import WriteOptions
from edgekube.service.resources import ResourceService


def scale_of(obj: Obj) -> Obj:
    md = obj.get("metadata", {})
    selector = get_path(obj, "spec", "selector")
    text = ""
    if isinstance(selector, dict):
        try:
            text = str(label_selector_from_object(selector))
        except Exception:  # an unparsable stored selector shows as empty rather than failing reads
            text = ""
    status: dict[str, Any] = {"replicas": int(get_path(obj, "status", "replicas", default=0) or 0)}
    if text:
        status["selector"] = text
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: md[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in md},
        "spec": {"replicas": int(get_path(obj, "spec", "replicas", default=0) or 0)},
        "status": status,
    }


def _replicas_from(scale: Any, name: str) -> tuple[int, int | None]:
    if not isinstance(scale, dict):
        raise BadRequest("the body must be a Scale object")
    if scale.get("kind") not in (None, "Scale"):
        raise BadRequest(f"the kind in the data ({scale.get('kind')}) does not match the expected kind (Scale)")
    replicas = get_path(scale, "spec", "replicas", default=0)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise invalid(
            "Scale",
            name,
            [
                Cause(
                    "FieldValueInvalid",
                    f"Invalid value: {replicas!r}: must be greater than or equal to 0",
                    "spec.replicas",
                )
            ],
            "autoscaling",
        )
    rv = get_path(scale, "metadata", "resourceVersion")
    return replicas, (parse_revision(str(rv), "metadata.resourceVersion") if rv else None)


async def update_scale(
    service: ResourceService, strategy: Strategy, namespace: str | None, name: str, scale: Any, opts: WriteOptions
) -> Obj:
    replicas, precondition = _replicas_from(scale, name)

    async def mutate(current: Obj) -> Obj:
        current.setdefault("spec", {})["replicas"] = replicas
        return current

    obj = await service.guaranteed_update(strategy, namespace, name, mutate, opts, precondition=precondition)
    return scale_of(obj)


async def patch_scale(
    service: ResourceService,
    strategy: Strategy,
    namespace: str | None,
    name: str,
    content_type: str,
    body: bytes,
    opts: WriteOptions,
) -> Obj:
    scale_definition = service.schema.for_kind("autoscaling", "v1", "Scale") if service.schema else None

    async def mutate(current: Obj) -> Obj:
        patched = apply_patch(content_type, scale_of(current), body, schema=service.schema, definition=scale_definition)
        replicas, precondition = _replicas_from(patched, name)
        if precondition is not None and str(precondition) != current.get("metadata", {}).get("resourceVersion"):
            raise Conflict(
                f'Operation cannot be fulfilled on {strategy.kind.resource} "{name}": the object has been modified; '
                "please apply your changes to the latest version and try again",
                details=Details(name=name, group=strategy.kind.group, kind=strategy.kind.plural),
            )
        current.setdefault("spec", {})["replicas"] = replicas
        return current

    obj = await service.guaranteed_update(strategy, namespace, name, mutate, opts)
    return scale_of(obj)


async def bind(
    service: ResourceService, strategy: Strategy, namespace: str | None, name: str, binding: Any, opts: WriteOptions
) -> Obj:
    """POST pods/NAME/binding: set the pod's node (once) and mark it scheduled."""
    if not isinstance(binding, dict):
        raise BadRequest("the body must be a Binding object")
    target = binding.get("target") or {}
    node = target.get("name") if isinstance(target, dict) else None
    if not node:
        raise invalid("Binding", name, [Cause("FieldValueRequired", "Required value", "target.name")])
    if isinstance(target, dict) and target.get("kind") not in (None, "", "Node"):
        raise invalid(
            "Binding", name, [Cause("FieldValueNotSupported", 'Unsupported value: must be "Node"', "target.kind")]
        )
    wanted_uid = get_path(binding, "metadata", "uid")

    async def mutate(current: Obj) -> Obj:
        if wanted_uid and wanted_uid != get_path(current, "metadata", "uid"):
            raise Conflict(f'Operation cannot be fulfilled on pods/binding "{name}": UID does not match')
        if get_path(current, "metadata", "deletionTimestamp"):
            raise Conflict(f'Operation cannot be fulfilled on pods/binding "{name}": pod {name} is being deleted')
        existing = get_path(current, "spec", "nodeName")
        if existing:
            raise Conflict(
                f'Operation cannot be fulfilled on pods/binding "{name}": '
                f'pod {name} is already assigned to node "{existing}"'
            )
        current.setdefault("spec", {})["nodeName"] = node
        status = current.setdefault("status", {})
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conditions.append(
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": meta.now_rfc3339()}
        )
        status["conditions"] = conditions
        return current

    obj = await service.guaranteed_update(strategy, namespace, name, mutate, opts, subresource="binding")
    return copy.deepcopy(obj)
