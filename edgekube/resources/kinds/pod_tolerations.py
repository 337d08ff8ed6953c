"""A pod's `tolerations`: their shape, and which changes a running pod may make to them.

A toleration with an empty key must use `Exists` (it then tolerates every taint);
`Exists` takes no value; `tolerationSeconds` only means something for `NoExecute`. A
pod that exists may gain tolerations but not change or drop the ones it has, except
for their `tolerationSeconds`.
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.workload_causes import dicts
from edgekube.resources.validation import (
    forbidden,
    invalid_value,
    is_label_value,
    is_qualified_name,
    unsupported_value,
)

OPERATORS = ("Equal", "Exists")
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def validate_tolerations(tolerations: Any, path: str) -> list[Cause]:
    """Problems with a pod spec's `tolerations`."""
    causes: list[Cause] = []
    for i, toleration in dicts(tolerations):
        causes += _one(toleration, f"{path}[{i}]")
    return causes


def _one(toleration: dict[str, Any], at: str) -> list[Cause]:
    causes: list[Cause] = []
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or ""
    value = toleration.get("value") or ""
    effect = toleration.get("effect") or ""
    if key:
        shown = key if isinstance(key, str) else str(key)
        causes += [invalid_value(f"{at}.key", key, msg) for msg in is_qualified_name(shown)]
    elif operator != "Exists":
        causes.append(
            invalid_value(
                f"{at}.operator",
                operator,
                'operator must be Exists when `key` is empty, which means "match all values and all keys"',
            )
        )
    if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
        causes.append(
            invalid_value(f"{at}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
        )
    if operator in ("", "Equal"):
        problems = is_label_value(value) if isinstance(value, str) else ["must be a string"]
        if problems:
            causes.append(invalid_value(f"{at}.operator", value, ";".join(problems)))
    elif operator == "Exists":
        if value:
            causes.append(
                invalid_value(f"{at}.operator", toleration, "value must be empty when `operator` is 'Exists'")
            )
    else:
        causes.append(unsupported_value(f"{at}.operator", operator, OPERATORS))
    if effect and effect not in EFFECTS:
        causes.append(unsupported_value(f"{at}.effect", effect, EFFECTS))
    return causes


def validate_toleration_update(new: Any, old: Any, path: str) -> list[Cause]:
    """Every old toleration must still be there; only its `tolerationSeconds` may differ."""
    new_items = [t for _, t in dicts(new)]
    for _, existing in dicts(old):
        if not any(_same_but_seconds(existing, candidate) for candidate in new_items):
            return [forbidden(path, "existing toleration can not be modified except its tolerationSeconds")]
    return []


def _same_but_seconds(old: dict[str, Any], new: dict[str, Any]) -> bool:
    def strip(t: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in t.items() if k != "tolerationSeconds" and v not in (None, "")}

    return strip(old) == strip(new)
