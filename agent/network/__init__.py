"""Pod networking, routes between nodes, Service NAT and NetworkPolicy: the agent's CNI and kube-proxy.

Only this package speaks netlink (pyroute2) and nftables (`nft`), as only `agent/runtime`
speaks to Podman. Everything here runs as root in the node's network namespace; nothing
here touches a table, link or route that EdgeKube did not create.
"""
