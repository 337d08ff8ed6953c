"""Cluster DNS in the agent: a resolver on the cluster DNS address and the pods' resolv.conf.

`serving.run_cluster_dns` answers names under the cluster domain from the Services and
EndpointSlices the agent already watches, and forwards every other name to the node's
own resolvers. `podfiles.resolv_conf_for` writes what a pod's /etc/resolv.conf says,
following Kubernetes' dnsPolicy rules.
"""
