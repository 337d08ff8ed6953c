"""Airgap import bookkeeping and image garbage collection, on the fake runtime with fake usage."""

from __future__ import annotations

import asyncio
import bz2
import gzip
import io
import json
import lzma
import os
import subprocess
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.images import (
    AirgapImporter,
    ImageGarbageCollector,
    ImageManager,
    ImageSettings,
    detect_compression,
    disk_usage_percent,
)
from agent.runtime.errors import ContainerRuntimeError
from agent.runtime.fake import FakeRuntime
from agent.runtime.interface import ContainerSpec, PodSandboxSpec, PullPolicy

MIB = 1 << 20


def docker_archive(path: Path, *tags: str) -> Path:
    """A minimal docker-archive tarball (just its manifest, which is what the fake reads)."""
    manifest = json.dumps([{"Config": "c.json", "RepoTags": list(tags), "Layers": []}]).encode()
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    old = time.time() - 60  # not "still being copied"
    os.utime(path, (old, old))
    return path


class CountingRuntime(FakeRuntime):
    def __init__(self, images: list[str] | None = None, registry: list[str] | None = None) -> None:
        super().__init__(images=images or [], registry=registry or [])
        self.loads: list[str] = []
        self.refuse: set[str] = set()

    async def import_image_archive(self, path: Path) -> list[str]:
        self.loads.append(path.name)
        return await super().import_image_archive(path)

    async def remove_image(self, ref: str) -> None:
        if ref in self.refuse:
            raise ContainerRuntimeError(f"remove image {ref}: image is in use by a container")
        await super().remove_image(ref)


# --- airgap ----------------------------------------------------------------------------------


@pytest.fixture
def airgap(tmp_path: Path) -> Path:
    directory = tmp_path / "agent" / "images"
    directory.mkdir(parents=True)
    return directory


async def test_archives_load_once(airgap: Path) -> None:
    """An archive is loaded at the first scan and not again while its size and mtime stay."""
    runtime = CountingRuntime()
    docker_archive(airgap / "app.tar", "localhost/app:1")
    (airgap / "notes.txt").write_text("not an archive")
    importer = AirgapImporter(runtime, airgap)
    assert await importer.scan() == ["localhost/app:1"]
    assert await importer.scan() == []
    assert runtime.loads == ["app.tar"]
    assert "localhost/app:1" in runtime.images
    assert importer.imported_names() == {"localhost/app:1"}
    assert importer.state_file == airgap.parent / "images-imported.json"


async def test_added_and_replaced_archives_load(airgap: Path) -> None:
    """A new archive, or one replaced (new size or mtime), is loaded on the next scan."""
    runtime = CountingRuntime()
    importer = AirgapImporter(runtime, airgap)
    assert await importer.scan() == []
    docker_archive(airgap / "a.tar.gz", "localhost/a:1")
    assert await importer.scan() == ["localhost/a:1"]
    docker_archive(airgap / "a.tar.gz", "localhost/a:2")
    os.utime(airgap / "a.tar.gz", (time.time() - 30, time.time() - 30))
    assert await importer.scan() == ["localhost/a:2"]
    assert runtime.loads == ["a.tar.gz", "a.tar.gz"]


async def test_state_survives_a_restart(airgap: Path) -> None:
    """A restarted agent does not load again what it loaded before, unless storage lost it."""
    runtime = CountingRuntime()
    docker_archive(airgap / "a.tar", "localhost/a:1")
    docker_archive(airgap / "b.tar", "localhost/b:1")
    await AirgapImporter(runtime, airgap).scan()
    assert await AirgapImporter(runtime, airgap).scan() == []
    await runtime.remove_image("localhost/b:1")  # storage wiped or pruned by hand
    assert await AirgapImporter(runtime, airgap).scan() == ["localhost/b:1"]
    assert runtime.loads == ["a.tar", "b.tar", "b.tar"]


