"""`GET /version`."""

from __future__ import annotations

import platform
import sys

from aiohttp import web
from aiohttp.test_utils import TestClient

import edgekube

Client = TestClient[web.Request, web.Application]


async def test_version_document(client: Client) -> None:
    """Kubernetes 1.32 with EdgeKube's version as build metadata, and the host's platform."""
    resp = await client.get("/version")
    assert resp.status == 200
    doc = await resp.json()
    assert (doc["major"], doc["minor"]) == ("1", "32")
    assert doc["gitVersion"] == f"v1.32.0+edgekube-{edgekube.__version__}"
    assert doc["gitTreeState"] == "clean"
    assert doc["goVersion"].startswith(f"python{sys.version_info.major}.{sys.version_info.minor}")
    assert doc["compiler"] == "cpython"
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    assert doc["platform"] == f"linux/{arch}"
    assert doc["buildDate"].endswith("Z")
