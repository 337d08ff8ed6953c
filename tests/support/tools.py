"""Real tools the tests drive. A missing one fails the test with what to install; never a skip."""

from __future__ import annotations

import shutil

import pytest


def require_kubectl() -> str:
    """The kubectl binary on PATH; fails the test when there is none."""
    found = shutil.which("kubectl")
    if found is None:
        pytest.fail("kubectl is not installed: run `bash packaging/test.sh` (it installs kubernetes-client)")
    return found
