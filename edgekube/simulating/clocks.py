"""Time for the simulator: the wire formats (shared with the agent, in `edgekube.nodeinfo.times`)
and Go-style durations for flags and annotations."""

from __future__ import annotations

from edgekube.nodeinfo.times import micro_time, now, parse_time, rfc3339

__all__ = ["micro_time", "now", "parse_duration", "parse_time", "rfc3339"]


def parse_duration(text: str) -> float:
    """Seconds in a Go-style duration (`5s`, `1m30s`, `250ms`, `2h`) or a bare number.

    Raises ValueError for anything else.
    """
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    total, number, i = 0.0, "", 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else ch
        if not number or unit not in units:
            raise ValueError(f"not a duration: {text!r} (use e.g. 5s, 1m30s, 250ms)")
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    if number or not text:
        raise ValueError(f"not a duration: {text!r} (use e.g. 5s, 1m30s, 250ms)")
    return total
