"""The collector's rules, as pure functions: what an object's owners say about its fate.

Every ownerReference names its owner by kind, name and uid; an owner is the object with
that uid, never just that name (a Service deleted and created again is a new owner, and
the dependents of the old one are orphans of a dead owner). Each owner of a dependent
is judged one of four ways, and the verdict on the dependent follows from them, as in
Kubernetes' collector:

  any owner PRESENT or UNRESOLVED  -> the dependent stays; references to ABSENT and
                                      WAITING owners are removed from it (unlink)
  otherwise, some ABSENT/WAITING   -> the dependent is deleted
  no ownerReferences at all        -> nothing to do
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from edgekube.resources.kinds.common_fields import items, strings
from edgekube.resources.objects import Obj
from edgekube.service.deleting import FOREGROUND, ORPHAN

OwnerRef = dict[str, Any]


class OwnerState(Enum):
    PRESENT = "present"  # exists with the referenced uid, and does not wait for its dependents
    WAITING = "waiting"  # being deleted in the foreground: its dependents must go first
    ABSENT = "absent"  # gone, or its name now belongs to an object with another uid
    UNRESOLVED = "unresolved"  # a kind not served here, or a reference that cannot name an owner


class Action(Enum):
    KEEP = "keep"
    UNLINK = "unlink"
    DELETE = "delete"


@dataclass(frozen=True)
class Verdict:
    action: Action
    drop: frozenset[str] = frozenset()  # owner uids to remove from the dependent (UNLINK)
    owner_waiting: bool = False  # DELETE because an owner waits: the dependent goes in the foreground


def meta(obj: Obj) -> dict[str, Any]:
    found = obj.get("metadata")
    return found if isinstance(found, dict) else {}


def uid_of(obj: Obj) -> str:
    return str(meta(obj).get("uid") or "")


def owner_refs(obj: Obj) -> list[OwnerRef]:
    return [ref for _, ref in items(meta(obj).get("ownerReferences"))]


def finalizers(obj: Obj) -> list[str]:
    return strings(meta(obj).get("finalizers"))


def is_deleting(obj: Obj) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def waits_for_dependents(obj: Obj) -> bool:
    """Deleted with propagationPolicy=Foreground: stays until its blocking dependents are gone."""
    return is_deleting(obj) and FOREGROUND in finalizers(obj)


def orphans_dependents(obj: Obj) -> bool:
    """Deleted with propagationPolicy=Orphan: its dependents lose the reference and stay."""
    return is_deleting(obj) and ORPHAN in finalizers(obj)


def needs_collector(obj: Obj) -> bool:
    """Whether the collector has anything to decide about `obj` (as dependent or as owner)."""
    return bool(owner_refs(obj)) or waits_for_dependents(obj) or orphans_dependents(obj)


def ref_to(obj: Obj, owner_uid: str) -> OwnerRef | None:
    return next((r for r in owner_refs(obj) if r.get("uid") == owner_uid), None)


def blocks_owner(ref: OwnerRef | None) -> bool:
    """A foreground-deleted owner waits only for dependents whose reference says so."""
    return ref is not None and ref.get("blockOwnerDeletion") is True


def judge(states: Sequence[tuple[OwnerRef, OwnerState]]) -> Verdict:
    """The verdict on a dependent, from the state of each of its owners."""
    solid = [s for _, s in states if s in (OwnerState.PRESENT, OwnerState.UNRESOLVED)]
    dead = frozenset(str(r.get("uid")) for r, s in states if s in (OwnerState.ABSENT, OwnerState.WAITING))
    if solid:
        return Verdict(Action.UNLINK, drop=dead) if dead else Verdict(Action.KEEP)
    if not dead:
        return Verdict(Action.KEEP)
    return Verdict(Action.DELETE, owner_waiting=any(s is OwnerState.WAITING for _, s in states))


def deletion_policy(obj: Obj, verdict: Verdict, has_dependents: bool) -> str:
    """How the collector deletes a dependent it judged DELETE.

    A dependent whose owner waits in the foreground, and that has dependents of its
    own, goes in the foreground too: deployment -> replicaset -> pods disappears from
    the bottom up. Otherwise a finalizer the dependent already carries decides.
    """
    if verdict.owner_waiting and has_dependents:
        return "Foreground"
    present = finalizers(obj)
    if ORPHAN in present:
        return "Orphan"
    if FOREGROUND in present:
        return "Foreground"
    return "Background"


def without_refs(obj: Obj, uids: frozenset[str]) -> None:
    """Remove the references to `uids` from `obj`, in place (and the field when none is left)."""
    md = meta(obj)
    kept = [r for r in owner_refs(obj) if r.get("uid") not in uids]
    if kept:
        md["ownerReferences"] = kept
    else:
        md.pop("ownerReferences", None)


def without_finalizer(obj: Obj, finalizer: str) -> None:
    md = meta(obj)
    kept = [f for f in finalizers(obj) if f != finalizer]
    if kept:
        md["finalizers"] = kept
    else:
        md.pop("finalizers", None)
