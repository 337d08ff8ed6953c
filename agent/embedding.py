"""The server's embedded agent: settings for an agent that runs inside `edgekube server`.

It talks to its own server through the admin kubeconfig the server wrote (URL, CA,
token), keeps its state in the same data dir (<data-dir>/agent), and reports 127.0.0.1
as its node IP unless `--node-ip` says otherwise.
"""

from __future__ import annotations

from pathlib import Path

from agent.configuring import BACKENDS
from agent.running import run_agent
from agent.settings import AgentSettings, ConnectionSettings, LogSettings, NetworkSettings, NodeSettings
from edgekube.config import ServerSettings
from edgekube.settings_sources import SettingsError


def embedded_settings(server: ServerSettings, kubeconfig: Path) -> AgentSettings:
    labels: dict[str, str] = {}
    for item in server.agent.node_label:
        key, sep, value = item.partition("=")
        if sep and key.strip():
            labels[key.strip()] = value.strip()
    if server.agent.flannel_backend not in BACKENDS:
        choices = ", ".join(BACKENDS)
        raise SettingsError(f"flannel-backend must be one of {choices}, not {server.agent.flannel_backend!r}")
    network = NetworkSettings(
        backend=server.agent.flannel_backend,
        cluster_cidr=server.network.cluster_cidr,
        service_cidr=server.network.service_cidr,
        cluster_dns=server.network.cluster_dns,
        cluster_domain=server.network.cluster_domain,
        resolv_conf=server.agent.resolv_conf,
        interface=server.agent.flannel_iface,
        network_policy=not server.agent.disable_network_policy,
    )
    return AgentSettings(
        data_dir=server.data_dir,
        connection=ConnectionSettings(kubeconfig=str(kubeconfig)),
        node=NodeSettings(name=server.agent.node_name, ip=server.agent.node_ip or "127.0.0.1", labels=labels),
        network=network,
        logging=LogSettings(server.logging.log_format, server.logging.log_level),
    )


async def run_embedded(server: ServerSettings, kubeconfig: Path) -> None:
    """Run the embedded agent until cancelled (the server cancels it when it stops)."""
    await run_agent(embedded_settings(server, kubeconfig))
