"""The DaemonSet controller (`syncing.DaemonSetController`) and its pure parts.

`placing` decides which nodes a daemon belongs on, `pods` makes a daemon pod for a node
and reads pods back, `planning` turns nodes and pods into creates and deletes, `rolling`
picks the old pods a RollingUpdate may take down, `statuses` counts, `expectations` and
`backoff` keep a lagging cache and a failing agent from causing a storm of writes.
"""

from edgekube.controllers.daemonsets.syncing import DaemonSetController

__all__ = ["DaemonSetController"]
