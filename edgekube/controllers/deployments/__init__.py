"""The Deployment controller: rollouts through ReplicaSets, history, pause and rollback.

`controller` wires informers and the fixed order of cases; each case is a module:
`rolling` and `recreate` (the strategies), `scaling` (resize, also when paused),
`rollback` (an existing ReplicaSet becomes new again), `progress` (status and the
Progressing condition), `history` (revisionHistoryLimit). `rollouts` holds one sync's
state and writes; `sizing`, `proportions`, `revisions`, `hashing`, `conditions` and
`statuses` are pure helpers that table tests cover.
"""

from edgekube.controllers.deployments.controller import DeploymentController

__all__ = ["DeploymentController"]
