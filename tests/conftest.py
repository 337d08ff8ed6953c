"""Fixtures shared by every test folder: real server processes and API clients."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.servers import ServerProcess, free_port


@pytest.fixture(scope="session")
def schema_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Build the OpenAPI schema cache once per session; every test server copies it."""
    from edgekube.resources.openapi.loading import build_cache, cache_file_name

    cache_dir = tmp_path_factory.mktemp("schema-cache")
    build_cache(cache_dir / cache_file_name())
    os.environ["EDGEKUBE_TEST_SCHEMA_CACHE"] = str(cache_dir)
    yield cache_dir


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory, schema_cache: Path) -> Iterator[ServerProcess]:
    """One server for the tests that only need a working API (each uses its own namespace)."""
    server = ServerProcess(tmp_path_factory.mktemp("shared-server"), free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_server(tmp_path: Path, schema_cache: Path) -> Iterator[ServerProcess]:
    """A server of the test's own, for tests that restart, kill or compact it."""
    server = ServerProcess(tmp_path / "data", free_port())
    yield server
    server.stop()


@pytest.fixture
async def http(shared_server: ServerProcess) -> AsyncIterator[aiohttp.ClientSession]:
    """An aiohttp session with the admin token, talking to the shared server."""
    async with aiohttp.ClientSession(
        base_url=shared_server.url,
        headers={"Authorization": f"Bearer {shared_server.token}"},
        connector=aiohttp.TCPConnector(ssl=shared_server.ssl_context()),
    ) as session:
        yield session


@pytest.fixture
def namespace(request: pytest.FixtureRequest, shared_server: ServerProcess) -> Iterator[str]:
    """A fresh namespace on the shared server, named after the test."""
    import urllib.request

    import orjson

    name = "t-" + "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:50].strip("-")
    name = f"{name}-{os.getpid() % 1000}"
    body = orjson.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    req = urllib.request.Request(
        f"{shared_server.url}/api/v1/namespaces",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {shared_server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, context=shared_server.ssl_context()) as r:
        assert r.status == 201
    yield name
