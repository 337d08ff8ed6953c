"""IPAM: addresses handed out once, kept per uid, freed on release, and the table on disk."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from agent.network.allocations import AddressBook, AddressesExhausted, Allocations

CIDR = ipaddress.IPv4Network("10.42.3.0/24")


def ip(text: str) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(text)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        # (operation, uid) in order -> the final table
        ([("assign", "a")], {"a": "10.42.3.2"}),
        ([("assign", "a"), ("assign", "b")], {"a": "10.42.3.2", "b": "10.42.3.3"}),
        ([("assign", "a"), ("assign", "a")], {"a": "10.42.3.2"}),
        ([("assign", "a"), ("release", "a"), ("assign", "b")], {"b": "10.42.3.3"}),
        ([("assign", "a"), ("assign", "b"), ("release", "a"), ("assign", "a")], {"a": "10.42.3.4", "b": "10.42.3.3"}),
        ([("release", "nobody")], {}),
    ],
)
def test_assign_and_release(steps: list[tuple[str, str]], expected: dict[str, str]) -> None:
    """Each uid holds one address; a freed address is not the next one handed out."""
    table = Allocations(CIDR)
    for op, uid in steps:
        getattr(table, op)(uid)
    assert {u: str(a) for u, a in table.by_uid.items()} == expected


@pytest.mark.parametrize(
    ("cidr", "first", "last"),
    [("10.42.3.0/24", "10.42.3.2", "10.42.3.254"), ("10.42.0.0/30", "10.42.0.2", "10.42.0.2")],
)
def test_usable_range_skips_network_gateway_and_broadcast(cidr: str, first: str, last: str) -> None:
    """Network, gateway (.1) and broadcast addresses are never handed out."""
    assert Allocations(ipaddress.IPv4Network(cidr)).usable() == (ip(first), ip(last))


def test_exhaustion_raises_and_wraps_around() -> None:
    """A /29 has 5 pod addresses; the sixth pod is refused, a freed one is reused after wrapping."""
    table = Allocations(ipaddress.IPv4Network("10.42.0.0/29"))
    got = [table.assign(f"u{n}") for n in range(5)]
    assert len(set(got)) == 5
    with pytest.raises(AddressesExhausted):
        table.assign("u5")
    table.release("u1")
    assert table.assign("u5") == got[1]


def test_keep_only_releases_the_rest() -> None:
    """keep_only frees exactly the uids not named."""
    table = Allocations(CIDR)
    for uid in "abc":
        table.assign(uid)
    gone = table.keep_only(["b"])
    assert set(gone) == {"a", "c"} and set(table.by_uid) == {"b"}


@pytest.mark.parametrize(
    ("addresses", "kept"),
    [
        ({"a": "10.42.3.9"}, {"a": "10.42.3.9"}),
        ({"a": "10.42.4.9"}, {}),  # outside the CIDR
        ({"a": "10.42.3.1"}, {}),  # the gateway
        ({"a": "not-an-ip"}, {}),
        ({"a": "10.42.3.9", "b": "10.42.3.9"}, {"a": "10.42.3.9"}),  # held twice: the first wins
    ],
)
def test_from_json_drops_bad_entries(addresses: dict[str, str], kept: dict[str, str]) -> None:
    """A table read back never holds an address outside the range or twice."""
    text = json.dumps({"podCIDR": str(CIDR), "last": None, "addresses": addresses})
    assert {u: str(a) for u, a in Allocations.from_json(text, CIDR).by_uid.items()} == kept


async def test_book_survives_a_restart(tmp_path: Path) -> None:
    """What was assigned is on disk before assign returns; a new book reads the same table."""
    book = AddressBook(tmp_path, CIDR)
    await book.load()
    a = await book.assign("a")
    b = await book.assign("b")
    await book.release("a")
    again = AddressBook(tmp_path, CIDR)
    await again.load()
    assert again.holders() == {"b": b}
    assert await again.assign("c") not in (a, b)  # the search goes on after the last address given


async def test_book_keeps_memory_unchanged_when_the_write_fails(tmp_path: Path) -> None:
    """An allocation that could not be written is not handed out."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    book = AddressBook(blocker, CIDR)  # its directory is a file: every write fails
    with pytest.raises(OSError):
        await book.assign("a")
    assert book.holders() == {}
