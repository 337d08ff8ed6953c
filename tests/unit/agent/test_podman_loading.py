"""podman-py is imported without the charset detector `requests` would load (agent memory)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import agent.runtime.podman
import requests.compat
print(requests.compat.chardet is None, "charset_normalizer" in sys.modules)
import charset_normalizer
print(charset_normalizer.__name__)
"""


def test_requests_is_imported_without_a_charset_detector() -> None:
    """A fresh agent process has no detector loaded, and a later explicit import still works."""
    out = subprocess.run([sys.executable, "-W", "error", "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False", "charset_normalizer"]