async def test_broken_archive_is_not_retried_until_it_changes(airgap: Path) -> None:
    """A file that is not an image archive is tried once; fixed, it loads."""
    runtime = CountingRuntime()
    (airgap / "bad.tar").write_bytes(b"garbage")
    os.utime(airgap / "bad.tar", (time.time() - 60, time.time() - 60))
    importer = AirgapImporter(runtime, airgap)
    assert await importer.scan() == []
    assert await importer.scan() == []
    assert runtime.loads == ["bad.tar"]
    docker_archive(airgap / "bad.tar", "localhost/fixed:1")
    assert await importer.scan() == ["localhost/fixed:1"]


async def test_a_file_being_copied_waits(airgap: Path) -> None:
    """An archive modified within settle_seconds is left for a later poll."""
    runtime = CountingRuntime()
    path = docker_archive(airgap / "new.tar", "localhost/new:1")
    os.utime(path, None)  # just now
    importer = AirgapImporter(runtime, airgap, settle_seconds=30)
    assert await importer.scan() == []
    os.utime(path, (time.time() - 60, time.time() - 60))
    assert await importer.scan() == ["localhost/new:1"]


async def test_removed_archives_are_forgotten(airgap: Path) -> None:
    """Deleting an archive drops it from the state (its image stays loaded, but unpinned)."""
    runtime = CountingRuntime()
    docker_archive(airgap / "a.tar", "localhost/a:1")
    importer = AirgapImporter(runtime, airgap)
    await importer.scan()
    (airgap / "a.tar").unlink()
    await importer.scan()
    assert importer.imported_names() == set()
    assert json.loads(importer.state_file.read_text()) == {"archives": {}}


# --- garbage collection ----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def usage_of(runtime: FakeRuntime, *, per_image: float = 10.0, base: float = 30.0) -> float:
    """Fake usage: every image costs `per_image` percent on top of `base`."""
    return base + per_image * len(runtime.images)


async def run_container(runtime: FakeRuntime, image: str) -> None:
    spec = PodSandboxSpec(uid=f"u-{image}", namespace="n", name=image.replace("/", "-").replace(":", "-"))
    sandbox = await runtime.create_pod_sandbox(spec)
    await runtime.create_container(sandbox.id, ContainerSpec(name="c", image=image), spec)


async def test_collects_oldest_unused_until_below_low_mark() -> None:
    """Above 85 %: unused images go, least recently used first, until usage is under 80 %; used ones stay."""
    clock = Clock()
    runtime = CountingRuntime(
        images=["old:1", "older:1", "used:1", "localhost/podman-pause:4.3"], registry=["new:1", "newest:1"]
    )
    gc = ImageGarbageCollector(runtime, lambda: usage_of(runtime), clock=clock)
    await run_container(runtime, "used:1")
    await gc.observe()  # t=0: old, older, used and pause first seen
    clock.t = 100
    await runtime.ensure_image("new:1", PullPolicy.IF_NOT_PRESENT)
    assert await gc.collect() == []  # 5 images: 80 %, not above 85 %
    clock.t = 200
    await runtime.ensure_image("newest:1", PullPolicy.IF_NOT_PRESENT)
    # 6 images: 90 %. The two unused images first seen at t=0 go first: 80 %, then 70 % < 80 %.
    assert sorted(await gc.collect()) == ["old:1", "older:1"]
    assert set(runtime.images) == {"used:1", "localhost/podman-pause:4.3", "new:1", "newest:1"}


async def test_recently_used_images_go_last() -> None:
    """An image in use until recently is removed after images nobody used."""
    clock = Clock()
    runtime = CountingRuntime(images=["a:1", "b:1", "c:1"])
    gc = ImageGarbageCollector(runtime, lambda: usage_of(runtime, per_image=20, base=40), clock=clock)
    await run_container(runtime, "a:1")
    await gc.observe()
    clock.t = 50
    await gc.observe()  # a:1 seen in use at t=50
    for sandbox in await runtime.list_pod_sandboxes():
        await runtime.remove_pod_sandbox(sandbox.id)
    # 100 %: b and c (last seen at t=0) go before a (used at t=50): 80 %, then 60 %.
    assert sorted(await gc.collect()) == ["b:1", "c:1"]
    assert set(runtime.images) == {"a:1"}


