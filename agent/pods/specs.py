"""From a Pod to what the runtime runs: one `PodSandboxSpec` and a `ContainerSpec` per container. Pure.

Kubernetes semantics kept here: `command` replaces the image's entrypoint and `args` its
cmd, both with `$(VAR)` expanded from the container's environment; CPU and memory limits
become cgroup limits (requests become CPU shares); the container's securityContext
overrides the pod's for the fields both have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from agent.pods.envs import EnvError
from agent.pods.expansion import expand
from agent.pods.labels import LABEL_NODE
from agent.runtime.interface import (
    ContainerSpec,
    DnsFiles,
    Mount,
    NetworkMode,
    PodSandboxSpec,
    Port,
    PullPolicy,
    Resources,
    SecurityContext,
)
from edgekube.resources.kinds.pod_quantities import parse_quantity

Obj = dict[str, Any]


def _dict(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def pod_uid(pod: Obj) -> str:
    return str(_dict(pod.get("metadata")).get("uid", ""))


def sandbox_spec(
    pod: Obj, *, node_name: str, extra_labels: Mapping[str, str], dns: DnsFiles | None = None
) -> PodSandboxSpec:
    """The sandbox of `pod`; `dns` are the files the pod network wrote for it (None: the image's own)."""
    meta, spec = _dict(pod.get("metadata")), _dict(pod.get("spec"))
    return PodSandboxSpec(
        uid=str(meta.get("uid", "")),
        namespace=str(meta.get("namespace", "")),
        name=str(meta.get("name", "")),
        hostname=str(spec.get("hostname") or ""),
        network=NetworkMode.HOST if spec.get("hostNetwork") is True else NetworkMode.NONE,
        labels={**extra_labels, LABEL_NODE: node_name},
        share_pid=spec.get("shareProcessNamespace") is True,
        dns=dns,
    )


def pull_policy(container: Obj) -> PullPolicy:
    """The container's imagePullPolicy (the server defaults it; the same rule again if it did not)."""
    given = container.get("imagePullPolicy")
    if given in {p.value for p in PullPolicy}:
        return PullPolicy(given)
    image = str(container.get("image", ""))
    tagged = ":" in image.rsplit("/", 1)[-1]
    return (
        PullPolicy.ALWAYS
        if "@" not in image and (not tagged or image.endswith(":latest"))
        else PullPolicy.IF_NOT_PRESENT
    )


def _millis(value: Any) -> int | None:
    if value is None:
        return None
    return int(parse_quantity(value) * 1000)


def _bytes(value: Any) -> int | None:
    return None if value is None else int(parse_quantity(value))


def resources(container: Obj) -> Resources:
    """Limits and the CPU request; a request without a limit is only a share of the CPU."""
    res = _dict(container.get("resources"))
    limits, requests = _dict(res.get("limits")), _dict(res.get("requests"))
    try:
        return Resources(
            memory_limit_bytes=_bytes(limits.get("memory")),
            cpu_limit_millis=_millis(limits.get("cpu")),
            cpu_request_millis=_millis(requests.get("cpu", limits.get("cpu"))),
        )
    except ValueError as err:
        raise EnvError(f"resources: {err}") from err


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def security(pod: Obj, container: Obj) -> SecurityContext:
    """The container's securityContext over the pod's; runAsNonRoot is checked here."""
    pod_sc, sc = _dict(_dict(pod.get("spec")).get("securityContext")), _dict(container.get("securityContext"))
    user = _int(sc.get("runAsUser"))
    user = user if user is not None else _int(pod_sc.get("runAsUser"))
    group = _int(sc.get("runAsGroup"))
    group = group if group is not None else _int(pod_sc.get("runAsGroup"))
    non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    if non_root is True and not user:
        # The image's user is not known here; without runAsUser it may be root, so refuse as the kubelet would.
        raise EnvError("container has runAsNonRoot and image will run as root (set a non-zero runAsUser)")
    groups = [g for g in pod_sc.get("supplementalGroups") or [] if _int(g) is not None]
    fs_group = _int(pod_sc.get("fsGroup"))
    if fs_group is not None and fs_group not in groups:
        groups.append(fs_group)
    caps = _dict(sc.get("capabilities"))
    return SecurityContext(
        run_as_user=user,
        run_as_group=group,
        supplemental_groups=tuple(groups),
        privileged=sc.get("privileged") is True,
        read_only_root_filesystem=sc.get("readOnlyRootFilesystem") is True,
        allow_privilege_escalation=sc.get("allowPrivilegeEscalation") is not False,
        capabilities_add=_strings(caps.get("add")),
        capabilities_drop=_strings(caps.get("drop")),
    )


def ports(container: Obj) -> tuple[Port, ...]:
    out: list[Port] = []
    for p in container.get("ports") or []:
        if isinstance(p, dict) and _int(p.get("containerPort")):
            protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"
            if p.get("protocol") in ("UDP", "SCTP"):
                protocol = "UDP" if p["protocol"] == "UDP" else "SCTP"
            out.append(Port(int(p["containerPort"]), protocol, str(p.get("name") or "")))
    return tuple(out)


def container_spec(
    pod: Obj,
    container: Obj,
    *,
    env: Mapping[str, str],
    mounts: Sequence[Mount],
    restart_count: int,
    node_name: str,
    extra_labels: Mapping[str, str],
) -> ContainerSpec:
    """The runtime spec of one container; raises EnvError for what cannot be run as written."""
    return ContainerSpec(
        name=str(container.get("name", "")),
        image=str(container.get("image", "")),
        command=tuple(expand(c, env) for c in _strings(container.get("command"))),
        args=tuple(expand(a, env) for a in _strings(container.get("args"))),
        env=dict(env),
        working_dir=str(container.get("workingDir") or ""),
        ports=ports(container),
        mounts=tuple(mounts),
        resources=resources(container),
        security=security(pod, container),
        restart_count=restart_count,
        tty=container.get("tty") is True,
        stdin=container.get("stdin") is True,
        labels={**extra_labels, LABEL_NODE: node_name},
    )


def grace_period(pod: Obj, default: float) -> float:
    """Seconds a stopping pod gets: its deletionGracePeriodSeconds, else terminationGracePeriodSeconds."""
    meta, spec = _dict(pod.get("metadata")), _dict(pod.get("spec"))
    for value in (meta.get("deletionGracePeriodSeconds"), spec.get("terminationGracePeriodSeconds")):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return max(0.0, float(value))
    return default
