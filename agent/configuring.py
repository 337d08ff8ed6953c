"""Agent settings from flags, `EDGEKUBE_*` variables and the config file, in that order of precedence.

As for the server (edgekube.config): config-file keys equal the flag names, variables are
EDGEKUBE_ plus the flag name upper-cased with `_` for `-`. The agent and the server may
share one config file (/etc/edgekube/config.yaml); keys that only the server knows are
ignored here, keys nobody knows are an error.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.settings import AgentSettings
from edgekube.config import DEFAULT_CONFIG_FILE, SERVER_OPTIONS
from edgekube.settings_sources import SettingsError, env_name, parse_bool, read_config_file


def _labels(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"expected key=value, not {text!r}")
    return key.strip(), value.strip()


BACKENDS = ("host-gw", "vxlan", "none")


def _backend(text: str) -> str:
    if text not in BACKENDS:
        raise ValueError(f"choose one of {', '.join(BACKENDS)}")
    return text


@dataclass(frozen=True)
class Option:
    flag: str
    path: str
    """Where the value goes: 'group.field' or 'field' of AgentSettings."""
    help: str
    kind: Callable[[str], Any] = str
    pairs: bool = False
    """Repeatable key=value, collected into a dict."""
    switch: bool = False

    @property
    def env(self) -> str:
        return env_name(self.flag)


AGENT_OPTIONS: tuple[Option, ...] = (
    Option("data-dir", "data_dir", "Folder for all state (agent state in <data-dir>/agent)", Path),
    Option("server", "connection.server", "URL of the server, e.g. https://10.0.0.2:6443"),
    Option("token", "connection.token", "Bearer token for the server"),
    Option("token-file", "connection.token", "File holding the bearer token", lambda p: Path(p).read_text().strip()),
    Option("ca-file", "connection.ca_file", "PEM file of the CA that signed the server's certificate"),
    Option("kubeconfig", "connection.kubeconfig", "kubeconfig to take server, token and CA from"),
    Option("node-name", "node.name", "Node name (default: the host name)"),
    Option("node-ip", "node.ip", "InternalIP of the node (default: the default route's source address)"),
    Option("node-label", "node.labels", "Label key=value for the node (repeatable)", pairs=True),
    Option("max-pods", "node.max_pods", "Pods this node takes", int),
    Option("runtime", "runtime.oci_runtime", "OCI runtime: runc or crun"),
    Option("podman-socket", "runtime.podman_socket", "Use this Podman API socket instead of starting our own"),
    Option("runtime-label", "runtime.extra_labels", "Label key=value for every sandbox and container", pairs=True),
    Option("lease-interval", "heartbeat.lease_interval", "Seconds between Lease renewals", float),
    Option("status-check-interval", "heartbeat.status_check_interval", "Seconds between node status checks", float),
    Option("crash-backoff", "pods.backoff_initial", "Seconds of the first crash-loop back-off", float),
    Option("crash-backoff-max", "pods.backoff_max", "Longest crash-loop back-off, in seconds", float),
    Option("resync-interval", "pods.resync_interval", "Seconds between looks at each pod's containers", float),
    Option("streaming-port", "streaming.port", "Port of the logs/exec server", int),
    Option(
        "disable-streaming", "streaming.enabled", "Do not serve logs and exec", lambda t: not parse_bool(t), switch=True
    ),
    Option("flannel-backend", "network.backend", "Pod network backend: host-gw, vxlan or none", _backend),
    Option("flannel-iface", "network.interface", "Device for node-to-node traffic (default: the node IP's)"),
    Option("cluster-cidr", "network.cluster_cidr", "Pod network CIDR (each node gets a /24)"),
    Option("service-cidr", "network.service_cidr", "Service ClusterIP CIDR"),
    Option("cluster-dns", "network.cluster_dns", "Address of the cluster DNS resolver"),
    Option("cluster-domain", "network.cluster_domain", "Cluster DNS domain"),
    Option("resolv-conf", "network.resolv_conf", "resolv.conf with the upstream resolvers"),
    Option("network-mtu", "network.mtu", "MTU of pod interfaces (default: from the node interface)", int),
    Option(
        "disable-network-policy",
        "network.network_policy",
        "Do not enforce NetworkPolicy",
        lambda t: not parse_bool(t),
        switch=True,
    ),
    Option("log-format", "logging.log_format", "Log format: auto, console or json"),
    Option("log-level", "logging.log_level", "Log level: debug, info, warning, error"),
)


def add_agent_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", default=None, help=f"YAML config file (default {DEFAULT_CONFIG_FILE})")
    for opt in AGENT_OPTIONS:
        dest = opt.flag.replace("-", "_")
        if opt.switch:
            parser.add_argument(
                f"--{opt.flag}", dest=dest, action="store_const", const="true", default=None, help=opt.help
            )
        elif opt.pairs:
            parser.add_argument(f"--{opt.flag}", dest=dest, action="append", default=None, metavar="K=V", help=opt.help)
        else:
            parser.add_argument(f"--{opt.flag}", dest=dest, default=None, help=opt.help)


def _apply(settings: AgentSettings, opt: Option, value: Any, source: str) -> None:
    *groups, attr = opt.path.split(".")
    holder: Any = settings
    for group in groups:
        holder = getattr(holder, group)
    try:
        if opt.pairs:
            items = value if isinstance(value, list) else [v for v in str(value).split(",") if v.strip()]
            converted: Any = {**getattr(holder, attr), **dict(_labels(str(v)) for v in items)}
        elif isinstance(value, bool) and opt.switch:
            converted = opt.kind(str(value).lower())
        else:
            converted = opt.kind(str(value))
    except (ValueError, OSError) as err:
        raise SettingsError(f"{source}: bad value for {opt.flag}: {value!r} ({err})") from err
    setattr(holder, attr, converted)


def load_agent_settings(args: argparse.Namespace, environ: dict[str, str] | None = None) -> AgentSettings:
    """Defaults, then the config file, then the environment, then flags."""
    environ = dict(os.environ) if environ is None else environ
    settings = AgentSettings()
    config_path = getattr(args, "config", None) or environ.get("EDGEKUBE_CONFIG")
    values = read_config_file(Path(config_path) if config_path else DEFAULT_CONFIG_FILE, required=bool(config_path))
    known = {o.flag for o in AGENT_OPTIONS} | {o.flag for o in SERVER_OPTIONS}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SettingsError(f"config file: unknown keys {', '.join(unknown)}")
    for opt in AGENT_OPTIONS:
        if opt.flag in values:
            _apply(settings, opt, values[opt.flag], "config file")
        if opt.env in environ:
            _apply(settings, opt, environ[opt.env], f"environment {opt.env}")
        flag_value = getattr(args, opt.flag.replace("-", "_"), None)
        if flag_value is not None:
            _apply(settings, opt, flag_value, f"--{opt.flag}")
    if settings.logging.log_format not in ("auto", "console", "json"):
        raise SettingsError(f"log-format must be auto, console or json, not {settings.logging.log_format!r}")
    return settings
