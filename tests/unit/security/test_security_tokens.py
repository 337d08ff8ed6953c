"""The admin token file and the bearer-token authenticator."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from edgekube.security.tokens import (
    ADMIN,
    TokenAuthenticator,
    User,
    ensure_admin_token,
    parse_bearer,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_token_is_stored_0600_and_reused(tmp_path: Path) -> None:
    """Without a given token one is generated, stored 0600, and returned again next time."""
    path = tmp_path / "server" / "token"
    token = ensure_admin_token(path, None)
    assert len(token) >= 32
    assert _mode(path) == 0o600
    assert ensure_admin_token(path, None) == token


def test_given_token_wins_and_is_stored(tmp_path: Path) -> None:
    """A given token replaces the stored one and is what later starts reuse."""
    path = tmp_path / "token"
    ensure_admin_token(path, None)
    assert ensure_admin_token(path, "s3cret-token") == "s3cret-token"
    assert ensure_admin_token(path, None) == "s3cret-token"


def test_loose_permissions_are_tightened(tmp_path: Path) -> None:
    """A token file restored with mode 0644 is set back to 0600."""
    path = tmp_path / "token"
    path.write_text("abc\n")
    path.chmod(0o644)
    assert ensure_admin_token(path, None) == "abc"
    assert _mode(path) == 0o600


@pytest.mark.parametrize("bad", [" ", "two words", "tab\there"])
def test_given_token_must_be_one_word(tmp_path: Path, bad: str) -> None:
    """A given token with inner whitespace (or only whitespace) is refused."""
    with pytest.raises(ValueError, match="token"):
        ensure_admin_token(tmp_path / "token", bad)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("Bearer   abc  ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer a b", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_bearer(header: str | None, token: str | None) -> None:
    """Only `Bearer <one token>` yields a token."""
    assert parse_bearer(header) == token


NODE = User("system:node:pi-1", ("system:nodes", "system:authenticated"))


@pytest.mark.parametrize(
    ("header", "user"),
    [
        ("Bearer admin-token", ADMIN),
        ("Bearer node-token", NODE),
        ("Bearer admin-toke", None),
        ("Bearer admin-token-x", None),
        ("Basic admin-token", None),
        (None, None),
    ],
)
def test_authenticate(header: str | None, user: User | None) -> None:
    """Each known token maps to its user; near misses and other schemes map to nobody."""
    auth = TokenAuthenticator({"admin-token": ADMIN})
    auth.add("node-token", NODE)
    assert auth.authenticate(header) == user


def test_removed_token_is_refused() -> None:
    """After `remove`, a token no longer authenticates."""
    auth = TokenAuthenticator({"admin-token": ADMIN})
    auth.remove("admin-token")
    assert auth.authenticate("Bearer admin-token") is None


def test_admin_user_groups() -> None:
    """The admin is in system:masters, the group RBAC lets do anything."""
    assert ADMIN.name == "admin"
    assert ADMIN.groups == ("system:masters", "system:authenticated")
