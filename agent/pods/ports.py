"""A container's named ports: what probes and hooks that give `port: http` resolve against."""

from __future__ import annotations

from typing import Any


def named_ports(container: dict[str, Any]) -> dict[str, int]:
    """The container's ports that have a name."""
    return {
        str(p["name"]): int(p["containerPort"])
        for p in container.get("ports") or []
        if isinstance(p, dict) and p.get("name") and isinstance(p.get("containerPort"), int)
    }
