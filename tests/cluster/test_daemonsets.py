"""A DaemonSet keeps exactly one pod per matching node as nodes join, leave and are relabelled."""

from __future__ import annotations

from collections import Counter
from typing import Any

from edgekube.client import NODES, PODS, ApiClient, PatchType
from edgekube.simulating import Fleet, HeartbeatSettings, NodeSettings, PodSettings, Settings
from tests.cluster.conftest import eventually

DAEMONSETS_BODY: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "shipper", "namespace": "default"},
    "spec": {
        "selector": {"matchLabels": {"app": "shipper"}},
        "template": {
            "metadata": {"labels": {"app": "shipper"}},
            "spec": {"nodeSelector": {"role": "edge"}, "containers": [{"name": "s", "image": "localhost/ship:1"}]},
        },
    },
}


async def daemon_pods_by_node(api: ApiClient) -> Counter[str]:
    pods = (await api.list(PODS, "default", label_selector="app=shipper")).items
    return Counter(p["spec"].get("nodeName") or "<unbound>" for p in pods if not p["metadata"].get("deletionTimestamp"))


async def test_one_pod_per_matching_node(api: ApiClient, fleet: Fleet) -> None:
    """Join, relabel and leave: the daemon follows, one pod on each node labelled role=edge."""
    from edgekube.client import DAEMONSETS

    await api.create(DAEMONSETS, DAEMONSETS_BODY, "default")

    async def exactly(nodes: set[str]) -> bool:
        got = await daemon_pods_by_node(api)
        return set(got) == nodes and all(n == 1 for n in got.values())

    names = set(fleet.names)
    await eventually(lambda: exactly(names), 20, f"one pod on each of {sorted(names)}")

    joining = Settings(
        nodes=NodeSettings(count=1, name_prefix="late-", labels={"role": "edge"}),
        heartbeat=HeartbeatSettings(lease_interval=0.3),
        pods=PodSettings(start_delay=0.1, ready_delay=0.1, terminate_delay=0.2),
    )
    async with Fleet(api, joining) as late:
        names |= set(late.names)
        await eventually(lambda: exactly(names), 20, "a pod on the joining node")

        relabelled = sorted(fleet.names)[0]
        await api.patch(NODES, relabelled, {"metadata": {"labels": {"role": "gateway"}}}, patch_type=PatchType.MERGE)
        names.discard(relabelled)
        await eventually(lambda: exactly(names), 20, f"no pod on relabelled {relabelled}")

        (leaving,) = late.names
        await late.remove_node(leaving)
        names.discard(leaving)
        await eventually(lambda: exactly(names), 60, f"no pod on removed {leaving}")