async def test_refused_removal_is_skipped() -> None:
    """An image the runtime refuses to remove (used outside our view) is skipped, the next one taken."""
    runtime = CountingRuntime(images=["a:1", "b:1"])
    runtime.refuse = {"a:1"}
    gc = ImageGarbageCollector(runtime, lambda: usage_of(runtime, per_image=30, base=30))
    assert await gc.collect() == ["b:1"]
    assert set(runtime.images) == {"a:1"}


async def test_pinned_images_are_kept() -> None:
    """Pinned names (airgap imports) and the pause image are never removed, even above the mark."""
    runtime = CountingRuntime(images=["air:1", "localhost/podman-pause:4.3"])
    gc = ImageGarbageCollector(runtime, lambda: 99.0, pinned=lambda: {"air:1"})
    assert await gc.collect() == []
    assert set(runtime.images) == {"air:1", "localhost/podman-pause:4.3"}


def test_marks_must_be_ordered() -> None:
    """A low mark above the high mark is a configuration error."""
    with pytest.raises(ValueError):
        ImageGarbageCollector(FakeRuntime(), lambda: 0.0, high_percent=70, low_percent=80)


def test_disk_usage_of_a_real_filesystem(tmp_path: Path) -> None:
    """statvfs gives a percentage between 0 and 100."""
    assert 0.0 <= disk_usage_percent(tmp_path) <= 100.0


async def test_manager_pins_airgap_images(tmp_path: Path) -> None:
    """The manager imports first, then collects; airgap images survive a full disk."""
    settings = ImageSettings(airgap_dir=tmp_path / "agent" / "images", settle_seconds=0, poll_seconds=0.05)
    settings.airgap_dir.mkdir(parents=True)
    docker_archive(settings.airgap_dir / "air.tar", "localhost/air:1")
    runtime = CountingRuntime(images=["stale:1"])
    manager = ImageManager(runtime, settings, usage=lambda: 99.0)
    task = asyncio.create_task(manager.run())
    try:
        async with asyncio.timeout(5):
            while True:  # until the first collection has run
                if "stale:1" not in runtime.images:
                    break
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert set(runtime.images) == {"localhost/air:1"}


SUFFIXES = {"gzip": "gz", "xz": "xz", "bzip2": "bz2", "zstd": "zst"}


def pack(plain: Path, packed: Path, compression: str) -> None:
    if compression == "zstd":
        subprocess.run(["zstd", "-q", "-o", str(packed), str(plain)], check=True)
        return
    data = plain.read_bytes()
    packers: dict[str, Callable[[bytes], bytes]] = {
        "gzip": gzip.compress,
        "xz": lzma.compress,
        "bzip2": bz2.compress,
    }
    packed.write_bytes(packers[compression](data))


@pytest.mark.parametrize("compression", sorted(SUFFIXES))
async def test_compressed_archives_are_decompressed_first(airgap: Path, compression: str) -> None:
    """Compressed archives reach the runtime as a plain tarball in a temporary file, removed afterwards."""
    plain = docker_archive(airgap.parent / "plain.tar", "localhost/z:1")
    packed = airgap / f"z.tar.{SUFFIXES[compression]}"
    pack(plain, packed, compression)
    os.utime(packed, (time.time() - 60, time.time() - 60))
    assert detect_compression(packed) == compression and detect_compression(plain) is None
    runtime = CountingRuntime()
    importer = AirgapImporter(runtime, airgap)
    assert await importer.scan() == ["localhost/z:1"]
    [loaded] = runtime.loads
    assert loaded.startswith(".airgap-") and not (airgap.parent / loaded).exists()
