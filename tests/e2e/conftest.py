"""Real Podman for the end-to-end tests: our own API service and locally built images.

These tests never skip: on a machine without Podman they fail and say how to install it.
The service uses the system's container storage (so images built once are shared by
test sessions) and a containers.conf of its own (runc, no default ulimits; see HOST.md).
Set EDGEKUBE_TEST_OCI_RUNTIME=crun on a host with pure cgroup v2 to test crun instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from agent.runtime.podman_service import PodmanService, PodmanServiceSettings
from tests.support.images import ImageBuildError, Podman, build_image_archive, ensure_busybox_image

TEST_RUN_LABEL = "io.edgekube.test-run"
_INSTALL_HINT = "run `sudo bash packaging/test.sh` once: it installs podman, runc, conmon and busybox-static"


def require_podman(oci_runtime: str) -> None:
    """Fail (never skip) when the host cannot run the Podman tests."""
    if os.geteuid() != 0:
        pytest.fail(f"the Podman tests run as root (rootful pods with --network none); {_INSTALL_HINT}", pytrace=False)
    missing = [tool for tool in ("podman", "conmon", oci_runtime, "busybox") if shutil.which(tool) is None]
    if missing and not (missing == ["conmon"] and Path("/usr/libexec/podman/conmon").exists()):
        pytest.fail(f"missing {', '.join(missing)}: {_INSTALL_HINT}", pytrace=False)


def run_coroutine(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to the end from sync code, also when the caller's thread runs a loop
    (an async fixture asking for a session fixture with request.getfixturevalue)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def test_run_id() -> str:
    """Names what this session creates, so cleanup removes exactly that."""
    return f"{os.getpid()}-{secrets.token_hex(3)}"


@pytest.fixture(scope="session")
def test_run_label(test_run_id: str) -> tuple[str, str]:
    """Label key and value prefix for everything this session creates (tests add a suffix)."""
    return TEST_RUN_LABEL, test_run_id


@pytest.fixture(scope="session")
def podman_service(tmp_path_factory: pytest.TempPathFactory, test_run_id: str) -> Iterator[PodmanService]:
    """One `podman system service` for the session, on a socket of its own."""
    oci_runtime = os.environ.get("EDGEKUBE_TEST_OCI_RUNTIME", "runc")
    require_podman(oci_runtime)
    state = tmp_path_factory.mktemp("podman")
    settings = PodmanServiceSettings(socket_path=state / "podman.sock", state_dir=state, oci_runtime=oci_runtime)
    service = PodmanService(settings)
    run_coroutine(service.start())
    try:
        yield service
    finally:
        try:
            _remove_leftovers(podman_cli(service), test_run_id)
        finally:
            run_coroutine(service.stop())


def podman_cli(service: PodmanService) -> Podman:
    """The podman CLI seeing what the service sees."""
    return Podman(service.environment(), service.global_args())


def _remove_leftovers(podman: Podman, run_id: str) -> None:
    """Belt and braces: each test removes its own pods; this catches a crashed test's."""
    listed = podman.run("pod", "ps", "--format", "{{.ID}} {{.Labels}}", check=False).splitlines()
    pods = [line.split()[0] for line in listed if f"{TEST_RUN_LABEL}:{run_id}" in line]
    if pods:
        podman.run("pod", "rm", "-f", "-t", "0", *pods, check=False)


@pytest.fixture(scope="session")
def busybox_image(podman_service: PodmanService, tmp_path_factory: pytest.TempPathFactory) -> str:
    """localhost/busybox:latest, built from busybox-static if missing or outdated."""
    try:
        return ensure_busybox_image(podman_cli(podman_service), tmp_path_factory.mktemp("busybox"))
    except ImageBuildError as err:
        pytest.fail(f"{err}; {_INSTALL_HINT}", pytrace=False)


@pytest.fixture(scope="session")
def image_archive(
    podman_service: PodmanService, busybox_image: str, tmp_path_factory: pytest.TempPathFactory, test_run_id: str
) -> Iterator[tuple[Path, str]]:
    """A docker-archive tarball of an image that is not in storage, and that image's name."""
    name = f"localhost/edgekube-airgap-{test_run_id}:latest"
    podman = podman_cli(podman_service)
    try:
        yield build_image_archive(podman, tmp_path_factory.mktemp("archive"), name), name
    finally:
        podman.run("rmi", "--ignore", name, check=False)
