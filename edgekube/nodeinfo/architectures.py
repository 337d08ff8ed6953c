"""Machine names as Kubernetes spells them (`kubernetes.io/arch`, `/version` platform)."""

from __future__ import annotations

import platform

# uname machine -> GOARCH, the spelling Kubernetes uses.
_GOARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "i686": "386",
    "i386": "386",
    "riscv64": "riscv64",
}


def kubernetes_arch(machine: str | None = None) -> str:
    """`arm64` on a Raspberry Pi 4/5 running a 64-bit OS, `amd64` on x86; `machine` defaults to this one."""
    name = (machine if machine is not None else platform.machine()).lower()
    return _GOARCH.get(name, name)
