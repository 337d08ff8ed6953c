"""pyroute2's netlink classes, loaded without the rest of pyroute2.

`import pyroute2` runs the package's `__init__`, which imports every part of the library
(ndb, ipdb, conntrack, ipvs, wireless, ...): about 9 MB resident in the agent, where the
agent needs only `IPRoute`, `NetNS` and `NetlinkError` (about 3 MB). While these three are
imported, a bare package module stands in for `pyroute2` so its `__init__` does not run;
it is removed straight after, so a later `import pyroute2` anywhere loads the real package
as usual. Every module of agent/network imports netlink classes from here.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any


def _load() -> tuple[Any, Any, Any]:
    if "pyroute2" in sys.modules:  # the whole package is loaded already: nothing to save
        from pyroute2.iproute import IPRoute, NetNS
        from pyroute2.netlink.exceptions import NetlinkError

        return IPRoute, NetNS, NetlinkError
    spec = importlib.util.find_spec("pyroute2")
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError("pyroute2 is not installed (pip install pyroute2)")
    bare = types.ModuleType("pyroute2")
    bare.__path__ = list(spec.submodule_search_locations)
    bare.__spec__ = spec
    sys.modules["pyroute2"] = bare
    try:
        from pyroute2.iproute import IPRoute, NetNS
        from pyroute2.netlink.exceptions import NetlinkError
    finally:
        del sys.modules["pyroute2"]
    return IPRoute, NetNS, NetlinkError


IPRoute, NetNS, NetlinkError = _load()
