"""The charges admission holds: until the quota's status shows them, the object goes, or they lapse."""

from __future__ import annotations

from decimal import Decimal

from edgekube.service.quota_reservations import Ledger, Target

QUOTA = ("compute", "uid-q")
WEB = Target("core/pods", "team", "web")
ONE = {"pods": Decimal(1)}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _ledger() -> tuple[Ledger, Clock]:
    clock = Clock()
    return Ledger(clock, unwritten_seconds=10, unconfirmed_seconds=300), clock


def test_confirmed_charge_ends_once_the_status_is_seen() -> None:
    """A charge confirmed at quota revision 7 counts until the quota seen is at 7."""
    ledger, _ = _ledger()
    ledger.reserve(QUOTA, WEB, "uid-web", 0, ONE)
    ledger.written(WEB, "uid-web", 5)
    ledger.confirm(ledger.pending("team")[0], 7)
    ledger.prune("team", {QUOTA: 6})
    assert ledger.charged("team", QUOTA) == ONE
    ledger.prune("team", {QUOTA: 7})
    assert ledger.charged("team", QUOTA) == {}


def test_unwritten_charge_lapses_quickly() -> None:
    """A write that never lands (a dry run) frees its charge after `unwritten_seconds`."""
    ledger, clock = _ledger()
    ledger.reserve(QUOTA, WEB, "uid-web", 0, ONE)
    clock.now = 9.0
    ledger.prune("team", {QUOTA: 1})
    assert ledger.charged("team", QUOTA) == ONE
    clock.now = 10.5
    ledger.prune("team", {QUOTA: 1})
    assert ledger.charged("team", QUOTA) == {}


def test_written_charge_waits_for_the_controller() -> None:
    """Once stored, a charge holds until confirmed (or `unconfirmed_seconds` pass)."""
    ledger, clock = _ledger()
    ledger.reserve(QUOTA, WEB, "uid-web", 0, ONE)
    clock.now = 1.0
    ledger.written(WEB, "uid-web", 5)
    clock.now = 200.0
    ledger.prune("team", {QUOTA: 1})
    assert ledger.charged("team", QUOTA) == ONE
    clock.now = 302.0
    ledger.prune("team", {QUOTA: 1})
    assert ledger.charged("team", QUOTA) == {}


def test_another_object_of_the_same_name_is_not_the_write() -> None:
    """An event for a different uid (an older object of that name) does not mark the write done."""
    ledger, clock = _ledger()
    ledger.reserve(QUOTA, WEB, "uid-web", 0, ONE)
    ledger.written(WEB, "uid-older", 5)
    clock.now = 11.0
    ledger.prune("team", {QUOTA: 1})
    assert ledger.charged("team", QUOTA) == {}


def test_deleted_object_and_deleted_quota_drop_charges() -> None:
    """Deleting the object, or the quota, drops what was held."""
    ledger, _ = _ledger()
    ledger.reserve(QUOTA, WEB, "uid-web", 0, ONE)
    ledger.gone(WEB)
    assert ledger.charged("team", QUOTA) == {}
    ledger.reserve(QUOTA, WEB, "uid-web", 0, ONE)
    ledger.prune("team", {})
    assert ledger.pending("team") == []
