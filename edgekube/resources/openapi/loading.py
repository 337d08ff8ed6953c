"""Load the schema cache into a `SchemaSet`, building it in a child process when missing.

Flow: cache path -> (missing or unreadable: run `python -m
edgekube.resources.openapi.building PATH` with this interpreter) -> JSON -> `SchemaSet`.
The child writes the file atomically, so two servers starting together at worst build
it twice. Everything here blocks; the server calls it via `asyncio.to_thread`.

Memory: `load_schema` drops every description, because validation and patching never
read them and they are most of the file; equal `FieldSchema`s are shared. Documents for
kubectl need the descriptions, so `OpenAPIDocuments.load` reads the file again with
`descriptions=True`, renders its bytes and lets that copy go.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import orjson
import structlog

from edgekube.resources.openapi import cachefiles
from edgekube.resources.schema import SchemaSet

log = structlog.get_logger(__name__)

BUILD_TIMEOUT = 300.0  # seconds; the build takes about one on a laptop, far more on a Pi


class SchemaBuildError(RuntimeError):
    """The child process could not build the schema."""


def cache_file_name() -> str:
    """`schema-<edgekube>-<kubernetes client>-<kinds digest>.json`.

    A new release, a new client, or a change in the kinds served (which a development
    tree sees without a version bump) each name a new file, so a stale cache is never read.
    """
    return f"schema-{_version('edgekube')}-{_version('kubernetes')}-{_kinds_digest()}.json"


def _kinds_digest() -> str:
    from edgekube.resources.registry import default_registry

    served = sorted(f"{k.group}/{k.version}/{k.kind}" for k in default_registry().kinds())
    return hashlib.sha256("\n".join(served).encode()).hexdigest()[:12]


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def load_schema(cache_path: Path, *, descriptions: bool = False) -> SchemaSet:
    """The schema from `cache_path`, built first if the file is missing or unreadable."""
    if cache_path.exists():
        try:
            return _read(cache_path, descriptions)
        except (OSError, ValueError) as err:
            # A file from an older format or a torn copy: rebuilding is cheap and safe.
            log.warning("schema cache unreadable, rebuilding", path=str(cache_path), error=str(err))
    build_cache(cache_path)
    return _read(cache_path, descriptions)


def build_cache(cache_path: Path) -> None:
    """Run the builder in a child process; it replaces `cache_path` atomically."""
    log.info("building schema cache", path=str(cache_path))
    cmd = [sys.executable, "-m", "edgekube.resources.openapi.building", str(cache_path)]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=BUILD_TIMEOUT)
    except subprocess.CalledProcessError as err:
        tail = err.stderr.decode(errors="replace")[-2000:]
        raise SchemaBuildError(f"schema build failed ({err.returncode}): {tail}") from err
    except subprocess.TimeoutExpired as err:
        raise SchemaBuildError(f"schema build took more than {BUILD_TIMEOUT}s") from err


def _read(cache_path: Path, descriptions: bool) -> SchemaSet:
    # orjson raises JSONDecodeError, a ValueError; so does a wrong format.
    return cachefiles.decode(orjson.loads(cache_path.read_bytes()), descriptions=descriptions)
