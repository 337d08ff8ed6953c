"""The `pod-template-hash`: a short, stable name for one version of a pod template.

A Deployment names each ReplicaSet `<deployment>-<hash>` and labels its selector and
pods with the hash, so the pods of two template versions never match each other's
ReplicaSet. The hash must be the same for the same template on every server, every
run: it is FNV-1a (32 bit) over a canonical JSON rendering (sorted keys, no null or
empty members), written in base 27 with Kubernetes' name alphabet (no vowels, so no
words; no 0, 1 or 3, which look like letters), always 7 characters. After a name
collision the Deployment's `status.collisionCount` is mixed in to get a new name.

Which ReplicaSet runs the current template is decided by comparing templates (ignoring
the hash label), never by the hash alone.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson

from edgekube.resources.objects import Obj

HASH_LABEL = "pod-template-hash"
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
HASH_LENGTH = 7  # 27**7 > 2**32, so every 32-bit value fits

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def fnv1a_32(data: bytes) -> int:
    value = _FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def encode(value: int) -> str:
    """`value` in base 27, most significant digit first, padded to HASH_LENGTH."""
    digits = []
    for _ in range(HASH_LENGTH):
        value, digit = divmod(value, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def canonical(value: Any) -> Any:
    """`value` without null or empty members: two templates that mean the same compare equal."""
    if isinstance(value, dict):
        out = {k: canonical(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def template_hash(template: Any, collision_count: int | None = None) -> str:
    data = orjson.dumps(canonical(template), option=orjson.OPT_SORT_KEYS)
    if collision_count:
        data += b"\ncollision-count=" + str(collision_count).encode()
    return encode(fnv1a_32(data))


def without_hash_label(template: Any) -> Any:
    """A copy of `template` whose labels lack `pod-template-hash`."""
    if not isinstance(template, dict):
        return template
    out: Obj = copy.deepcopy(template)
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return out


def equal_ignoring_hash(a: Any, b: Any) -> bool:
    """Whether two pod templates are the same apart from the hash label."""
    return bool(canonical(without_hash_label(a)) == canonical(without_hash_label(b)))
