"""Images on the node: airgap import from a directory, and garbage collection by disk usage.

Airgap (no registry reachable, ARCHITECTURE: edge devices): image archives (`podman
save` / `docker save` tarballs, compressed or not) dropped into `<data-dir>/agent/images/`
are loaded through the runtime at start and whenever one is added or replaced. The
directory is polled (a few seconds; no inotify, which is not there on every edge
filesystem); a small state file remembers each file's size and mtime, so a file is
loaded once, a replaced file again, and a broken file is not retried until it
changes. A file still being copied (modified within `settle_seconds`) waits for the next
poll. At start, archives whose images have vanished from storage are loaded again.
Images loaded this way are pinned: the collector never removes them (the node could not
pull them back).

Garbage collection, the kubelet's rule: when the image filesystem is more than
`gc_high_percent` full, remove images no container uses, least recently used first,
until it is below `gc_low_percent`. "Used" is judged from the runtime's containers
(running or not) and from what this collector saw in use before; images of other
software's containers are protected by the runtime itself, which refuses to remove an
image in use (the error is logged and the image skipped).
"""

from __future__ import annotations

import asyncio
import bz2
import gzip
import io
import json
import lzma
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import structlog

from agent.runtime.errors import ContainerRuntimeError, ImageImportError, RuntimeUnavailableError
from agent.runtime.interface import ImageInfo, Runtime

log = structlog.get_logger(__name__)

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd", ".tar.xz", ".tar.bz2")
"""Docker and OCI archives, plain or compressed. Podman 4's API loads only plain tarballs,
so compressed ones are decompressed to a temporary file first (zstd needs the `zstd` tool)."""
_MAGIC = {b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz", b"BZh": "bzip2", b"\x28\xb5\x2f\xfd": "zstd"}


@dataclass
class ImageSettings:
    airgap_dir: Path = Path("/var/lib/edgekube/agent/images")
    """Image archives to load (`<data-dir>/agent/images`)."""
    state_file: Path | None = None
    """Which archives were loaded (None: `images-imported.json` next to `airgap_dir`)."""
    poll_seconds: float = 5.0
    """How often the airgap directory is scanned for new or replaced archives."""
    settle_seconds: float = 2.0
    """An archive modified this recently may still be being copied in; it waits a poll."""
    pin_airgap_images: bool = True
    """Never garbage-collect images loaded from the airgap directory."""
    storage_path: Path = Path("/var/lib/containers/storage")
    """The image filesystem whose usage triggers garbage collection (Podman's graph root)."""
    gc_high_percent: float = 85.0
    """Usage (percent of the filesystem) above which unused images are removed."""
    gc_low_percent: float = 80.0
    """Usage the collector removes images down to."""
    gc_interval_seconds: float = 300.0
    """How often usage is checked (and images in use are noted)."""
    pinned_prefixes: tuple[str, ...] = ("localhost/podman-pause",)
    """Image names never removed: the sandbox (infra) image, which `list_containers` does not show."""


def disk_usage_percent(path: Path) -> float:
    """How full the filesystem holding `path` is, in percent, as `df` counts it."""
    stats = os.statvfs(path)
    if stats.f_blocks == 0:
        return 0.0
    used = stats.f_blocks - stats.f_bfree
    return 100.0 * used / (used + stats.f_bavail)


# --- airgap import --------------------------------------------------------------------------


@dataclass
class _Loaded:
    size: int
    mtime_ns: int
    names: list[str] = field(default_factory=list)
    error: str = ""


def _is_archive(name: str) -> bool:
    return not name.startswith(".") and name.endswith(ARCHIVE_SUFFIXES)


class AirgapImporter:
    def __init__(
        self, runtime: Runtime, directory: Path, state_file: Path | None = None, *, settle_seconds: float = 2.0
    ) -> None:
        self._runtime = runtime
        self.directory = directory
        self.state_file = state_file or directory.parent / "images-imported.json"
        self._settle = settle_seconds
        self._state: dict[str, _Loaded] | None = None
        self._log = log.bind(directory=str(directory))

    def imported_names(self) -> set[str]:
        """Names of the images loaded from the directory (the pinned ones)."""
        return {n for entry in (self._state or {}).values() for n in entry.names}

    async def run(self, poll_seconds: float = 5.0, *, scan_first: bool = True) -> None:
        """Scan (now, unless not `scan_first`) and every `poll_seconds`, until cancelled."""
        if not scan_first:
            await asyncio.sleep(poll_seconds)
        while True:
            await self.scan_logged()
            await asyncio.sleep(poll_seconds)

    async def scan_logged(self) -> list[str]:
        """`scan`, with failures logged instead of raised (for loops)."""
        try:
            return await self.scan()
        except (OSError, ContainerRuntimeError) as err:
            self._log.warning("airgap scan failed", error=str(err))
            return []

    async def scan(self) -> list[str]:
        """Load new or replaced archives; the image names loaded."""
        first = self._state is None
        if self._state is None:
            self._state = await asyncio.to_thread(self._load_state)
        state = self._state
        files = await asyncio.to_thread(self._archives)
        missing = await self._missing_names() if first else set()
        loaded: list[str] = []
        changed = False
        now_ns = time.time_ns()
        for name, (size, mtime_ns) in sorted(files.items()):
            known = state.get(name)
            if known and (known.size, known.mtime_ns) == (size, mtime_ns) and not (missing & set(known.names)):
                continue
            if now_ns - mtime_ns < self._settle * 1e9:
                continue  # maybe still being copied: next poll
            try:
                names = await self._load(self.directory / name)
            except RuntimeUnavailableError as err:
                self._log.warning("runtime unavailable; airgap import postponed", error=str(err))
                break
            except ImageImportError as err:
                self._log.warning("airgap archive could not be loaded", archive=name, error=str(err))
                state[name] = _Loaded(size, mtime_ns, [], str(err))
            else:
                self._log.info("loaded airgap images", archive=name, images=names)
                state[name] = _Loaded(size, mtime_ns, names)
                loaded += names
            changed = True
        for gone in set(state) - set(files):
            del state[gone]
            changed = True
        if changed:
            await asyncio.to_thread(self._save_state, state)
        return loaded

    async def _load(self, path: Path) -> list[str]:
        compression = await asyncio.to_thread(detect_compression, path)
        if compression is None:
            return await self._runtime.import_image_archive(path)
        scratch = self.state_file.parent
        plain = await asyncio.to_thread(decompress_to_temp, path, compression, scratch)
        try:
            return await self._runtime.import_image_archive(plain)
        finally:
            await asyncio.to_thread(plain.unlink, missing_ok=True)

    async def _missing_names(self) -> set[str]:
        """Recorded image names that storage no longer has (it was wiped or pruned by hand)."""
        recorded = {n for entry in (self._state or {}).values() for n in entry.names}
        if not recorded:
            return set()
        present = {tag for image in await self._runtime.list_images() for tag in image.tags}
        return recorded - present

    def _archives(self) -> dict[str, tuple[int, int]]:
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return {}
        out: dict[str, tuple[int, int]] = {}
        for entry in entries:
            if _is_archive(entry.name) and entry.is_file():
                stat = entry.stat()
                out[entry.name] = (stat.st_size, stat.st_mtime_ns)
        return out

    def _load_state(self) -> dict[str, _Loaded]:
        try:
            raw = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}
        state: dict[str, _Loaded] = {}
        for name, entry in (raw.get("archives") or {}).items() if isinstance(raw, dict) else ():
            try:
                state[name] = _Loaded(int(entry["size"]), int(entry["mtime_ns"]), list(entry["names"]), entry["error"])
            except (KeyError, TypeError, ValueError):
                continue
        return state

    def _save_state(self, state: dict[str, _Loaded]) -> None:
        body = {"archives": {name: vars(entry) for name, entry in sorted(state.items())}}
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.write_text(json.dumps(body, indent=1))
        os.replace(tmp, self.state_file)


