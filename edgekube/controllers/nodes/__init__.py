"""Node health and what follows from it: three controllers sharing the Node and Pod informers.

- `lifecycle.NodeLifecycleController`: agents that stop renewing their Lease get their
  node's conditions set to Unknown; taints follow conditions (rate-limited per zone).
- `evicting.TaintEvictionController`: pods leave nodes whose NoExecute taints they do not
  tolerate, at once or after their `tolerationSeconds`.
- `podgc.PodGCController`: pods no agent will ever finish (node gone, or unreachable past
  the pod's grace) are force-deleted.
Pure helpers: `taints` (matching, eviction deadlines), `health` (conditions to taints),
`disruption` (zone states and rate limits), `timing` (the clock and stored timestamps).
"""

from edgekube.controllers.nodes.evicting import TaintEvictionController
from edgekube.controllers.nodes.lifecycle import NodeLifecycleController
from edgekube.controllers.nodes.podgc import PodGCController

__all__ = ["NodeLifecycleController", "PodGCController", "TaintEvictionController"]
