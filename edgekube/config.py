"""Server settings: one dataclass of grouped dataclasses, filled from defaults, the YAML
config file, `EDGEKUBE_*` environment variables and flags, in that order of precedence
(a flag beats the environment, which beats the file).

Flag names follow k3s where the concept is the same; config-file keys equal the flag names
(`https-listen-port: 6443`), environment variables are `EDGEKUBE_` plus the flag name in
upper case with `_` for `-` (`EDGEKUBE_HTTPS_LISTEN_PORT=6443`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgekube.settings_sources import SettingsError, env_name, parse_bool, read_config_file

DEFAULT_CONFIG_FILE = Path("/etc/edgekube/config.yaml")


@dataclass
class NetworkSettings:
    bind_address: str = "0.0.0.0"
    """Address the API listens on."""
    https_listen_port: int = 6443
    """TCP port of the HTTPS API."""
    advertise_address: str = ""
    """Address clients and agents use to reach this server ('' : the first non-loopback)."""
    tls_san: list[str] = field(default_factory=list)
    """Extra DNS names or IPs for the serving certificate."""
    cluster_cidr: str = "10.42.0.0/16"
    """Pod network; each node gets a /24 of it."""
    service_cidr: str = "10.43.0.0/16"
    """Range ClusterIPs are allocated from."""
    cluster_dns: str = "10.43.0.10"
    """ClusterIP of the cluster DNS service."""
    cluster_domain: str = "cluster.local"
    """Cluster DNS domain (SERVICE.NAMESPACE.svc.<domain>)."""


@dataclass
class AccessSettings:
    token: str = ""
    """Admin bearer token ('' : generate one on first start and keep it in the data dir)."""
    write_kubeconfig: str = "/etc/edgekube/edgekube.yaml"
    """Where the admin kubeconfig is written at start."""
    write_kubeconfig_mode: str = "0600"
    """File mode of the admin kubeconfig, in octal."""


@dataclass
class StoreSettings:
    datastore_endpoint: str = ""
    """Database URL ('' : SQLite at <data-dir>/server/state.db)."""
    watch_history: int = 1000
    """Recent events kept in memory so watches resume without reading the database."""
    watcher_buffer: int = 10000
    """Events a watcher may fall behind by before it is closed (the client re-watches)."""
    compaction_interval: float = 60.0
    """Seconds between compaction passes."""
    compaction_retention_seconds: float = 300.0
    """Keep at least this many seconds of history for watches and continue tokens."""
    compaction_retention_events: int = 100_000
    """...and never more than this many events of it."""


@dataclass
class AgentSettings:
    disable_agent: bool = False
    """Do not run the embedded agent (a control-plane-only server)."""
    node_name: str = ""
    """Name of the embedded agent's node ('' : the host name)."""
    node_ip: str = ""
    """InternalIP of the embedded agent's node."""
    node_label: list[str] = field(default_factory=list)
    """Extra labels for the embedded agent's node, as key=value."""
    flannel_backend: str = "host-gw"
    """Pod network backend of the embedded agent: host-gw, vxlan or none."""
    flannel_iface: str = ""
    """Device for node-to-node traffic ('' : the one holding the node IP)."""
    resolv_conf: str = "/etc/resolv.conf"
    """Upstream resolvers for names outside the cluster."""
    disable_network_policy: bool = False
    """Do not enforce NetworkPolicy on the embedded agent's node."""


@dataclass
class ControllerSettings:
    node_monitor_period: float = 5.0
    """Seconds between checks of node leases."""
    node_monitor_grace_period: float = 40.0
    """Seconds without a lease renewal before a node is marked Ready=Unknown and tainted."""
    default_toleration_seconds: int = 300
    """tolerationSeconds given to pods for the not-ready and unreachable taints."""
    disable_controllers: bool = False
    """Serve the API only: no scheduler, no controllers (for tests of the bare API)."""


@dataclass
class LogSettings:
    log_format: str = "auto"
    """console, json, or auto (console on a terminal, JSON otherwise)."""
    log_level: str = "info"
    """debug, info, warning or error."""


