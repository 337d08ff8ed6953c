"""Agent settings: one dataclass of grouped dataclasses, each field with its default, unit and reason.

`agent.configuring` fills them from flags, `EDGEKUBE_*` variables and the config file;
tests and the server's embedded agent build them directly (short backoffs, a shared
Podman socket, extra labels to find what a test created).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ConnectionSettings:
    """How the agent reaches the server: a kubeconfig, or a URL, a token and a CA file."""

    server: str = ""
    """Base URL of the server, e.g. https://10.0.0.2:6443 ('' : the kubeconfig's)."""
    token: str = ""
    """Bearer token ('' : the kubeconfig's)."""
    ca_file: str = ""
    """PEM file of the CA that signed the server's certificate ('' : the kubeconfig's)."""
    kubeconfig: str = ""
    """A kubeconfig to read server, token and CA from, used when `server` is empty."""
    request_timeout: float = 10.0
    """Seconds before one API call counts as failed. Short: an offline server is noticed sooner,
    and nothing the agent sends is large."""


@dataclass
class NodeSettings:
    """The Node this agent registers and runs pods for."""

    name: str = ""
    """Node name ('' : the host name, lower-cased)."""
    ip: str = ""
    """InternalIP address ('' : the source address of the default route, else 127.0.0.1)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Extra labels on the Node (--node-label k=v)."""
    max_pods: int = 110
    """`pods` capacity: how many pods the scheduler may bind here (the kubelet's default)."""
    system_reserved_memory: str = "0"
    """Memory (a quantity) kept from `allocatable` for the system and the agent itself."""
    memory_pressure_available: str = "100Mi"
    """MemoryPressure when MemAvailable falls below this (the kubelet's eviction-hard default)."""
    disk_pressure_available_percent: float = 10.0
    """DiskPressure when the data dir's filesystem has less than this % free (kubelet: 10%)."""
    pid_pressure_available_percent: float = 5.0
    """PIDPressure when fewer than this % of pid_max are free."""


@dataclass
class HeartbeatSettings:
    """The Lease and the node status, as the kubelet writes them."""

    lease_interval: float = 10.0
    """Seconds between Lease renewals (the kubelet's default); also how soon a returning
    server is noticed and watches are restarted."""
    lease_duration_seconds: int = 40
    """`spec.leaseDurationSeconds`: how long a silent node keeps counting as alive."""
    status_check_interval: float = 10.0
    """Seconds between looks at the host (memory, disk, runtime) for the node conditions."""
    status_report_interval: float = 300.0
    """Seconds after which node status is rewritten even when nothing changed (the kubelet's
    nodeStatusReportFrequency). In between only the Lease moves: SD cards wear out."""
    retry_interval: float = 2.0
    """Seconds between attempts to register the node while the server is unreachable."""


@dataclass
class RuntimeSettings:
    """The container runtime: Podman, through its REST API."""

    oci_runtime: str = "runc"
    """runc or crun (or a path). crun fails on hosts with hybrid cgroups (Debian CI); Raspberry
    Pi OS has pure cgroup v2 where crun works."""
    podman_socket: str = ""
    """Use this running Podman API socket instead of starting a service of our own ('' : start
    one on <data-dir>/agent/podman/podman.sock)."""
    extra_labels: dict[str, str] = field(default_factory=dict)
    """Labels put on every sandbox and container next to the adoption labels (tests tag theirs)."""
    manage_images: bool = True
    """Load image archives dropped into <data-dir>/agent/images (the airgap path) and remove
    unused images when the image filesystem fills up (agent.images)."""
    stop_service_on_exit: bool = True
    """Stop our own Podman service when the agent stops. Pods keep running either way (conmon
    supervises them); a restarted agent starts the service afresh."""


