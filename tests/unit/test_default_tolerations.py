"""DefaultTolerationSeconds admission: new pods tolerate not-ready and unreachable for N seconds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from edgekube.resources.registry import default_registry
from edgekube.service.bootstrap import ensure_defaults
from edgekube.service.options import WriteOptions
from edgekube.service.resources import ResourceService
from edgekube.service.tolerations import DefaultTolerationSeconds, add_default_tolerations
from tests.unit.store.conftest import open_store

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


def default(key: str, seconds: int = 300) -> dict[str, Any]:
    return {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], [default(NOT_READY), default(UNREACHABLE)]),
        (None, [default(NOT_READY), default(UNREACHABLE)]),
        # a pod's own terms are kept, and only the missing one is added
        ([default(NOT_READY, 60)], [default(NOT_READY, 60), default(UNREACHABLE)]),
        # no effect means every effect
        (
            [{"key": UNREACHABLE, "operator": "Exists"}],
            [{"key": UNREACHABLE, "operator": "Exists"}, default(NOT_READY)],
        ),
        # an empty key with Exists tolerates every taint, so nothing is added
        ([{"operator": "Exists"}], [{"operator": "Exists"}]),
        # for NoSchedule only: the NoExecute defaults are still added
        (
            [{"key": NOT_READY, "operator": "Exists", "effect": "NoSchedule"}],
            [
                {"key": NOT_READY, "operator": "Exists", "effect": "NoSchedule"},
                default(NOT_READY),
                default(UNREACHABLE),
            ],
        ),
        # unrelated tolerations stay first
        (
            [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}],
            [
                {"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"},
                default(NOT_READY),
                default(UNREACHABLE),
            ],
        ),
    ],
)
def test_add_default_tolerations(given: list[dict[str, Any]] | None, expected: list[dict[str, Any]]) -> None:
    """Added unless covered (key equal or empty, effect NoExecute or empty); never duplicated."""
    spec: dict[str, Any] = {} if given is None else {"tolerations": given}
    add_default_tolerations(spec, 300)
    assert spec["tolerations"] == expected
    again = [dict(t) for t in spec["tolerations"]]
    assert add_default_tolerations(spec, 300) is False
    assert spec["tolerations"] == again


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[ResourceService]:
    store = await open_store(tmp_path / "state.db")
    registry = default_registry()
    svc = ResourceService(store, registry, None)
    await ensure_defaults(svc, registry)
    svc.admission.append(DefaultTolerationSeconds(120))
    yield svc
    await store.close()


def pod(name: str, tolerations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}]}
    if tolerations is not None:
        spec["tolerations"] = tolerations
    return {"metadata": {"name": name}, "spec": spec}


async def test_pod_create_gets_the_configured_seconds(service: ResourceService) -> None:
    """Through the write path, with the server's default-toleration-seconds."""
    pods = service.registry.by_kind("", "v1", "Pod")
    assert pods is not None
    created = await service.create(pods, "default", pod("web"), WriteOptions())
    assert created["spec"]["tolerations"] == [default(NOT_READY, 120), default(UNREACHABLE, 120)]
    stored, _ = await service.read(pods, "default", "web")
    assert stored["spec"]["tolerations"] == created["spec"]["tolerations"]


async def test_custom_toleration_kept(service: ResourceService) -> None:
    """A pod that tolerates unreachable for 10 s keeps that, and gains only not-ready."""
    pods = service.registry.by_kind("", "v1", "Pod")
    assert pods is not None
    created = await service.create(pods, "default", pod("web", [default(UNREACHABLE, 10)]), WriteOptions())
    assert created["spec"]["tolerations"] == [default(UNREACHABLE, 10), default(NOT_READY, 120)]


async def test_updates_and_other_kinds_untouched(service: ResourceService) -> None:
    """Only pod creates are changed: not status writes, not pod templates of workloads."""
    pods = service.registry.by_kind("", "v1", "Pod")
    daemonsets = service.registry.by_kind("apps", "v1", "DaemonSet")
    assert pods is not None and daemonsets is not None
    created = await service.create(pods, "default", pod("web", [{"operator": "Exists"}]), WriteOptions())
    created["status"]["phase"] = "Running"
    updated = await service.update(pods, "default", "web", created, WriteOptions(), subresource="status")
    assert updated["spec"]["tolerations"] == [{"operator": "Exists"}]
    template = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    body = {"metadata": {"name": "a"}, "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": template}}
    ds = await service.create(daemonsets, "default", body, WriteOptions())
    assert "tolerations" not in ds["spec"]["template"]["spec"]
