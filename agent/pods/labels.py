"""Labels the agent adds to its sandboxes and containers, next to the runtime's adoption labels.

The runtime's labels (`io.edgekube.pod-uid`, `...container-name`, `...restart-count`)
say which pod and container an object belongs to; `LABEL_NODE` says which agent made it,
so several agents sharing one Podman (tests, a multi-node lab on one machine) never adopt
or clean up each other's pods.
"""

from __future__ import annotations

LABEL_NODE = "io.edgekube.node"
"""The node name of the agent that created the sandbox or container."""

LABEL_IMAGE = "io.edgekube.image"
"""The image as the pod spec named it, on each container: when the spec's changes, the container restarts."""
