"""Namespace deletion: empty a Terminating namespace, then let it go; and keep the system
namespaces from being deleted at all.

`emptying` deletes everything inside one namespace and reports what is left;
`terminating` is the controller; `protecting` is the admission plug-in for deletes.
"""

from edgekube.controllers.namespaces.protecting import SYSTEM_NAMESPACES, protect_system_namespaces
from edgekube.controllers.namespaces.terminating import NamespaceController

__all__ = ["SYSTEM_NAMESPACES", "NamespaceController", "protect_system_namespaces"]
