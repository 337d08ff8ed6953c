"""The scheduler's plugins, one module each, named and worded as in Kubernetes.

Filters (in the default profile's order): NodeUnschedulable, NodeName, TaintToleration,
NodeAffinity, NodePorts, NodeResourcesFit, InterPodAffinity. Scores: TaintToleration,
NodeAffinity, NodeResourcesFit (LeastAllocated), NodeResourcesBalancedAllocation,
SelectorSpread, InterPodAffinity.
"""
