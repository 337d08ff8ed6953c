"""`nft` as a subprocess: rulesets in through `nft -f -` (one atomic transaction), JSON out.

The kernel applies a whole `nft -f` input or none of it, so a ruleset that flushes and
refills our table in one input never leaves traffic half-translated. Calls run as child
processes, never blocking the event loop. Only tables EdgeKube owns are ever named here.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from typing import Any

NFT = "nft"


class NftError(Exception):
    """`nft` refused the input or is missing; the message carries its stderr."""


def nft_available() -> bool:
    return shutil.which(NFT) is not None


async def run_nft(*args: str, stdin: str | None = None) -> str:
    """Run `nft ARGS` (with `stdin` as input when given); its stdout, or NftError."""
    try:
        proc = await asyncio.create_subprocess_exec(
            NFT,
            *args,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError as err:
        raise NftError("nft is not installed (apt-get install nftables)") from err
    out, stderr = await proc.communicate(stdin.encode() if stdin is not None else None)
    if proc.returncode != 0:
        message = stderr.decode(errors="replace").strip()
        raise NftError(f"nft {' '.join(args)} failed ({proc.returncode}): {message}")
    return out.decode()


async def apply_ruleset(text: str) -> None:
    """Apply `text` as one transaction (`nft -f -`): all of it or, on error, none of it."""
    await run_nft("-f", "-", stdin=text)


async def list_table_json(family: str, table: str) -> dict[str, Any] | None:
    """`nft -j list table FAMILY TABLE` parsed, or None when the table does not exist."""
    try:
        out = await run_nft("-j", "list", "table", family, table)
    except NftError as err:
        if "No such file or directory" in str(err):
            return None
        raise
    parsed: dict[str, Any] = json.loads(out)
    return parsed


async def delete_table(family: str, table: str) -> bool:
    """Delete our table if it exists; whether it did."""
    try:
        await run_nft("delete", "table", family, table)
    except NftError as err:
        if "No such file or directory" in str(err):
            return False
        raise
    return True
