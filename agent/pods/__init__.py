"""Pods on this node: one worker per pod, from the desired pod to running containers and back to a status.

Flow: the pod watch (`dispatching`) keeps the desired pods (from the server, or from the
local copy while it is unreachable) and one `PodWorker` (`working`) per pod uid; each
worker adopts what the runtime already runs for its pod (`adopting`), starts and restarts
containers (`starting`, `backoffs`), stops them on deletion (`terminating`) and renders a
status (`statuses`) that `posting` sends when it changed.
"""
