"""The airgap path on real Podman: a saved image dropped into the directory gets loaded."""

from __future__ import annotations

import gzip
import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.images import AirgapImporter
from agent.runtime.podman import PodmanRuntime, PodmanSettings
from agent.runtime.podman_service import PodmanService

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def runtime(podman_service: PodmanService) -> AsyncIterator[PodmanRuntime]:
    runtime = PodmanRuntime(PodmanSettings(socket_path=podman_service.settings.socket_path))
    try:
        yield runtime
    finally:
        await runtime.close()


def settled(path: Path) -> Path:
    past = time.time() - 60
    os.utime(path, (past, past))
    return path


async def test_dropped_archives_are_loaded(
    runtime: PodmanRuntime, image_archive: tuple[Path, str], tmp_path: Path
) -> None:
    """A docker-archive tarball, and later a gzipped one, dropped into the airgap directory are loaded."""
    archive, name = image_archive
    airgap = tmp_path / "agent" / "images"
    airgap.mkdir(parents=True)
    importer = AirgapImporter(runtime, airgap)
    assert await importer.scan() == []

    shutil.copy(archive, airgap / "app.tar")
    settled(airgap / "app.tar")
    assert name in await importer.scan()
    assert name in {tag for image in await runtime.list_images() for tag in image.tags}
    assert await importer.scan() == []

    await runtime.remove_image(name)
    (airgap / "app2.tar.gz").write_bytes(gzip.compress(archive.read_bytes(), compresslevel=1))
    settled(airgap / "app2.tar.gz")
    assert name in await importer.scan()
    assert name in {tag for image in await runtime.list_images() for tag in image.tags}
