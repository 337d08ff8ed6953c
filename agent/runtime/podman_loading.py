"""podman-py, imported without the character-set detector that `requests` would load with it.

podman-py's client is a `requests` session. At import, `requests` picks up a charset
detector if one is installed (`charset_normalizer`, here about 2.5 MB resident with its
extensions and the CJK codecs it loads) and uses it only to guess the encoding of a body
whose Content-Type names none. The Podman API answers JSON in UTF-8, and `PodmanRuntime`
says so on every response, so the detector would never run; without it `requests`
falls back to UTF-8 as well. We therefore hide the detectors while `requests` is first
imported and unhide them at once: a later `import charset_normalizer` elsewhere works
as usual. When `requests` is already loaded (a test process, say) nothing changes.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator

_DETECTORS = ("chardet", "charset_normalizer")


@contextlib.contextmanager
def _without_charset_detection() -> Iterator[None]:
    if "requests" in sys.modules:
        yield
        return
    hidden = [name for name in _DETECTORS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # None makes `import name` raise ImportError
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Unable to find acceptable character detection")
            yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


with _without_charset_detection():
    from podman import PodmanClient
    from podman.errors import APIError

__all__ = ["APIError", "PodmanClient"]
