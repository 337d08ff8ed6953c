"""System-owned metadata: what the server sets on create and carries over on update.

Clients may not set uid, creationTimestamp, generation, resourceVersion or the deletion
fields; the server owns them, exactly as the Kubernetes API server does.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from edgekube.resources.objects import Obj

# generateName suffixes use the Kubernetes alphabet: no vowels (no words) and no 0/1/3.
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SUFFIX_LENGTH = 5
_SYSTEM_FIELDS = ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds")


def now_rfc3339() -> str:
    """Kubernetes timestamps: UTC, second precision, `Z` suffix."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generated_name(prefix: str) -> str:
    # Kubernetes trims the prefix so the result fits in 63 characters.
    prefix = prefix[: 63 - _SUFFIX_LENGTH]
    return prefix + "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(_SUFFIX_LENGTH))


def set_for_create(obj: Obj, *, tracks_generation: bool) -> None:
    meta = obj.setdefault("metadata", {})
    for key in ("resourceVersion", "selfLink", "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds"):
        meta.pop(key, None)
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = now_rfc3339()
    if tracks_generation:
        meta["generation"] = 1
    else:
        meta.pop("generation", None)


def carry_over(new: Obj, old: Obj) -> None:
    """Keep the server-owned metadata of `old` on `new` (an update may not change it)."""
    nm = new.setdefault("metadata", {})
    om = old.get("metadata", {})
    for key in _SYSTEM_FIELDS:
        if key in om:
            nm[key] = copy.deepcopy(om[key])
        else:
            nm.pop(key, None)
    nm.pop("managedFields", None)
    nm.pop("selfLink", None)


def spec_changed(new: Obj, old: Obj) -> bool:
    """Whether anything outside metadata and status differs: what bumps `generation`."""
    keys = (set(new) | set(old)) - {"metadata", "status", "apiVersion", "kind"}
    return any(new.get(k) != old.get(k) for k in keys)


def bump_generation(new: Obj, old: Obj) -> None:
    if spec_changed(new, old):
        meta = new.setdefault("metadata", {})
        meta["generation"] = int(old.get("metadata", {}).get("generation") or 0) + 1


def same_object(new: Obj, old: Obj) -> bool:
    """Equal apart from resourceVersion: such an update writes nothing."""

    def strip(o: Obj) -> dict[str, Any]:
        meta = {k: v for k, v in o.get("metadata", {}).items() if k != "resourceVersion"}
        return {**o, "metadata": meta}

    return strip(new) == strip(old)
