"""Bearer tokens: the admin token on disk, and the authenticator that maps a token to a user.

The admin token is chosen once (given on the command line, or generated) and kept in a
0600 file so later starts and `edgekube token` reuse it. The authenticator holds any
number of tokens (admin now, node tokens later), each mapped to a `User`. Tokens are
stored only as SHA-256 digests and compared in constant time against every entry, so
neither the comparison nor an early exit reveals how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from edgekube.security.files import write_atomic

TOKEN_FILE_MODE = 0o600
# 32 random bytes as hex: header-safe and free of characters shells or YAML treat specially.
_TOKEN_BYTES = 32


@dataclass(frozen=True)
class User:
    """Who a request is from, as authorization sees it."""

    name: str
    groups: tuple[str, ...] = ()


ADMIN = User("admin", ("system:masters", "system:authenticated"))


def ensure_admin_token(path: Path, given: str | None) -> str:
    """The admin token: `given` when set (and stored), else the stored one, else a new one."""
    if given:
        token = given.strip()
        _check_token(token)
        if _read_token(path) != token:
            write_atomic(path, f"{token}\n".encode(), mode=TOKEN_FILE_MODE)
    else:
        stored = _read_token(path)
        if stored:
            token = stored
        else:
            token = secrets.token_hex(_TOKEN_BYTES)
            write_atomic(path, f"{token}\n".encode(), mode=TOKEN_FILE_MODE)
    # A file copied in by hand or restored from a backup may be world-readable.
    if path.stat().st_mode & 0o777 != TOKEN_FILE_MODE:
        os.chmod(path, TOKEN_FILE_MODE)
    return token


def _read_token(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


def _check_token(token: str) -> None:
    if not token or any(c.isspace() or not c.isprintable() for c in token):
        raise ValueError("a token must be non-empty printable text without whitespace")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TokenAuthenticator:
    """Maps `Authorization: Bearer <token>` header values to users."""

    def __init__(self, tokens: Mapping[str, User] | None = None) -> None:
        self._users: dict[bytes, User] = {}
        for token, user in (tokens or {}).items():
            self.add(token, user)

    def add(self, token: str, user: User) -> None:
        """Accept `token` for `user` (replacing what the same token meant before)."""
        _check_token(token)
        self._users[_digest(token)] = user

    def remove(self, token: str) -> None:
        """Stop accepting `token`; unknown tokens are ignored."""
        self._users.pop(_digest(token), None)

    def authenticate(self, header_value: str | None) -> User | None:
        """The user a header value proves, or None (missing, malformed or unknown token)."""
        token = parse_bearer(header_value)
        if token is None:
            return None
        wanted = _digest(token)
        found: User | None = None
        # Compare against every entry without stopping at a match: the time taken does
        # not depend on which token (if any) matched.
        for digest, user in self._users.items():
            if hmac.compare_digest(digest, wanted):
                found = user
        return found


def parse_bearer(header_value: str | None) -> str | None:
    """The token in `Bearer <token>` (scheme case-insensitive), or None."""
    if not header_value:
        return None
    scheme, _, rest = header_value.strip().partition(" ")
    token = rest.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token
