"""LoadBalancer Services on bare metal, as k3s's servicelb does them: every Ready node is an entry point.

`addresses` holds the pure rules (which nodes count, which Services are ours, the ingress
list); `balancing` is the controller that writes `status.loadBalancer` of each Service.
"""

from edgekube.controllers.loadbalancers.balancing import LoadBalancerController

__all__ = ["LoadBalancerController"]
