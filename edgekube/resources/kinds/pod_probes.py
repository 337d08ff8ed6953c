"""Probes (liveness, readiness, startup) and lifecycle hooks (postStart, preStop).

Each probe or hook names exactly one handler: a command to exec, an HTTP GET, a TCP
connect (a gRPC health check for probes, a sleep for hooks). Liveness and startup
probes judge a single success, so their `successThreshold` must be 1.
"""

from __future__ import annotations

from typing import Any

from edgekube.errors import Cause
from edgekube.resources.kinds.pod_ports import validate_port_ref
from edgekube.resources.kinds.workload_causes import check_int, check_ints, required_because
from edgekube.resources.validation import (
    forbidden,
    invalid_value,
    required,
    unsupported_value,
)

PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
HOOK_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")
HTTP_SCHEMES = ("HTTP", "HTTPS")
_PROBE_COUNTERS = (
    "initialDelaySeconds",
    "timeoutSeconds",
    "periodSeconds",
    "successThreshold",
    "failureThreshold",
)


def validate_probe(probe: Any, path: str, *, single_success: bool) -> list[Cause]:
    """Problems with one probe; `single_success` for liveness and startup probes."""
    if not isinstance(probe, dict):
        return []
    causes = _handler(probe, path, PROBE_HANDLERS)
    causes += check_ints(probe, _PROBE_COUNTERS, path)
    causes += check_int(
        probe,
        "terminationGracePeriodSeconds",
        f"{path}.terminationGracePeriodSeconds",
        minimum=1,
        detail="must be greater than 0",
    )
    threshold = probe.get("successThreshold")
    if single_success and isinstance(threshold, int) and threshold != 1:
        causes.append(invalid_value(f"{path}.successThreshold", threshold, "must be 1"))
    return causes


def validate_lifecycle(lifecycle: Any, path: str) -> list[Cause]:
    """Problems with a container's `lifecycle` hooks."""
    if not isinstance(lifecycle, dict):
        return []
    causes: list[Cause] = []
    for hook in ("postStart", "preStop"):
        if isinstance(lifecycle.get(hook), dict):
            causes += _handler(lifecycle[hook], f"{path}.{hook}", HOOK_HANDLERS)
    return causes


def _handler(holder: dict[str, Any], path: str, kinds: tuple[str, ...]) -> list[Cause]:
    """Exactly one handler among `kinds`; the first is checked, the others refused."""
    causes: list[Cause] = []
    found = False
    for kind in kinds:
        if holder.get(kind) is None:
            continue
        if found:
            causes.append(forbidden(f"{path}.{kind}", "may not specify more than 1 handler type"))
            continue
        found = True
        causes += _HANDLER_CHECKS[kind](holder[kind], f"{path}.{kind}")
    if not found:
        causes.append(required_because(path, "must specify a handler type"))
    return causes


def _exec(action: Any, path: str) -> list[Cause]:
    if isinstance(action, dict) and not action.get("command"):
        return [required(f"{path}.command")]
    return []


def _http_get(action: Any, path: str) -> list[Cause]:
    if not isinstance(action, dict):
        return []
    causes: list[Cause] = []
    if not action.get("path"):
        causes.append(required(f"{path}.path"))
    causes += validate_port_ref(action.get("port"), f"{path}.port")
    scheme = action.get("scheme")
    if scheme not in HTTP_SCHEMES:
        causes.append(unsupported_value(f"{path}.scheme", scheme, HTTP_SCHEMES))
    return causes


def _tcp_socket(action: Any, path: str) -> list[Cause]:
    if not isinstance(action, dict):
        return []
    return validate_port_ref(action.get("port"), f"{path}.port")


def _grpc(action: Any, path: str) -> list[Cause]:
    if not isinstance(action, dict):
        return []
    port = action.get("port")
    if isinstance(port, str):
        # gRPC probes take a number only: there is no named-port lookup for them.
        return [invalid_value(f"{path}.port", port, "must be an integer")]
    return validate_port_ref(port, f"{path}.port")


def _sleep(action: Any, path: str) -> list[Cause]:
    return check_int(action, "seconds", f"{path}.seconds")


_HANDLER_CHECKS = {
    "exec": _exec,
    "httpGet": _http_get,
    "tcpSocket": _tcp_socket,
    "grpc": _grpc,
    "sleep": _sleep,
}
