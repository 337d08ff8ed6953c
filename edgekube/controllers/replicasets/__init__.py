"""The ReplicaSet controller and the pod-level helpers the Deployment controller shares.

`controller` holds the controller; `claiming` (controller references), `readiness`
(active, ready, available), `ranking` (which pods to delete first), `expectations`,
`batching` (slow start), `statuses` and `templating` are small pure or near-pure helpers.
"""

from edgekube.controllers.replicasets.controller import ReplicaSetController

__all__ = ["ReplicaSetController"]
