"""A new pod from a ReplicaSet's template: its labels, annotations, finalizers and spec.

The pod is named `<replicaset>-<5 random characters>` by the API (generateName) and
names the ReplicaSet as its controller, so the ReplicaSet finds it again by selector
and by reference, and the garbage collector removes it with its owner.
"""

from __future__ import annotations

import copy

from edgekube.controllers.replicasets.claiming import owner_reference
from edgekube.resources.kinds.workload_causes import mapping
from edgekube.resources.objects import Obj, get_path


def pod_from_template(rs: Obj) -> Obj:
    template = mapping(get_path(rs, "spec", "template"))
    template_meta = mapping(template.get("metadata"))
    meta: Obj = {
        "generateName": f"{get_path(rs, 'metadata', 'name')}-",
        "namespace": get_path(rs, "metadata", "namespace"),
        "ownerReferences": [owner_reference(rs)],
    }
    for key in ("labels", "annotations", "finalizers"):
        if template_meta.get(key):
            meta[key] = copy.deepcopy(template_meta[key])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": copy.deepcopy(template.get("spec") or {})}
