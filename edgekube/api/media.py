"""Accept headers: media ranges with their parameters and quality, as clients send them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header: `type/subtype;param=value;q=0.5`."""

    type: str
    params: dict[str, str]
    q: float


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header, in header order (malformed entries dropped)."""
    ranges = []
    for raw in header.split(","):
        media, *params = (p.strip() for p in raw.split(";"))
        if "/" not in media:
            continue
        parsed: dict[str, str] = {}
        for param in params:
            name, sep, value = param.partition("=")
            if sep:
                parsed[name.strip().lower()] = value.strip().strip('"')
        try:
            q = float(parsed.pop("q", "1"))
        except ValueError:
            q = 0.0
        ranges.append(MediaRange(media.lower(), parsed, q))
    return ranges
