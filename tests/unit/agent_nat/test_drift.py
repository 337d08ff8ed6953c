"""The cheap drift check: what it reads from nft's JSON and what it calls a difference."""

from __future__ import annotations

import pytest

from agent.network.nat_applying import Expected
from agent.network.nat_drift import Actual, chains_of, differences, map_size

EXPECTED = Expected(chains=frozenset({"services", "svc-a"}), map_sizes={"service-ips": 2})


@pytest.mark.parametrize(
    ("actual", "reasons"),
    [
        (Actual(frozenset({"services", "svc-a"}), {"service-ips": 2}), []),
        (
            Actual(frozenset(), {"service-ips": None}),
            ["2 chains missing, e.g. services", "map service-ips: None elements, expected 2"],
        ),
        (Actual(frozenset({"services", "svc-a", "svc-x"}), {"service-ips": 2}), ["1 unexpected chains, e.g. svc-x"]),
        (Actual(frozenset({"services", "svc-a"}), {"service-ips": 1}), ["map service-ips: 1 elements, expected 2"]),
    ],
)
def test_differences(actual: Actual, reasons: list[str]) -> None:
    """Missing or extra chains and wrong element counts are drift; equal names and counts are not."""
    assert differences(EXPECTED, actual) == reasons


def test_parsing_nft_json() -> None:
    """Chains of other tables are ignored; map elements are counted."""
    listing = {
        "nftables": [
            {"metainfo": {}},
            {"chain": {"family": "ip", "table": "edgekube", "name": "services"}},
            {"chain": {"family": "ip", "table": "nat", "name": "POSTROUTING"}},
        ]
    }
    assert chains_of(listing, "edgekube") == {"services"}
    assert map_size({"nftables": [{"map": {"name": "m", "elem": [[1, 2], [3, 4]]}}]}) == 2
    assert map_size({"nftables": [{"map": {"name": "m"}}]}) == 0