def detect_compression(path: Path) -> str | None:
    """'gzip', 'xz', 'bzip2' or 'zstd' by the file's magic bytes; None for a plain tarball."""
    with open(path, "rb") as archive:
        head = archive.read(6)
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)


def decompress_to_temp(path: Path, compression: str, directory: Path) -> Path:
    """Decompress `path` into a new temporary file in `directory`; its path (the caller removes it)."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".airgap-", suffix=".tar", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            if compression == "zstd":
                _unzstd(path, out)
            else:
                with _OPENERS[compression](path) as source:
                    shutil.copyfileobj(source, out, 1 << 20)
    except (OSError, EOFError, lzma.LZMAError, KeyError) as err:
        os.unlink(name)
        raise ImageImportError(f"decompress {path} ({compression}): {err}") from err
    return Path(name)


_OPENERS: dict[str, Callable[[Path], io.BufferedIOBase]] = {
    "gzip": lambda p: gzip.open(p, "rb"),
    "xz": lambda p: lzma.open(p, "rb"),
    "bzip2": lambda p: bz2.open(p, "rb"),
}


def _unzstd(path: Path, out: IO[bytes]) -> None:
    tool = shutil.which("zstd")
    if tool is None:
        raise OSError(f"{path.name} is zstd-compressed and the zstd tool is not installed (apt-get install zstd)")
    done = subprocess.run([tool, "-dc", str(path)], stdout=out, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise OSError(f"zstd: {done.stderr.decode(errors='replace').strip()}")


# --- garbage collection ----------------------------------------------------------------------


class ImageGarbageCollector:
    def __init__(
        self,
        runtime: Runtime,
        usage: Callable[[], float],
        *,
        high_percent: float = 85.0,
        low_percent: float = 80.0,
        pinned: Callable[[], Collection[str]] = frozenset,
        pinned_prefixes: Iterable[str] = ("localhost/podman-pause",),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= low_percent <= high_percent <= 100:
            raise ValueError(f"need 0 <= low ({low_percent}) <= high ({high_percent}) <= 100")
        self._runtime = runtime
        self._usage = usage
        self.high_percent = high_percent
        self.low_percent = low_percent
        self._pinned = pinned
        self._pinned_prefixes = tuple(pinned_prefixes)
        self._clock = clock
        self.last_used: dict[str, float] = {}
        """Image id -> when it was last seen in use (or first seen at all)."""

    async def run(self, interval_seconds: float = 300.0) -> None:
        """Collect every `interval_seconds` until cancelled."""
        while True:
            try:
                await self.collect()
            except (OSError, ContainerRuntimeError) as err:
                log.warning("image garbage collection failed", error=str(err))
            await asyncio.sleep(interval_seconds)

    async def observe(self) -> tuple[list[ImageInfo], set[str]]:
        """Note which images are in use now; all images and the ids in use."""
        images = await self._runtime.list_images()
        in_use = await self._ids_in_use(images)
        now = self._clock()
        for image in images:
            if image.id in in_use:
                self.last_used[image.id] = now
            else:
                self.last_used.setdefault(image.id, now)
        for gone in set(self.last_used) - {i.id for i in images}:
            del self.last_used[gone]
        return images, in_use

    async def _ids_in_use(self, images: list[ImageInfo]) -> set[str]:
        by_ref = {tag: image.id for image in images for tag in image.tags}
        used: set[str] = set()
        for summary in await self._runtime.list_containers():
            if summary.image in by_ref:
                used.add(by_ref[summary.image])
                continue
            try:  # created by a short name or by id: the container knows its image id
                status = await self._runtime.inspect_container(summary.id)
            except ContainerRuntimeError:
                continue
            used.add(str(status.image_id).removeprefix("sha256:"))
        return used

    async def collect(self) -> list[str]:
        """Remove unused images if usage is above the high mark; the references removed."""
        images, in_use = await self.observe()
        usage = await asyncio.to_thread(self._usage)
        if usage <= self.high_percent:
            return []
        log.info("image filesystem above the high mark; removing unused images", usage=round(usage, 1))
        removed: list[str] = []
        for image in self._candidates(images, in_use):
            refs = list(image.tags) or [image.id]
            try:
                for ref in refs:
                    await self._runtime.remove_image(ref)
            except ContainerRuntimeError as err:  # in use by something we do not see, or busy
                log.info("image not removed", image=refs[0], error=str(err))
                continue
            removed += refs
            self.last_used.pop(image.id, None)
            usage = await asyncio.to_thread(self._usage)
            if usage < self.low_percent:
                break
        log.info("image garbage collection done", removed=removed, usage=round(usage, 1))
        return removed

    def _candidates(self, images: list[ImageInfo], in_use: set[str]) -> list[ImageInfo]:
        """Unused, unpinned images, least recently used first (ties: by id, so runs are repeatable)."""
        pinned = set(self._pinned())
        out = [
            image
            for image in images
            if image.id not in in_use
            and not pinned.intersection(image.tags)
            and not any(tag.startswith(self._pinned_prefixes) for tag in image.tags)
        ]
        return sorted(out, key=lambda image: (self.last_used.get(image.id, 0.0), image.id))


# --- both, as the agent runs them ---------------------------------------------------------------


class ImageManager:
    """The airgap importer and the garbage collector, configured from `ImageSettings`."""

    def __init__(self, runtime: Runtime, settings: ImageSettings, *, usage: Callable[[], float] | None = None) -> None:
        self.settings = settings
        self.importer = AirgapImporter(
            runtime, settings.airgap_dir, settings.state_file, settle_seconds=settings.settle_seconds
        )
        pinned = self.importer.imported_names if settings.pin_airgap_images else frozenset
        self.collector = ImageGarbageCollector(
            runtime,
            usage or (lambda: disk_usage_percent(settings.storage_path)),
            high_percent=settings.gc_high_percent,
            low_percent=settings.gc_low_percent,
            pinned=pinned,
            pinned_prefixes=settings.pinned_prefixes,
        )

    async def run(self) -> None:
        """Import and collect until cancelled (start it as one task of the agent).

        The first import runs before the first collection, so airgap images are pinned by then.
        """
        try:
            await asyncio.to_thread(self.settings.airgap_dir.mkdir, parents=True, exist_ok=True)
        except OSError as err:
            log.warning("cannot create the airgap image directory", error=str(err))
        await self.importer.scan_logged()
        async with asyncio.TaskGroup() as tasks:
            poll = self.settings.poll_seconds
            tasks.create_task(self.importer.run(poll, scan_first=False), name="airgap-import")
            tasks.create_task(self.collector.run(self.settings.gc_interval_seconds), name="image-gc")
