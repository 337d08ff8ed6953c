"""The scheduler: pending pods in, one node per pod out, through small plugins.

Flow: informers feed a `SchedulerCache` (one `NodeInfo` per node: the node, its pods,
their summed requests and ports) and a `SchedulingQueue` of pending pods. The loop pops
one pod at a time and runs the `Algorithm`: pre-filter -> filter a sample of the nodes ->
pre-score -> score -> normalize -> weighted sum -> the best node (ties broken at random).
The pod is then *assumed* on that node in the cache, so the next decision already counts
it, while the binding write runs in the background; a failed bind forgets it again.

Plugins answer with a `Status` (success, unschedulable, unresolvable, error, skip), never
with exceptions for expected rejections; each lives in `plugins/` with its Kubernetes name
and reason strings, and `registry.py` finds it by name for a `Profile`.
"""
