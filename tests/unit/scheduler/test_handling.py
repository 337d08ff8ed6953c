"""Informer events update the cache and wake only the parked pods a change can help."""

from __future__ import annotations

import copy

from edgekube.scheduler.caching import SchedulerCache
from edgekube.scheduler.handling import ClusterEvents
from edgekube.scheduler.queueing import SchedulingQueue
from tests.unit.scheduler.builders import node, pod

FIT = frozenset({"NodeResourcesFit"})
TAINTS = frozenset({"TaintToleration"})


async def parked(events: ClusterEvents, key: str, plugins: frozenset[str]) -> None:
    events.queue.add(key)
    events.queue.unschedulable(await events.queue.pop(), plugins)


def setup() -> ClusterEvents:
    return ClusterEvents(SchedulerCache(), SchedulingQueue(initial_backoff=0.0), "default-scheduler")


async def test_pending_pods_are_queued_and_others_not() -> None:
    """Our unassigned pods are queued; assigned pods are counted; other schedulers' pods ignored."""
    events = setup()
    events.node_added(node("a"))
    events.pod_added(pod("mine"))
    theirs = pod("theirs")
    theirs["spec"]["schedulerName"] = "other"
    events.pod_added(theirs)
    events.pod_added(pod("placed", cpu="1", node_name="a"))
    assert "default/mine" in events.queue and "default/theirs" not in events.queue
    assert events.cache.get("a").requested.cpu == 1000  # type: ignore[union-attr]


async def test_heartbeat_does_not_wake_but_a_taint_change_does() -> None:
    """Node updates wake parked pods only when something filters look at changed."""
    events = setup()
    old = node("a", taints=[("x", "y", "NoSchedule")])
    events.node_added(old)
    await parked(events, "default/p", TAINTS)
    beat = copy.deepcopy(old)
    beat["status"]["conditions"][0]["lastHeartbeatTime"] = "2025-01-01T00:00:00Z"
    events.node_updated(old, beat)
    assert events.queue.unschedulable_count == 1
    untainted = copy.deepcopy(beat)
    untainted["spec"]["taints"] = []
    events.node_updated(beat, untainted)
    assert events.queue.unschedulable_count == 0


async def test_deleted_pod_wakes_only_resource_rejections() -> None:
    """A pod leaving a node can help pods short of resources, not pods kept out by taints."""
    events = setup()
    events.node_added(node("a"))
    placed = pod("placed", cpu="1", node_name="a")
    events.pod_added(placed)
    await parked(events, "default/short", FIT)
    await parked(events, "default/tainted", TAINTS)
    events.pod_deleted(placed)
    assert events.cache.get("a").requested.cpu == 0  # type: ignore[union-attr]
    assert "default/short" in events.queue and events.queue.unschedulable_count == 1


async def test_finished_pod_frees_its_node() -> None:
    """A Succeeded pod no longer counts on its node."""
    events = setup()
    events.node_added(node("a"))
    running = pod("job", cpu="1", node_name="a")
    events.pod_added(running)
    done = copy.deepcopy(running)
    done["status"]["phase"] = "Succeeded"
    events.pod_updated(running, done)
    assert events.cache.get("a").requested.cpu == 0  # type: ignore[union-attr]


async def test_status_only_update_of_a_parked_pod_keeps_it_parked() -> None:
    """Our own PodScheduled=False write must not retry the pod; a spec change does."""
    events = setup()
    old = pod("p")
    await parked(events, "default/p", TAINTS)
    noted = copy.deepcopy(old)
    noted["status"]["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]
    events.pod_updated(old, noted)
    assert events.queue.unschedulable_count == 1
    tolerant = copy.deepcopy(noted)
    tolerant["spec"]["tolerations"] = [{"operator": "Exists"}]
    events.pod_updated(noted, tolerant)
    assert events.queue.active_count == 1


async def test_bound_pod_leaves_the_queue_and_confirms() -> None:
    """The informer's view of a bind removes the pod from the queue and confirms the assumption."""
    events = setup()
    events.node_added(node("a"))
    pending = pod("p", cpu="1")
    events.pod_added(pending)
    bound = copy.deepcopy(pending)
    bound["spec"]["nodeName"] = "a"
    events.pod_updated(pending, bound)
    assert "default/p" not in events.queue
    assert events.cache.node_of("default/p") == "a" and not events.cache.is_assumed("default/p")


async def test_bind_landing_wakes_only_affinity_rejections() -> None:
    """A pod arriving on a node can satisfy someone's pod affinity, but frees nothing."""
    events = setup()
    events.node_added(node("a"))
    pending = pod("p", labels={"app": "db"})
    events.pod_added(pending)
    await events.queue.pop()
    await parked(events, "default/wants-db", frozenset({"InterPodAffinity"}))
    await parked(events, "default/short", FIT)
    bound = copy.deepcopy(pending)
    bound["spec"]["nodeName"] = "a"
    events.pod_updated(pending, bound)
    assert events.queue.active_count == 1 and "default/wants-db" in events.queue
    assert events.queue.unschedulable_count == 1


async def test_status_write_of_a_running_pod_changes_nothing() -> None:
    """A running pod's status update neither moves parked pods nor changes the node's totals."""
    events = setup()
    events.node_added(node("a"))
    running = pod("r", cpu="1", node_name="a")
    events.pod_added(running)
    await parked(events, "default/short", FIT)
    ready = copy.deepcopy(running)
    ready["status"] = {"phase": "Running", "podIP": "10.42.0.5"}
    events.pod_updated(running, ready)
    assert events.queue.unschedulable_count == 1
    assert events.cache.get("a").requested.cpu == 1000  # type: ignore[union-attr]
