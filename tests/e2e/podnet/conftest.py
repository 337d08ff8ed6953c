"""A one-device lab (tests.support.netlab) running the agent with pod networking on, for tests/e2e/podnet.

The server and the agent run inside namespaces the lab creates, whose default routes end in
a dummy device; nothing is wired in the host's namespace. The cluster is shared by the tests
of a module (they use distinct namespaces and pod names) and torn down after them, also when
a test fails; teardown problems (leftover links, tables, pods) fail the last test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.runtime.podman_service import PodmanService
from tests.e2e.conftest import podman_cli
from tests.support.netlab import Cluster


@pytest.fixture(scope="module")
def cluster(
    podman_service: PodmanService,
    busybox_image: str,
    test_run_label: tuple[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    key, run_id = test_run_label
    made = Cluster.up(
        prefix=f"pn{os.getpid() % 100000}",
        work_dir=Path(tmp_path_factory.mktemp("podnet")),
        backend="host-gw",
        devices=1,
        podman=podman_cli(podman_service),
        podman_socket=podman_service.settings.socket_path,
        run_label=(key, f"{run_id}-podnet"),
    )
    try:
        yield made
    finally:
        problems = made.down()
        if problems:
            print("podnet teardown problems:\n" + "\n".join(problems))
