"""The garbage collector: deletes dependents whose owners are gone, and acts on the
`foregroundDeletion` and `orphan` finalizers that Foreground and Orphan deletes leave.

`owners` holds the pure rules (reading ownerReferences, classifying each owner);
`graph` finds owners and dependents in the shared informer caches; `collecting` is the
controller.
"""

from edgekube.controllers.garbage.collecting import GarbageCollector

__all__ = ["GarbageCollector"]
