"""Has someone or something changed our NAT table behind our back? A cheap look, every resync interval.

Reads back chain names (`nft -j list chains ip`, our table's only) and the element count
of each verdict map (`nft -j list map`), and compares them with what the applier last
wrote (`Expected`). With 1,000 services that costs ~50 ms of nft time, against ~300 ms
for listing the whole table with its rules. What it cannot see: a rule edited or a chain
flushed by hand while its name stays; a table deleted, a chain or map element added or
removed (a `nft flush ruleset`, another tool's cleanup) it does see.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from agent.network.nat_applying import Expected
from agent.network.nat_rendering import MAPS
from agent.network.nft import NftError, run_nft


@dataclass(frozen=True)
class Actual:
    chains: frozenset[str]
    map_sizes: dict[str, int | None]
    """Elements per map; None when the map is missing."""


def differences(expected: Expected, actual: Actual) -> list[str]:
    """Why the kernel differs from what we applied, one short reason each ([]: it does not)."""
    reasons = []
    missing = expected.chains - actual.chains
    extra = actual.chains - expected.chains
    if missing:
        reasons.append(f"{len(missing)} chains missing, e.g. {min(missing)}")
    if extra:
        reasons.append(f"{len(extra)} unexpected chains, e.g. {min(extra)}")
    for name, size in expected.map_sizes.items():
        found = actual.map_sizes.get(name)
        if found != size:
            reasons.append(f"map {name}: {found} elements, expected {size}")
    return reasons


def chains_of(listing: dict[str, Any], table: str) -> frozenset[str]:
    """Chain names of `ip <table>` in a `nft -j list chains` answer."""
    return frozenset(
        item["chain"]["name"]
        for item in listing.get("nftables", ())
        if "chain" in item and item["chain"].get("table") == table and item["chain"].get("family") == "ip"
    )


def map_size(listing: dict[str, Any]) -> int:
    """Number of elements in a `nft -j list map` answer."""
    for item in listing.get("nftables", ()):
        if "map" in item:
            return len(item["map"].get("elem") or ())
    return 0


async def read_actual(table: str) -> Actual:
    """What the kernel holds now (missing table: no chains, no maps)."""
    chains_json, maps_json = await asyncio.gather(
        run_nft("-j", "list", "chains", "ip"), asyncio.gather(*(_list_map(table, name) for name in MAPS))
    )
    chains = chains_of(json.loads(chains_json), table)
    sizes = {
        name: None if text is None else map_size(json.loads(text)) for name, text in zip(MAPS, maps_json, strict=True)
    }
    return Actual(chains=chains, map_sizes=sizes)


async def _list_map(table: str, name: str) -> str | None:
    try:
        return await run_nft("-j", "list", "map", "ip", table, name)
    except NftError as err:
        if "No such file or directory" in str(err):
            return None
        raise