@dataclass
class PodSettings:
    """How pods are started, restarted and stopped."""

    backoff_initial: float = 10.0
    """Seconds a crashed container waits before its second restart (the first is at once);
    the wait doubles with each crash (the kubelet's CrashLoopBackOff)."""
    backoff_max: float = 300.0
    """Longest crash-loop wait, in seconds (5 minutes, as the kubelet)."""
    backoff_reset: float = 600.0
    """A container that ran at least this many seconds before exiting starts its backoff afresh."""
    image_backoff_initial: float = 10.0
    """Seconds before retrying a failed image pull (ImagePullBackOff); doubles per failure."""
    image_backoff_max: float = 300.0
    """Longest wait between image pull attempts, in seconds."""
    resync_interval: float = 10.0
    """Seconds between looks at each pod's containers even when nothing was reported (a missed
    exit, a runtime restart); exits are normally seen at once through the runtime's wait."""
    default_grace_period: float = 30.0
    """Seconds between SIGTERM and SIGKILL when a pod gives none."""
    status_retry_max: float = 10.0
    """Longest wait, in seconds, between attempts to send a status while the server is unreachable."""
    sync_retry: float = 2.0
    """Seconds before a pod whose sync failed (runtime unreachable, a bug) is tried again."""
    volume_refresh_interval: float = 30.0
    """Seconds between refreshes of a pod's configMap, secret and downwardAPI files. Kubernetes
    promises changes within about a minute, and a change lands up to one interval plus one
    resync later; more often costs the server a GET per pod each time."""
    offline_start_wait: float = 3.0
    """Seconds a starting agent waits for the server's list of its pods before it carries on
    from the local copy (a reachable server answers in milliseconds)."""


@dataclass
class StreamingSettings:
    """The node's HTTPS server for `kubectl logs` and `kubectl exec`."""

    enabled: bool = True
    """Serve logs and exec at all (needs the streaming module)."""
    address: str = "0.0.0.0"
    """Address it listens on."""
    port: int = 10250
    """TCP port (the kubelet's)."""


@dataclass
class NetworkSettings:
    """Pod networking, Service NAT, cluster DNS and NetworkPolicy (`agent.network`, `agent.dns`)."""

    backend: str = "host-gw"
    """How pods on different nodes reach each other: host-gw (routes via each node's InternalIP,
    nodes on one L2 segment), vxlan (an overlay, for nodes that are not), or none (no pod
    network at all: pods get only loopback, no Service NAT, no DNS; k3s's --flannel-backend)."""
    cluster_cidr: str = "10.42.0.0/16"
    """The pod network; the server gives each node a /24 of it in Node.spec.podCIDR."""
    service_cidr: str = "10.43.0.0/16"
    """Where ClusterIPs come from (traffic to it never leaves through masquerade untranslated)."""
    cluster_dns: str = "10.43.0.10"
    """Address of the cluster DNS resolver that every pod's resolv.conf names."""
    cluster_domain: str = "cluster.local"
    """DNS domain of the cluster: SERVICE.NAMESPACE.svc.<domain>."""
    resolv_conf: str = "/etc/resolv.conf"
    """Upstream resolvers for names outside the cluster, and the file dnsPolicy Default copies."""
    interface: str = ""
    """Device that carries node-to-node traffic ('' : the one holding the node IP; k3s's --flannel-iface)."""
    mtu: int = 0
    """MTU of pod interfaces (0 : the node interface's, less 50 bytes for vxlan)."""
    bridge: str = "ek0"
    """Name of the bridge that the node's pods hang off."""
    vxlan_id: int = 1
    """VXLAN network identifier (flannel's default)."""
    vxlan_port: int = 8472
    """UDP port of the VXLAN overlay (flannel's default; Linux's own default is 8472 too)."""
    nft_table: str = "edgekube"
    """Name of our nftables tables (`ip <name>` for NAT, `ip <name>_filter` for policy); nobody
    else's tables are ever touched."""
    network_policy: bool = True
    """Enforce NetworkPolicy (--disable-network-policy turns it off)."""
    resync_interval: float = 30.0
    """Seconds between full checks of routes and nftables rules against what they should be (drift)."""


@dataclass
class LogSettings:
    log_format: str = "auto"
    """console, json, or auto (console on a terminal, JSON otherwise)."""
    log_level: str = "info"
    """debug, info, warning or error."""


@dataclass
class AgentSettings:
    data_dir: Path = Path("/var/lib/edgekube")
    """State lives in <data-dir>/agent: pods/ (desired pods), status/ (unsent statuses),
    volumes/, podman/ (our Podman service)."""
    connection: ConnectionSettings = field(default_factory=ConnectionSettings)
    node: NodeSettings = field(default_factory=NodeSettings)
    heartbeat: HeartbeatSettings = field(default_factory=HeartbeatSettings)
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    pods: PodSettings = field(default_factory=PodSettings)
    streaming: StreamingSettings = field(default_factory=StreamingSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    logging: LogSettings = field(default_factory=LogSettings)

    @property
    def agent_dir(self) -> Path:
        return self.data_dir / "agent"