@dataclass
class ServerSettings:
    data_dir: Path = Path("/var/lib/edgekube")
    """State: server/state.db, server/tls/, agent/."""
    network: NetworkSettings = field(default_factory=NetworkSettings)
    access: AccessSettings = field(default_factory=AccessSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    agent: AgentSettings = field(default_factory=AgentSettings)
    controllers: ControllerSettings = field(default_factory=ControllerSettings)
    logging: LogSettings = field(default_factory=LogSettings)

    @property
    def server_dir(self) -> Path:
        return self.data_dir / "server"


@dataclass(frozen=True)
class Option:
    """One setting as the command line, the environment and the config file name it."""

    flag: str
    group: str  # attribute of ServerSettings holding it ('' : top level)
    help: str
    kind: Callable[[str], Any] = str
    repeated: bool = False
    switch: bool = False

    @property
    def attr(self) -> str:
        return self.flag.replace("-", "_")

    @property
    def env(self) -> str:
        return env_name(self.flag)


SERVER_OPTIONS: tuple[Option, ...] = (
    Option("data-dir", "", "Folder for all state", Path),
    Option("bind-address", "network", "Address the API listens on"),
    Option("https-listen-port", "network", "HTTPS port of the API", int),
    Option("advertise-address", "network", "Address clients and agents use to reach this server"),
    Option("tls-san", "network", "Extra DNS name or IP for the serving certificate (repeatable)", repeated=True),
    Option("cluster-cidr", "network", "Pod network CIDR"),
    Option("service-cidr", "network", "Service ClusterIP CIDR"),
    Option("cluster-dns", "network", "Cluster DNS service IP"),
    Option("cluster-domain", "network", "Cluster DNS domain"),
    Option("token", "access", "Admin bearer token (default: generated and kept in the data dir)"),
    Option("write-kubeconfig", "access", "Where to write the admin kubeconfig"),
    Option("write-kubeconfig-mode", "access", "File mode of the admin kubeconfig (octal)"),
    Option("datastore-endpoint", "store", "Database URL (default: SQLite in the data dir)"),
    Option("watch-history", "store", "Events kept in memory for watch resumes", int),
    Option("watcher-buffer", "store", "Events a watcher may lag by before it is closed", int),
    Option("compaction-interval", "store", "Seconds between compaction passes", float),
    Option("compaction-retention-seconds", "store", "Seconds of history kept for watches", float),
    Option("compaction-retention-events", "store", "Most events of history kept", int),
    Option("node-monitor-period", "controllers", "Seconds between node lease checks", float),
    Option("node-monitor-grace-period", "controllers", "Seconds without a lease before a node is NotReady", float),
    Option("default-toleration-seconds", "controllers", "tolerationSeconds for not-ready/unreachable", int),
    Option("disable-controllers", "controllers", "Run no scheduler or controllers", parse_bool, switch=True),
    Option("disable-agent", "agent", "Do not run the embedded agent", parse_bool, switch=True),
    Option("node-name", "agent", "Node name of the embedded agent"),
    Option("node-ip", "agent", "InternalIP of the embedded agent's node"),
    Option("node-label", "agent", "Label key=value for the embedded agent's node (repeatable)", repeated=True),
    Option("flannel-backend", "agent", "Pod network backend: host-gw, vxlan or none"),
    Option("flannel-iface", "agent", "Device for node-to-node traffic"),
    Option("resolv-conf", "agent", "resolv.conf with the upstream resolvers"),
    Option("disable-network-policy", "agent", "Do not enforce NetworkPolicy", parse_bool, switch=True),
    Option("log-format", "logging", "Log format: auto, console or json"),
    Option("log-level", "logging", "Log level: debug, info, warning, error"),
)


def add_server_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", default=None, help=f"YAML config file (default {DEFAULT_CONFIG_FILE})")
    defaults = ServerSettings()
    for opt in SERVER_OPTIONS:
        default = _get(defaults, opt)
        shown = f" (default {default})" if default not in ("", [], False) else ""
        if opt.switch:
            parser.add_argument(f"--{opt.flag}", action="store_const", const=True, default=None, help=opt.help)
        elif opt.repeated:
            parser.add_argument(f"--{opt.flag}", action="append", default=None, help=opt.help + shown)
        else:
            parser.add_argument(f"--{opt.flag}", default=None, help=opt.help + shown)


def _get(settings: ServerSettings, opt: Option) -> Any:
    holder = getattr(settings, opt.group) if opt.group else settings
    return getattr(holder, opt.attr)


def _set(settings: ServerSettings, opt: Option, value: Any, source: str) -> None:
    holder = getattr(settings, opt.group) if opt.group else settings
    try:
        if opt.repeated:
            items = value if isinstance(value, list) else [v for v in str(value).split(",") if v]
            converted: Any = [opt.kind(str(v)) for v in items]
        elif isinstance(value, bool) and opt.kind is parse_bool:
            converted = value
        else:
            converted = opt.kind(str(value))
    except ValueError as err:
        raise SettingsError(f"{source}: bad value for {opt.flag}: {value!r} ({err})") from err
    setattr(holder, opt.attr, converted)


def load_server_settings(args: argparse.Namespace, environ: dict[str, str] | None = None) -> ServerSettings:
    """Defaults, then the config file, then the environment, then flags."""
    environ = dict(os.environ) if environ is None else environ
    settings = ServerSettings()
    config_path = args.config or environ.get("EDGEKUBE_CONFIG")
    file_values = read_config_file(
        Path(config_path) if config_path else DEFAULT_CONFIG_FILE, required=bool(config_path)
    )
    known = {o.flag for o in SERVER_OPTIONS}
    unknown = sorted(set(file_values) - known)
    if unknown:
        raise SettingsError(f"config file: unknown keys {', '.join(unknown)}")
    for opt in SERVER_OPTIONS:
        if opt.flag in file_values:
            _set(settings, opt, file_values[opt.flag], "config file")
        if opt.env in environ:
            _set(settings, opt, environ[opt.env], f"environment {opt.env}")
        flag_value = getattr(args, opt.attr, None)
        if flag_value is not None:
            _set(settings, opt, flag_value, f"--{opt.flag}")
    _check(settings)
    return settings


def _check(settings: ServerSettings) -> None:
    if not 0 < settings.network.https_listen_port < 65536:
        raise SettingsError(f"https-listen-port {settings.network.https_listen_port} is not a TCP port")
    try:
        int(settings.access.write_kubeconfig_mode, 8)
    except ValueError as err:
        raise SettingsError(f"write-kubeconfig-mode {settings.access.write_kubeconfig_mode!r} is not octal") from err
    if settings.logging.log_format not in ("auto", "console", "json"):
        raise SettingsError(f"log-format must be auto, console or json, not {settings.logging.log_format!r}")


def parse_flags(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    return parser.parse_args(list(argv))
