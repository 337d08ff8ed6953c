"""Translation between the runtime interface's dataclasses and libpod's JSON.

Pure functions, no I/O: requests are libpod `SpecGenerator` / `PodSpecGenerator` bodies
(built here rather than through podman-py's docker-style keyword mapping, which drops
some fields silently), answers are the inspect and list rows of Podman 4.x and 5.x.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from agent.runtime.interface import (
    LABEL_MANAGED,
    ContainerId,
    ContainerSpec,
    ContainerState,
    ContainerStats,
    ContainerStatus,
    ContainerSummary,
    ImageId,
    ImageInfo,
    Mount,
    NetworkMode,
    PodSandboxSpec,
    Sandbox,
    SandboxId,
)

_STATES = {
    "configured": ContainerState.CREATED,
    "created": ContainerState.CREATED,
    "initialized": ContainerState.CREATED,
    "running": ContainerState.RUNNING,
    "paused": ContainerState.RUNNING,
    "stopping": ContainerState.RUNNING,
    "stopped": ContainerState.EXITED,
    "exited": ContainerState.EXITED,
}


def sandbox_body(spec: PodSandboxSpec) -> dict[str, Any]:
    share = ["ipc", "net", "uts"] + (["pid"] if spec.share_pid else [])
    return {
        "name": spec.runtime_name(),
        "infra_name": f"{spec.runtime_name()}_infra",
        "labels": {**spec.labels, **spec.adoption_labels()},
        "hostname": spec.effective_hostname(),
        "netns": {"nsmode": "host" if spec.network is NetworkMode.HOST else "none"},
        "share": share,
    }


def container_body(
    sandbox: SandboxId, spec: ContainerSpec, sandbox_spec: PodSandboxSpec, *, log_max_bytes: int
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": spec.runtime_name(sandbox_spec),
        "pod": sandbox,
        "image": spec.image,
        "labels": spec.labels_for(sandbox_spec),
        "env": dict(spec.env),
        "terminal": spec.tty,
        "stdin": spec.stdin,
        "mounts": [_mount(m) for m in _all_mounts(spec, sandbox_spec)],
        "resource_limits": _resource_limits(spec),
        "log_configuration": {"driver": "k8s-file", "size": log_max_bytes},
    }
    # Kubernetes semantics, which libpod shares: a command replaces the entrypoint and drops
    # the image's cmd; args alone replace only the cmd.
    if spec.command:
        body["entrypoint"] = list(spec.command)
    if spec.args:
        body["command"] = list(spec.args)
    if spec.working_dir:
        body["work_dir"] = spec.working_dir
        body["create_working_dir"] = True
    body.update(_security(spec))
    return body


def _all_mounts(spec: ContainerSpec, sandbox_spec: PodSandboxSpec) -> list[Mount]:
    mounts = list(spec.mounts)
    dns = sandbox_spec.dns
    if dns is not None and dns.resolv_conf is not None:
        mounts.append(Mount(dns.resolv_conf, "/etc/resolv.conf", read_only=True))
    if dns is not None and dns.hosts is not None:
        mounts.append(Mount(dns.hosts, "/etc/hosts", read_only=True))
    return mounts


def _mount(mount: Mount) -> dict[str, Any]:
    return {
        "type": "bind",
        "source": str(mount.host_path),
        "destination": mount.container_path,
        "options": ["rbind", "ro" if mount.read_only else "rw"],
    }


def _resource_limits(spec: ContainerSpec) -> dict[str, Any]:
    res = spec.resources
    limits: dict[str, Any] = {}
    if res.memory_limit_bytes is not None:
        # swap equal to the limit: no swap on top of it, as Kubernetes expects
        limits["memory"] = {"limit": res.memory_limit_bytes, "swap": res.memory_limit_bytes}
    cpu: dict[str, int] = {}
    quota = res.cpu_quota_us()
    if quota is not None:
        cpu.update(quota=quota, period=res.cpu_period_us)
    shares = res.cpu_shares()
    if shares is not None:
        cpu["shares"] = shares
    if cpu:
        limits["cpu"] = cpu
    return limits


def _security(spec: ContainerSpec) -> dict[str, Any]:
    sec = spec.security
    body: dict[str, Any] = {
        "privileged": sec.privileged,
        "read_only_filesystem": sec.read_only_root_filesystem,
        "no_new_privileges": not sec.allow_privilege_escalation,
    }
    if sec.run_as_user is not None:
        body["user"] = str(sec.run_as_user) + (f":{sec.run_as_group}" if sec.run_as_group is not None else "")
    elif sec.run_as_group is not None:
        body["user"] = f"0:{sec.run_as_group}"
    if sec.supplemental_groups:
        body["groups"] = [str(g) for g in sec.supplemental_groups]
    if sec.capabilities_add:
        body["cap_add"] = [_capability(c) for c in sec.capabilities_add]
    if sec.capabilities_drop:
        body["cap_drop"] = [_capability(c) for c in sec.capabilities_drop]
    return body


def _capability(name: str) -> str:
    upper = name.upper()
    return upper if upper == "ALL" or upper.startswith("CAP_") else f"CAP_{upper}"


def label_filters(labels: Mapping[str, str] | None) -> str:
    """The `filters` query value selecting our objects that carry all of `labels`."""
    wanted = {LABEL_MANAGED: "true", **(labels or {})}
    return json.dumps({"label": [f"{k}={v}" for k, v in wanted.items()]})


def parse_time(value: Any) -> datetime | None:
    """Podman's RFC 3339 times (nanoseconds, 'Z') or unix seconds; its zero time is None."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC) if value > 0 else None
    if not isinstance(value, str) or not value or value.startswith("0001-01-01"):
        return None
    text = value.replace("Z", "+00:00")
    date, sep, rest = text.partition(".")
    if sep:  # Python takes at most 6 fractional digits
        digits = len(rest) - len(rest.lstrip("0123456789"))
        rest = rest[:digits][:6] + rest[digits:]
        text = f"{date}.{rest}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def container_status(data: Mapping[str, Any]) -> ContainerStatus:
    state = data.get("State") or {}
    config = data.get("Config") or {}
    phase = _STATES.get(str(state.get("Status", "")).lower(), ContainerState.UNKNOWN)
    return ContainerStatus(
        id=ContainerId(data["Id"]),
        name=str(data.get("Name", "")),
        sandbox_id=SandboxId(data.get("Pod") or ""),
        state=phase,
        image=str(data.get("ImageName", "")),
        image_id=ImageId(data.get("Image") or ""),
        labels=dict(config.get("Labels") or {}),
        exit_code=int(state.get("ExitCode", 0)) if phase is ContainerState.EXITED else None,
        started_at=parse_time(state.get("StartedAt")),
        finished_at=parse_time(state.get("FinishedAt")) if phase is ContainerState.EXITED else None,
        oom_killed=bool(state.get("OOMKilled", False)),
        pid=int(state.get("Pid") or 0) or None,
        message=str(state.get("Error") or ""),
    )


