"""The wire shape of stored objects and small helpers to read and write nested fields.

Objects are plain JSON dicts, as they arrive on the wire; each kind's strategy knows the
fields it cares about. Keeping dicts (not typed models) lets unknown-but-valid fields pass
through unchanged and costs no conversion on the hot path.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def get_path(obj: Any, *path: str | int, default: Any = None) -> Any:
    """`obj[a][b]...`, or `default` when any step is missing or of the wrong type."""
    cur = obj
    for step in path:
        if isinstance(step, int):
            if not isinstance(cur, list) or step >= len(cur):
                return default
        elif not isinstance(cur, dict) or step not in cur:
            return default
        cur = cur[step]
    return cur


def ensure_dict(obj: Obj, *path: str) -> Obj:
    """The dict at `path`, created (and replacing a null) where missing."""
    cur = obj
    for step in path:
        nxt = cur.get(step)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[step] = nxt
        cur = nxt
    return cur


def set_default(obj: Obj, key: str, value: Any) -> None:
    """Set `obj[key] = value` when the key is absent or null (Kubernetes defaulting)."""
    if obj.get(key) is None:
        obj[key] = value


def metadata(obj: Obj) -> Obj:
    return ensure_dict(obj, "metadata")
