"""Test images built locally from busybox-static: no registry is reachable on CI.

`ensure_busybox_image` builds `localhost/busybox:latest` once (a rootfs with the static
busybox, its applets as symlinks, /tmp and /www/index.html, imported with `podman import`)
and skips the build when the image exists with the same content label. `build_image_archive`
makes a distinct image, saves it as a docker-archive tarball and removes it from storage,
which is what a user carries to an airgapped node.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path

BUSYBOX_IMAGE = "localhost/busybox:latest"
CONTENT_LABEL = "io.edgekube.test-image-content"
INDEX_HTML = "hello from busybox\n"
APPLETS = (
    "sh", "sleep", "httpd", "wget", "nc", "cat", "echo", "ls", "ip", "hostname",
    "yes", "head", "tr", "id", "touch", "cut", "env", "pwd", "true", "false",
    "mkdir", "rm", "ps", "kill", "dd", "test", "[", "grep", "date",
    # the networking acceptance tests (tests/e2e/network): CGI scripts, DNS and loops
    "chmod", "nslookup", "ping", "printf", "seq", "sort", "uniq", "wc", "sed", "timeout",
)  # fmt: skip
_FORMAT = "1"  # bump when the layout below changes, so existing images are rebuilt


class ImageBuildError(RuntimeError):
    pass


def busybox_binary() -> Path:
    """The static busybox binary (the busybox-static package), or a clear error."""
    for candidate in ("/bin/busybox", "/usr/bin/busybox", shutil.which("busybox")):
        if candidate and Path(candidate).is_file():
            path = Path(candidate)
            if _is_dynamic_elf(path.read_bytes()):
                raise ImageBuildError(f"{path} is dynamically linked: install busybox-static (packaging/test.sh)")
            return path
    raise ImageBuildError("busybox is not installed: run `bash packaging/test.sh` (installs busybox-static)")


def _is_dynamic_elf(data: bytes) -> bool:
    """True if the ELF file has a PT_INTERP program header (needs a dynamic loader)."""
    if data[:4] != b"\x7fELF" or data[4] != 2:  # only 64-bit ELF is checked
        return False
    endian = "<" if data[5] == 1 else ">"
    (phoff,) = struct.unpack_from(endian + "Q", data, 0x20)
    phentsize, phnum = struct.unpack_from(endian + "HH", data, 0x36)
    for i in range(phnum):
        (p_type,) = struct.unpack_from(endian + "I", data, phoff + i * phentsize)
        if p_type == 3:
            return True
    return False


def rootfs_tar(busybox: bytes) -> bytes:
    """A deterministic rootfs tarball: same input, same bytes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for directory, mode in (("bin", 0o755), ("etc", 0o755), ("tmp", 0o1777), ("www", 0o755)):
            _add(tar, directory, tarfile.DIRTYPE, mode)
        _add(tar, "bin/busybox", tarfile.REGTYPE, 0o755, busybox)
        for applet in APPLETS:
            _add(tar, f"bin/{applet}", tarfile.SYMTYPE, 0o777, link="busybox")
        _add(tar, "etc/passwd", tarfile.REGTYPE, 0o644, b"root:x:0:0:root:/:/bin/sh\n")
        _add(tar, "etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\n")
        _add(tar, "www/index.html", tarfile.REGTYPE, 0o644, INDEX_HTML.encode())
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.linkname, info.size = kind, mode, 0, link, len(data)
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


class Podman:
    """The podman CLI with the environment and storage options of the service under test."""

    def __init__(self, env: Mapping[str, str] | None = None, global_args: Sequence[str] = ()) -> None:
        self.env = dict(env) if env is not None else None
        self.global_args = list(global_args)

    def run(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["podman", *self.global_args, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        if check and done.returncode != 0:
            raise ImageBuildError(f"podman {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout.strip()

    def label(self, image: str, key: str) -> str | None:
        """The image's label `key`, '' if unset, None if the image does not exist."""
        done = subprocess.run(
            ["podman", *self.global_args, "image", "inspect", "--format", f'{{{{index .Labels "{key}"}}}}', image],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            return None
        return done.stdout.strip().replace("<no value>", "")

    def import_rootfs(self, tar_path: Path, name: str, labels: Mapping[str, str]) -> None:
        changes = [arg for key, value in labels.items() for arg in ("--change", f"LABEL {key}={value}")]
        self.run("import", *changes, "--change", 'CMD ["sh"]', str(tar_path), name)


def ensure_busybox_image(podman: Podman, work_dir: Path) -> str:
    """Build localhost/busybox:latest unless it exists with the same content; its name."""
    busybox = busybox_binary().read_bytes()
    tar = rootfs_tar(busybox)
    content = hashlib.sha256(_FORMAT.encode() + tar).hexdigest()[:32]
    if podman.label(BUSYBOX_IMAGE, CONTENT_LABEL) == content:
        return BUSYBOX_IMAGE
    tar_path = work_dir / "busybox-rootfs.tar"
    tar_path.write_bytes(tar)
    podman.import_rootfs(tar_path, BUSYBOX_IMAGE, {CONTENT_LABEL: content})
    return BUSYBOX_IMAGE


def build_image_archive(podman: Podman, work_dir: Path, name: str) -> Path:
    """A docker-archive of a fresh image `name` that is then removed from storage."""
    tar_path = work_dir / "archive-rootfs.tar"
    tar_path.write_bytes(rootfs_tar(busybox_binary().read_bytes()))
    # a label of its own gives the image its own id, so removing it leaves busybox alone
    podman.import_rootfs(tar_path, name, {"io.edgekube.test-archive": name})
    archive = work_dir / "image-archive.tar"
    archive.unlink(missing_ok=True)
    podman.run("save", "--format", "docker-archive", "-o", str(archive), name)
    podman.run("rmi", name)
    return archive