def container_summary(row: Mapping[str, Any]) -> ContainerSummary:
    names = row.get("Names") or [""]
    return ContainerSummary(
        id=ContainerId(row["Id"]),
        name=str(names[0]),
        sandbox_id=SandboxId(row.get("Pod") or ""),
        state=_STATES.get(str(row.get("State", "")).lower(), ContainerState.UNKNOWN),
        image=str(row.get("Image", "")),
        labels=dict(row.get("Labels") or {}),
    )


def sandbox_from_row(row: Mapping[str, Any]) -> Sandbox:
    """A `pods/json` row: no infra PID there."""
    infra = row.get("InfraId", "")
    members = row.get("Containers") or []
    ready = any(c.get("Id") == infra and str(c.get("Status", "")).lower() == "running" for c in members)
    return Sandbox(
        id=SandboxId(row["Id"]),
        name=str(row.get("Name", "")),
        labels=dict(row.get("Labels") or {}),
        ready=ready,
        created_at=parse_time(row.get("Created")),
    )


def sandbox_from_inspect(pod: Mapping[str, Any], infra: Mapping[str, Any] | None) -> Sandbox:
    infra_state = (infra or {}).get("State") or {}
    running = str(infra_state.get("Status", "")).lower() == "running"
    return Sandbox(
        id=SandboxId(pod["Id"]),
        name=str(pod.get("Name", "")),
        labels=dict(pod.get("Labels") or {}),
        ready=running,
        created_at=parse_time(pod.get("Created")),
        infra_pid=(int(infra_state.get("Pid") or 0) or None) if running else None,
    )


def image_info(data: Mapping[str, Any]) -> ImageInfo:
    """An image inspect answer or an `images/json` row (they name the tags differently)."""
    tags = data.get("RepoTags") or data.get("Names") or []
    return ImageInfo(
        id=ImageId(str(data.get("Id", "")).removeprefix("sha256:")),
        tags=tuple(str(t) for t in tags),
        digest=str(data.get("Digest", "")),
        size_bytes=int(data.get("Size") or 0),
        labels=dict(data.get("Labels") or {}),
    )


def container_stats(data: Mapping[str, Any]) -> ContainerStats:
    return ContainerStats(
        memory_bytes=int(data.get("MemUsage") or 0),
        cpu_nanos=int(data.get("CPUNano") or 0),
        pids=int(data.get("PIDs") or 0),
    )
