"""Kubernetes defaults for a pod spec, in place: the pod's own and its workloads' templates.

Templates (Deployments, ReplicaSets, DaemonSets) get the spec defaults only; a pod
itself also gets what Kubernetes adds to pods alone: `enableServiceLinks`, its
priority, requests copied from limits, host ports under `hostNetwork`. Defaulting never
overrides a value the user gave, and runs again on every update, so each step is
idempotent. Values of the wrong type are left alone for validation to report.

As in Kubernetes, a string field that is empty counts as unset, and so do the
non-optional probe counters when zero (Go cannot tell 0 from absent there).
"""

from __future__ import annotations

from typing import Any

from edgekube.resources.kinds.pod_resources import default_requests_from_limits
from edgekube.resources.kinds.pod_volumes import volume_sources
from edgekube.resources.kinds.workload_causes import as_int, dicts, text
from edgekube.resources.objects import set_default

DEFAULT_SCHEDULER = "default-scheduler"
DEFAULT_GRACE_SECONDS = 30
TERMINATION_LOG = "/dev/termination-log"
# 0644: what the kubelet gives projected files unless told otherwise.
DEFAULT_FILE_MODE = 420
# The built-in priority classes that exist in every cluster, with their values.
SYSTEM_PRIORITIES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}

_PROBE_COUNTERS = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_MODED_SOURCES = ("configMap", "secret", "projected", "downwardAPI")


def default_pod_spec(spec: Any, *, template: bool) -> None:
    """Apply the pod-spec defaults; `template=False` adds those only a real pod gets."""
    if not isinstance(spec, dict):
        return
    _blank(spec, "dnsPolicy", "ClusterFirst")
    _blank(spec, "restartPolicy", "Always")
    set_default(spec, "securityContext", {})
    set_default(spec, "terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
    _blank(spec, "schedulerName", DEFAULT_SCHEDULER)
    _service_account(spec)
    for _, volume in dicts(spec.get("volumes")):
        default_volume(volume)
    for key in _CONTAINER_LISTS:
        for _, container in dicts(spec.get(key)):
            default_container(container)
    if not template:
        _pod_only(spec)


def _pod_only(spec: dict[str, Any]) -> None:
    set_default(spec, "enableServiceLinks", True)
    # The priority admission step: a class's value, 0 without one; we serve no
    # PriorityClass objects, so only the built-in classes have a value above 0.
    class_name = text(spec.get("priorityClassName"))
    set_default(spec, "priority", SYSTEM_PRIORITIES.get(class_name, 0))
    set_default(spec, "preemptionPolicy", "PreemptLowerPriority")
    host_network = spec.get("hostNetwork") is True
    for key in ("initContainers", "containers"):
        for _, container in dicts(spec.get(key)):
            default_requests_from_limits(container)
            if host_network:
                # On the host's network a container port is a host port.
                for _, port in dicts(container.get("ports")):
                    if as_int(port.get("containerPort")) is not None:
                        _unset_or_zero(port, "hostPort", port["containerPort"])


def _service_account(spec: dict[str, Any]) -> None:
    """`serviceAccount` is the deprecated spelling of `serviceAccountName`; keep them equal."""
    name = text(spec.get("serviceAccountName")) or text(spec.get("serviceAccount"))
    if name:
        spec["serviceAccountName"] = name
        spec["serviceAccount"] = name


def default_container(container: dict[str, Any]) -> None:
    """Defaults of one container (init and ephemeral containers too)."""
    _blank(container, "imagePullPolicy", pull_policy(text(container.get("image"))))
    _blank(container, "terminationMessagePath", TERMINATION_LOG)
    _blank(container, "terminationMessagePolicy", "File")
    set_default(container, "resources", {})
    for _, port in dicts(container.get("ports")):
        _blank(port, "protocol", "TCP")
    for _, var in dicts(container.get("env")):
        source = var.get("valueFrom")
        if isinstance(source, dict) and isinstance(source.get("fieldRef"), dict):
            _blank(source["fieldRef"], "apiVersion", "v1")
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(container.get(key), dict):
            default_probe(container[key])
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        for hook in ("postStart", "preStop"):
            if isinstance(lifecycle.get(hook), dict):
                _default_handler(lifecycle[hook])


def pull_policy(image: str) -> str:
    """`Always` for a `latest` or missing tag (the image may move), else `IfNotPresent`.

    nginx -> Always; nginx:1.27 -> IfNotPresent; nginx@sha256:... -> IfNotPresent
    (a digest pins the image); localhost:5000/nginx -> Always (that colon is the port).
    """
    return "Always" if image_tag(image) == "latest" else "IfNotPresent"


def image_tag(image: str) -> str:
    """The tag of an image reference: "latest" when neither a tag nor a digest is given."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.split(":", 1)[1]
    return "" if digest else "latest"


def default_probe(probe: dict[str, Any]) -> None:
    """Probe timing and handler defaults."""
    for key, value in _PROBE_COUNTERS.items():
        _unset_or_zero(probe, key, value)
    _default_handler(probe)
    grpc = probe.get("grpc")
    if isinstance(grpc, dict):
        set_default(grpc, "service", "")


def _default_handler(handler: dict[str, Any]) -> None:
    http_get = handler.get("httpGet")
    if isinstance(http_get, dict):
        _blank(http_get, "path", "/")
        _blank(http_get, "scheme", "HTTP")


def default_volume(volume: dict[str, Any]) -> None:
    """A volume without a source is an emptyDir; projected files get mode 0644."""
    if not volume_sources(volume):
        volume["emptyDir"] = {}
        return
    for key in _MODED_SOURCES:
        if isinstance(volume.get(key), dict):
            set_default(volume[key], "defaultMode", DEFAULT_FILE_MODE)
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict):
        set_default(host_path, "type", "")
    projected = volume.get("projected")
    if isinstance(projected, dict):
        for _, source in dicts(projected.get("sources")):
            token = source.get("serviceAccountToken")
            if isinstance(token, dict):
                set_default(token, "expirationSeconds", 3600)


def _blank(obj: dict[str, Any], key: str, value: Any) -> None:
    """Set `obj[key]` when it is missing, null or the empty string."""
    if obj.get(key) in (None, ""):
        obj[key] = value


def _unset_or_zero(obj: dict[str, Any], key: str, value: Any) -> None:
    """Set `obj[key]` when it is missing, null or 0 (a Go int that cannot be absent)."""
    current = obj.get(key)
    if current is None or as_int(current) == 0:
        obj[key] = value
