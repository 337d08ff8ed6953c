"""The addresses behind Services: the `Endpoints` object and the `EndpointSlice`s of each
Service with a selector, kept in step with the pods the selector picks.

`selecting` holds the pure rules (which pods, ready or not, which port number each
serves); `subsets` and `slices` compute the desired content of each kind; `watching`
maps pod and Service events to Service keys; `syncing_endpoints` and `syncing_slices`
are the two controllers, as in Kubernetes.
"""

from edgekube.controllers.endpoints.syncing_endpoints import EndpointsController
from edgekube.controllers.endpoints.syncing_slices import EndpointSliceController

__all__ = ["EndpointSliceController", "EndpointsController"]
