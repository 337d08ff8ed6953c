"""Which nodes a DaemonSet's pod belongs on: node name, node selector, required affinity, taints.

Kubernetes' `NodeShouldRunDaemonPod`, on a pod made from the template for that node:
  - `shouldRun`: the template's nodeName (if any) is the node, its nodeSelector and
    required node affinity match the node, and no NoSchedule or NoExecute taint goes
    untolerated (the template's tolerations plus the daemon ones, `pods.daemon_tolerations`);
  - `shouldContinueRunning`: the same, but only NoExecute taints count: a pod already on a
    node that gains a NoSchedule taint stays, one whose node gains an untolerated
    NoExecute taint goes.
Affinity terms are ORed, the requirements within a term ANDed; a term with no
requirements matches nothing, as does a required affinity with no terms. `matchFields`
knows `metadata.name` only, the one field Kubernetes serves there.
"""

from __future__ import annotations

from typing import Any

from edgekube.controllers.daemonsets.pods import daemon_pod_spec
from edgekube.controllers.nodes.taints import NO_EXECUTE, NO_SCHEDULE, taints_of, tolerations_of, untolerated
from edgekube.resources.objects import Obj, get_path

NAME_FIELD = "metadata.name"
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _integer(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def label_requirement_matches(requirement: Any, labels: dict[str, str]) -> bool:
    """One `matchExpressions` item: In, NotIn, Exists, DoesNotExist, Gt, Lt."""
    if not isinstance(requirement, dict):
        return False
    key, operator = requirement.get("key"), requirement.get("operator")
    values = _strings(requirement.get("values"))
    present = isinstance(key, str) and key in labels
    value = labels.get(key) if isinstance(key, str) else None
    if operator == "In":
        return present and value in values
    if operator == "NotIn":
        return not present or value not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt"):
        if not present or value is None or len(values) != 1:
            return False
        have, bound = _integer(value), _integer(values[0])
        if have is None or bound is None:
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


def field_requirement_matches(requirement: Any, fields: dict[str, str]) -> bool:
    """One `matchFields` item: In or NotIn on `metadata.name`."""
    if not isinstance(requirement, dict) or requirement.get("key") != NAME_FIELD:
        return False
    values = _strings(requirement.get("values"))
    operator = requirement.get("operator")
    if operator == "In":
        return fields[NAME_FIELD] in values
    if operator == "NotIn":
        return fields[NAME_FIELD] not in values
    return False


def term_matches(term: Any, labels: dict[str, str], fields: dict[str, str]) -> bool:
    if not isinstance(term, dict):
        return False
    expressions = term.get("matchExpressions") or []
    matched_fields = term.get("matchFields") or []
    if not isinstance(expressions, list) or not isinstance(matched_fields, list):
        return False
    if not expressions and not matched_fields:
        return False
    return all(label_requirement_matches(e, labels) for e in expressions) and all(
        field_requirement_matches(f, fields) for f in matched_fields
    )


def node_labels(node: Obj) -> dict[str, str]:
    found = get_path(node, "metadata", "labels")
    return {k: v for k, v in found.items() if isinstance(v, str)} if isinstance(found, dict) else {}


def fits_node(pod_spec: Any, node: Obj) -> bool:
    """nodeSelector and required node affinity against the node's labels and name."""
    spec = pod_spec if isinstance(pod_spec, dict) else {}
    labels = node_labels(node)
    selector = spec.get("nodeSelector")
    if isinstance(selector, dict) and any(labels.get(k) != v for k, v in selector.items()):
        return False
    required = get_path(spec, "affinity", "nodeAffinity", REQUIRED)
    if required is None:
        return True
    terms = required.get("nodeSelectorTerms") if isinstance(required, dict) else None
    if not isinstance(terms, list):
        return False
    fields = {NAME_FIELD: str(get_path(node, "metadata", "name") or "")}
    return any(term_matches(t, labels, fields) for t in terms)


def should_run(daemonset: Obj, node: Obj) -> tuple[bool, bool]:
    """(shouldRun, shouldContinueRunning) of the DaemonSet on `node`."""
    template_spec = get_path(daemonset, "spec", "template", "spec")
    node_name = get_path(node, "metadata", "name")
    wanted_node = get_path(template_spec, "nodeName")
    if wanted_node and wanted_node != node_name:
        return False, False
    if not fits_node(template_spec, node):
        return False, False
    tolerations = tolerations_of(daemon_pod_spec(template_spec))
    taints = taints_of(node)
    if not untolerated(taints, tolerations, (NO_SCHEDULE, NO_EXECUTE)):
        return True, True
    return False, not untolerated(taints, tolerations, (NO_EXECUTE,))
