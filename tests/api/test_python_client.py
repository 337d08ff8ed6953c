"""The official `kubernetes` Python client works against the server as against Kubernetes.

Every test builds its own `ApiClient` from the server's admin kubeconfig, leaving the
library's global default configuration alone, and works in its own namespace. The
client is used the way its users use it: plain calls, no extra headers.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client, config, watch

from tests.support.servers import ServerProcess

BUSYBOX = "localhost/busybox:latest"
WATCH_TIMEOUT = 10  # seconds the server keeps a test's watch open at most


@pytest.fixture
def api(shared_server: ServerProcess) -> Iterator[client.ApiClient]:
    """A client of its own for the shared server, built from the admin kubeconfig."""
    cfg = client.Configuration()
    config.load_kube_config(  # type: ignore[no-untyped-call]  # kubernetes.config is untyped
        config_file=str(shared_server.kubeconfig), client_configuration=cfg,
    )
    with client.ApiClient(cfg) as api_client:
        yield api_client


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


def config_map(name: str, labels: dict[str, str] | None = None, **data: str) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data=data)


def deployment(name: str, replicas: int = 2) -> client.V1Deployment:
    labels = {"app": name}
    container = client.V1Container(
        name="httpd", image=BUSYBOX, command=["httpd", "-f", "-p", "8080", "-h", "/www"],
        ports=[client.V1ContainerPort(container_port=8080)],
    )
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[container]),
            ),
        ),
    )


def unscheduled_pod(name: str) -> client.V1Pod:
    """A pod that only the test binds: no scheduler answers to its schedulerName."""
    container = client.V1Container(name="c", image=BUSYBOX, command=["sleep", "3600"])
    spec = client.V1PodSpec(containers=[container], scheduler_name="bound-by-test")
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name), spec=spec)


def at(obj: object, path: str) -> Any:
    """The attribute at a dotted path of a client model (whose fields are all Optional)."""
    for name in path.split("."):
        assert obj is not None, f"{path}: {name} is missing"
        obj = getattr(obj, name)
    return obj


def names(listed: object) -> list[str]:
    return [at(item, "metadata.name") for item in at(listed, "items")]


def version(obj: object) -> int:
    return int(at(obj, "metadata.resource_version"))


# --- create, read, list, patch, delete ---------------------------------------------


def test_config_map_lifecycle(core: client.CoreV1Api, namespace: str) -> None:
    """A ConfigMap can be created, read, listed, patched and deleted; then reading is 404."""
    created = core.create_namespaced_config_map(namespace, config_map("cm", a="1"))
    assert at(created, "metadata.uid") and version(created)
    assert core.read_namespaced_config_map("cm", namespace).data == {"a": "1"}
    assert names(core.list_namespaced_config_map(namespace)) == ["cm"]
    patched = core.patch_namespaced_config_map("cm", namespace, {"data": {"b": "2"}})
    assert patched.data == {"a": "1", "b": "2"}
    assert version(patched) > version(created)
    core.delete_namespaced_config_map("cm", namespace)
    with pytest.raises(client.ApiException) as caught:
        core.read_namespaced_config_map("cm", namespace)
    assert caught.value.status == 404


LABELLED = {
    "a1": {"app": "a", "tier": "front"},
    "a2": {"app": "a", "tier": "back"},
    "b1": {"app": "b", "tier": "front"},
    "c1": {"app": "c"},
    "none": {},
}

SELECTIONS = [
    pytest.param({"label_selector": "app=a"}, ["a1", "a2"], id="equal"),
    pytest.param({"label_selector": "app==a"}, ["a1", "a2"], id="double-equal"),
    pytest.param({"label_selector": "app!=a"}, ["b1", "c1", "none"], id="not-equal"),
    pytest.param({"label_selector": "app=a,tier=front"}, ["a1"], id="and"),
    pytest.param({"label_selector": "app in (a, b)"}, ["a1", "a2", "b1"], id="in"),
    pytest.param({"label_selector": "app notin (a,b)"}, ["c1", "none"], id="notin"),
    pytest.param({"label_selector": "tier"}, ["a1", "a2", "b1"], id="exists"),
    pytest.param({"label_selector": "!tier"}, ["c1", "none"], id="not-exists"),
    pytest.param({"label_selector": "app in (a,b),tier notin (back)"}, ["a1", "b1"], id="set-and-set"),
    pytest.param({"field_selector": "metadata.name=b1"}, ["b1"], id="field-name"),
    pytest.param({"field_selector": "metadata.name!=b1"}, ["a1", "a2", "c1", "none"], id="field-not-name"),
    pytest.param(
        {"field_selector": "metadata.namespace!=nowhere", "label_selector": "app=a"}, ["a1", "a2"],
        id="field-and-label",
    ),
]


@pytest.mark.parametrize(("selectors", "expected"), SELECTIONS)
def test_list_with_selectors(
    core: client.CoreV1Api, namespace: str, selectors: dict[str, Any], expected: list[str],
) -> None:
    """Listing with label and field selectors returns exactly the matching ConfigMaps, by name."""
    for name, labels in LABELLED.items():
        core.create_namespaced_config_map(namespace, config_map(name, labels or None))
    listed = core.list_namespaced_config_map(namespace, **selectors)
    assert sorted(n for n in names(listed) if n in LABELLED) == expected


def test_deployment_lifecycle(apps: client.AppsV1Api, namespace: str) -> None:
    """AppsV1Api creates, reads, lists by label, patches and deletes a Deployment."""
    created = apps.create_namespaced_deployment(namespace, deployment("web"))
    assert at(created, "metadata.generation") == 1
    assert at(created, "spec.strategy.type") == "RollingUpdate"
    assert at(created, "spec.template.spec.containers")[0].image_pull_policy == "Always"
    read = apps.read_namespaced_deployment("web", namespace)
    assert at(read, "metadata.uid") == at(created, "metadata.uid")
    assert names(apps.list_namespaced_deployment(namespace, label_selector="app=web")) == ["web"]
    assert names(apps.list_namespaced_deployment(namespace, label_selector="app=other")) == []
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "httpd", "image": "localhost/busybox:v2"}]}}}}
    patched = apps.patch_namespaced_deployment("web", namespace, patch)
    containers = at(patched, "spec.template.spec.containers")
    assert [c.image for c in containers] == ["localhost/busybox:v2"]
    assert containers[0].command == ["httpd", "-f", "-p", "8080", "-h", "/www"]
    assert at(patched, "metadata.generation") == 2
    apps.delete_namespaced_deployment("web", namespace)
    assert names(apps.list_namespaced_deployment(namespace)) == []


def test_service_lifecycle(core: client.CoreV1Api, namespace: str) -> None:
    """CoreV1Api creates, reads, patches and deletes a ClusterIP Service."""
    service = client.V1Service(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1ServiceSpec(
            selector={"app": "web"},
            ports=[client.V1ServicePort(name="http", port=80, target_port=8080)],
        ),
    )
    created = core.create_namespaced_service(namespace, service)
    assert at(created, "spec.type") == "ClusterIP"
    assert at(created, "spec.ports")[0].protocol == "TCP"
    assert at(core.read_namespaced_service("web", namespace), "spec.selector") == {"app": "web"}
    patch = {"spec": {"ports": [{"name": "metrics", "port": 9090, "targetPort": 9090}]}}
    patched = core.patch_namespaced_service("web", namespace, patch)
    # Strategic merge keys ports by port number: the new one is added, the old one kept.
    assert sorted(p.port for p in at(patched, "spec.ports")) == [80, 9090]
    core.delete_namespaced_service("web", namespace)
    assert names(core.list_namespaced_service(namespace)) == []


def test_replace_with_stale_resource_version(core: client.CoreV1Api, namespace: str) -> None:
    """PUT with an outdated resourceVersion is a 409 Conflict; with the current one it succeeds."""
    stale = core.create_namespaced_config_map(namespace, config_map("cm", a="1"))
    core.patch_namespaced_config_map("cm", namespace, {"data": {"a": "2"}})
    stale.data = {"a": "3"}
    with pytest.raises(client.ApiException) as caught:
        core.replace_namespaced_config_map("cm", namespace, stale)
    assert caught.value.status == 409
    assert json.loads(caught.value.body or "{}").get("reason") == "Conflict"
    assert core.read_namespaced_config_map("cm", namespace).data == {"a": "2"}
    current = core.read_namespaced_config_map("cm", namespace)
    current.data = {"a": "3"}
    assert core.replace_namespaced_config_map("cm", namespace, current).data == {"a": "3"}


# --- watch ---------------------------------------------------------------------------


class WatchThread:
    """`watch.Watch().stream(...)` in a thread, its events handed over through a queue."""

    def __init__(
        self, func: Callable[..., Any], *args: Any, until: str | None = None,
        timeout_seconds: int = WATCH_TIMEOUT, **kwargs: Any,
    ) -> None:
        self.events: queue.Queue[dict[str, Any] | BaseException | None] = queue.Queue()
        self._until = until  # stop after an event of this type, rather than at the timeout
        self._timeout = timeout_seconds
        kwargs["timeout_seconds"] = timeout_seconds
        self._thread = threading.Thread(target=self._run, args=(func, args, kwargs), daemon=True)
        self._thread.start()

    def _run(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            stream = watch.Watch().stream  # type: ignore[no-untyped-call]  # kubernetes.watch is untyped
            for event in stream(func, *args, **kwargs):  # type: ignore[no-untyped-call]
                self.events.put(event)
                if event["type"] == self._until:
                    break
        except BaseException as err:  # handed to the test, which raises it
            self.events.put(err)
        self.events.put(None)

    def next(self, timeout: float = 5.0) -> dict[str, Any] | None:
        """The next event, or None when the stream ended."""
        try:
            item = self.events.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no watch event within {timeout}s")
        if isinstance(item, BaseException):
            raise item
        return item

    def rest(self) -> list[dict[str, Any]]:
        """Every event until the stream ends."""
        found: list[dict[str, Any]] = []
        while (event := self.next(timeout=self._timeout + 5)) is not None:
            found.append(event)
        self._thread.join(timeout=5)
        assert not self._thread.is_alive()
        return found


def summary(event: dict[str, Any]) -> tuple[str, str, dict[str, str] | None]:
    obj = event["object"]
    return event["type"], at(obj, "metadata.name"), obj.data


def test_watch_sees_add_modify_delete(core: client.CoreV1Api, namespace: str) -> None:
    """A watch receives ADDED, MODIFIED and DELETED for a ConfigMap, in order, with rising versions."""
    stream = WatchThread(core.list_namespaced_config_map, namespace, until="DELETED")
    core.create_namespaced_config_map(namespace, config_map("w", a="1"))
    # Waiting for each event keeps the steps apart even if the watch started late: a
    # watch without a resourceVersion first reports every existing object as ADDED.
    events = [stream.next()]
    core.patch_namespaced_config_map("w", namespace, {"data": {"a": "2"}})
    events.append(stream.next())
    core.delete_namespaced_config_map("w", namespace)
    events.append(stream.next())
    assert stream.rest() == []
    assert [summary(e) for e in events if e is not None] == [
        ("ADDED", "w", {"a": "1"}), ("MODIFIED", "w", {"a": "2"}), ("DELETED", "w", {"a": "2"}),
    ]
    versions = [version(e["object"]) for e in events if e is not None]
    assert versions == sorted(versions) and len(set(versions)) == 3


def test_watch_resumes_from_resource_version(core: client.CoreV1Api, namespace: str) -> None:
    """A watch from a resourceVersion gets exactly the events after it, and nothing else."""
    created = core.create_namespaced_config_map(namespace, config_map("w", a="1"))
    core.create_namespaced_config_map(namespace, config_map("other"))
    core.patch_namespaced_config_map("w", namespace, {"data": {"a": "2"}})
    core.delete_namespaced_config_map("w", namespace)
    start = str(version(created))
    # The stream ends at its timeout, so that the test sees nothing arrives after DELETED.
    stream = WatchThread(
        core.list_namespaced_config_map, namespace, resource_version=start,
        field_selector="metadata.name=w", timeout_seconds=1,
    )
    events = stream.rest()
    assert [summary(e) for e in events] == [("MODIFIED", "w", {"a": "2"}), ("DELETED", "w", {"a": "2"})]
    assert all(version(e["object"]) > int(start) for e in events)


# --- paging --------------------------------------------------------------------------


def test_list_pages_with_limit_and_continue(core: client.CoreV1Api, namespace: str) -> None:
    """`limit=2` with `_continue` pages through 5 ConfigMaps in name order, each exactly once."""
    created = [f"cm-{i}" for i in range(5)]
    for name in created:
        core.create_namespaced_config_map(namespace, config_map(name))
    pages: list[list[str]] = []
    token: str | None = None
    while True:
        page = core.list_namespaced_config_map(namespace, limit=2, _continue=token)
        pages.append(names(page))
        token = at(page, "metadata._continue")
        if not token:
            break
        assert len(pages) < 10, "paging does not end"
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [name for p in pages for name in p] == created


# --- subresources --------------------------------------------------------------------


def test_deployment_scale(apps: client.AppsV1Api, namespace: str) -> None:
    """The scale subresource reads and patches spec.replicas of a Deployment."""
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))
    scale = apps.read_namespaced_deployment_scale("web", namespace)
    assert (scale.kind, at(scale, "spec.replicas"), at(scale, "status.selector")) == ("Scale", 2, "app=web")
    patched = apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 4}})
    assert at(patched, "spec.replicas") == 4
    read = apps.read_namespaced_deployment("web", namespace)
    assert (at(read, "spec.replicas"), at(read, "metadata.generation")) == (4, 2)


def test_deployment_status_patch_changes_only_status(apps: client.AppsV1Api, namespace: str) -> None:
    """A patch through the status subresource stores status and ignores spec and labels."""
    apps.create_namespaced_deployment(namespace, deployment("web", replicas=2))
    patch = {
        "metadata": {"labels": {"sneaky": "yes"}},
        "spec": {"replicas": 9},
        "status": {"replicas": 2, "readyReplicas": 1, "observedGeneration": 1},
    }
    patched = apps.patch_namespaced_deployment_status("web", namespace, patch)
    status = at(patched, "status")
    assert (status.replicas, status.ready_replicas, status.observed_generation) == (2, 1, 1)
    read = apps.read_namespaced_deployment("web", namespace)
    assert at(read, "spec.replicas") == 2
    assert at(read, "metadata.generation") == 1
    assert at(read, "metadata.labels") == {"app": "web"}


def bind_via_bindings(core: client.CoreV1Api, namespace: str, name: str, body: client.V1Binding) -> Any:
    return core.create_namespaced_binding(namespace, body, _preload_content=False)


def bind_via_pod_binding(core: client.CoreV1Api, namespace: str, name: str, body: client.V1Binding) -> Any:
    return core.create_namespaced_pod_binding(name, namespace, body, _preload_content=False)


@pytest.mark.parametrize("bind", [bind_via_pod_binding, bind_via_bindings], ids=["pods-binding", "bindings"])
def test_binding_sets_node_name(core: client.CoreV1Api, namespace: str, bind: Callable[..., Any]) -> None:
    """Posting a Binding for a pod sets its spec.nodeName; the answer is a Success Status."""
    core.create_namespaced_pod(namespace, unscheduled_pod("p"))
    # The Status answer does not deserialise as a V1Binding, hence _preload_content=False.
    body = client.V1Binding(
        metadata=client.V1ObjectMeta(name="p"), target=client.V1ObjectReference(kind="Node", name="edge-1"),
    )
    response = bind(core, namespace, "p", body)
    assert response.status == 201
    assert json.loads(response.data)["status"] == "Success"
    assert at(core.read_namespaced_pod("p", namespace), "spec.node_name") == "edge-1"
