"""What a node says about itself, as the kubelet writes it: pure builders, no I/O.

Shared by the real agent (`agent/node/`) and the simulated fleet (`edgekube.simulating`),
so both register Nodes, renew Leases and report conditions in the same shapes. Callers
gather the facts (from the host, or from simulator settings) and send the results.
"""

from edgekube.nodeinfo.leases import lease_object, renewed_lease
from edgekube.nodeinfo.nodes import (
    KUBELET_PORT,
    KUBELET_VERSION,
    NodeFacts,
    node_conditions,
    node_labels,
    node_object,
    node_status,
)
from edgekube.nodeinfo.times import micro_time, now, parse_time, rfc3339

__all__ = [
    "KUBELET_PORT",
    "KUBELET_VERSION",
    "NodeFacts",
    "lease_object",
    "micro_time",
    "node_conditions",
    "node_labels",
    "node_object",
    "node_status",
    "now",
    "parse_time",
    "renewed_lease",
    "rfc3339",
]
