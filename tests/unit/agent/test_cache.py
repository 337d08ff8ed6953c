"""The local copy: pods rewritten only when they change, statuses kept until sent."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from agent.cache import LocalCache, fingerprint

POD: dict[str, Any] = {
    "metadata": {"name": "a", "namespace": "d", "uid": "u1", "resourceVersion": "5"},
    "spec": {"containers": [{"name": "c", "image": "i"}]},
    "status": {"phase": "Running", "conditions": []},
}


async def test_pods_are_stored_atomically_and_only_on_change(tmp_path: Path) -> None:
    cache = LocalCache(tmp_path)
    await cache.open()
    assert await cache.store_pod(POD) is True
    same_but_status = {
        **POD,
        "metadata": {**POD["metadata"], "resourceVersion": "9"},
        "status": {"phase": "Running", "x": 1},
    }
    assert await cache.store_pod(same_but_status) is False, "a status write of ours must not rewrite the file"
    assert await cache.store_pod({**POD, "status": {"phase": "Succeeded"}}) is True, "a phase change does"
    assert not [p for p in os.listdir(tmp_path / "pods") if p.startswith(".")], "no temporary file left"
    again = LocalCache(tmp_path)
    loaded = await again.load_pods()
    assert list(loaded) == ["u1"] and loaded["u1"]["status"]["phase"] == "Succeeded"
    await again.forget_pod("u1")
    assert await LocalCache(tmp_path).load_pods() == {}


async def test_statuses_round_trip_and_unreadable_files_are_skipped(tmp_path: Path) -> None:
    cache = LocalCache(tmp_path)
    await cache.open()
    await cache.store_status("u1", {"name": "a", "status": {"phase": "Running"}})
    (tmp_path / "status" / "broken.json").write_text("{not json")
    assert await cache.load_statuses() == {"u1": {"name": "a", "status": {"phase": "Running"}}}
    await cache.forget_status("u1")
    assert "u1" not in await cache.load_statuses()


def test_fingerprint_ignores_revision_fields() -> None:
    moved = {**POD, "metadata": {**POD["metadata"], "resourceVersion": "6", "managedFields": [{}]}}
    assert fingerprint(moved) == fingerprint(POD)
