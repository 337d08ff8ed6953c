"""Pod CIDRs for Nodes: the block arithmetic, the plan of one write, and the allocator on a real store."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from edgekube.errors import Invalid
from edgekube.resources.kinds.nodes import STRATEGY as NODES
from edgekube.resources.objects import Obj
from edgekube.resources.registry import default_registry
from edgekube.service.alloc_pools import Pool
from edgekube.service.cidr_allocating import NodeCIDRAllocator
from edgekube.service.cidr_blocks import Blocks, plan_node_cidr
from edgekube.service.options import WriteOptions
from edgekube.service.resources import ResourceService
from edgekube.store.store import Store
from edgekube.store.types import Key
from tests.unit.allocating.conftest import FakeClock, eventually

CLUSTER = "10.42.0.0/16"


def node(name: str, **spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": spec}


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("10.42.0.0/24", frozenset({0})),
        ("10.42.7.0/24", frozenset({7})),
        ("10.42.7.9/24", frozenset({7})),
        ("10.42.4.0/23", frozenset({4, 5})),
        ("10.42.3.128/25", frozenset({3})),
        ("10.41.0.0/16", frozenset()),
        ("10.0.0.0/8", frozenset(range(256))),
        ("fd00::/64", frozenset()),
        ("garbage", frozenset()),
    ],
)
def test_overlapped_blocks(cidr: str, expected: frozenset[int]) -> None:
    """A stored CIDR holds every /24 of the cluster CIDR it shares addresses with."""
    assert Blocks.of(CLUSTER).overlapped(cidr) == expected


@pytest.mark.parametrize(
    ("cidr", "problem"),
    [
        ("10.42.9.0/24", None),
        ("10.99.0.0/24", "the pod CIDR must be inside the cluster CIDR 10.42.0.0/16"),
        ("fd00::/64", "the pod CIDR must be inside the cluster CIDR 10.42.0.0/16"),
        ("10.42.8.0/23", "the pod CIDR must be a /24: every node gets a /24 of 10.42.0.0/16"),
        ("10.42.8.0/25", "the pod CIDR must be a /24: every node gets a /24 of 10.42.0.0/16"),
        ("10.42.8.1/24", "the pod CIDR must be a network address (10.42.8.0/24), without host bits"),
    ],
)
def test_requested_cidr_problems(cidr: str, problem: str | None) -> None:
    """Only an exact, aligned /24 inside the cluster CIDR may be asked for."""
    assert Blocks.of(CLUSTER).problem(cidr) == problem


def test_blocks_count_and_text() -> None:
    """A /16 holds 256 node blocks, numbered from the bottom; a tiny cluster CIDR is one block."""
    blocks = Blocks.of(CLUSTER)
    assert (blocks.count, blocks.text(0), blocks.text(1), blocks.text(255)) == (
        256,
        "10.42.0.0/24",
        "10.42.1.0/24",
        "10.42.255.0/24",
    )
    assert Blocks.of("192.168.5.0/26").count == 1


def test_plan_fills_in_the_lowest_free_block() -> None:
    """A Node without a CIDR gets the lowest block nobody holds, in podCIDR and podCIDRs."""
    blocks, pool = Blocks.of(CLUSTER), Pool(0, 255)
    pool.hold(0, "a")
    pool.lease(1, "b", until=100.0)
    obj = node("c")
    plan = plan_node_cidr(blocks, pool, obj, None, "c", now=50.0)
    assert plan.lease == 2 and not plan.causes
    assert obj["spec"] == {"podCIDR": "10.42.2.0/24", "podCIDRs": ["10.42.2.0/24"]}


def test_plan_when_full_leaves_the_node_without() -> None:
    """With every block taken the plan says so and writes nothing into the Node."""
    blocks, pool = Blocks.of("10.42.0.0/23"), Pool(0, 1)
    pool.hold(0, "a")
    pool.hold(1, "b")
    obj = node("c")
    plan = plan_node_cidr(blocks, pool, obj, None, "c", now=0.0)
    assert plan.full and plan.lease is None and obj["spec"] == {}


@pytest.mark.parametrize(
    ("requested", "held_by_other", "message"),
    [
        ("10.42.5.0/24", None, None),
        ("10.42.5.0/24", "other", 'Invalid value: "10.42.5.0/24": the pod CIDR is already allocated to node "other"'),
        ("10.43.0.0/24", None, 'Invalid value: "10.43.0.0/24": the pod CIDR must be inside the cluster CIDR'),
        ("10.42.4.0/22", None, 'Invalid value: "10.42.4.0/22": the pod CIDR must be a /24'),
    ],
)
def test_plan_checks_a_requested_cidr(requested: str, held_by_other: str | None, message: str | None) -> None:
    """A requested CIDR is granted when free and exact, else refused with the reason."""
    blocks, pool = Blocks.of(CLUSTER), Pool(0, 255)
    if held_by_other:
        pool.hold(5, held_by_other)
    plan = plan_node_cidr(blocks, pool, node("n", podCIDR=requested, podCIDRs=[requested]), None, "n", now=0.0)
    if message is None:
        assert plan.lease == 5 and not plan.causes
    else:
        (cause,) = plan.causes
        assert cause.field == "spec.podCIDR" and cause.message.startswith(message)


def test_plan_keeps_what_the_node_had() -> None:
    """An update keeping the old CIDR needs no check, even one outside today's cluster CIDR."""
    blocks, pool = Blocks.of(CLUSTER), Pool(0, 255)
    old = node("n", podCIDR="10.99.0.0/24", podCIDRs=["10.99.0.0/24"])
    new = node("n", podCIDR="10.99.0.0/24", podCIDRs=["10.99.0.0/24"], unschedulable=True)
    plan = plan_node_cidr(blocks, pool, new, old, "n", now=0.0)
    assert plan.lease is None and not plan.causes


# -- the allocator on a real store ------------------------------------------------------------


@pytest.fixture
async def allocator(db: Store) -> AsyncIterator[tuple[ResourceService, NodeCIDRAllocator]]:
    service = ResourceService(db, default_registry(), None)
    found = NodeCIDRAllocator(db, CLUSTER, clock=FakeClock())
    service.admission.append(found)
    task = asyncio.create_task(found.run())
    await eventually(lambda: found.synced)
    yield service, found
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def create(service: ResourceService, body: Obj) -> Obj:
    return await service.create(NODES, None, body, WriteOptions())


async def test_concurrent_registrations_get_distinct_blocks(
    allocator: tuple[ResourceService, NodeCIDRAllocator],
) -> None:
    """Twenty Nodes created at once get twenty different CIDRs, the lowest twenty."""
    service, _ = allocator
    made = await asyncio.gather(*(create(service, node(f"n{i}")) for i in range(20)))
    cidrs = {m["spec"]["podCIDR"] for m in made}
    assert cidrs == {f"10.42.{i}.0/24" for i in range(20)}


async def test_delete_frees_the_block_for_the_next_node(
    allocator: tuple[ResourceService, NodeCIDRAllocator], db: Store
) -> None:
    """Once a deleted Node's DELETED event is seen, its block is the lowest free one again."""
    service, found = allocator
    for name in ("a", "b", "c"):
        await create(service, node(name))
    await db.delete(Key("core/nodes", "", "b"), node("b"), expected_revision=None)
    await eventually(lambda: found.revision >= db.revision)
    made = await create(service, node("d"))
    assert made["spec"]["podCIDR"] == "10.42.1.0/24"


async def test_taken_cidr_is_refused(allocator: tuple[ResourceService, NodeCIDRAllocator]) -> None:
    """Asking for another Node's CIDR is a 422 naming that Node."""
    service, _ = allocator
    await create(service, node("a"))
    with pytest.raises(Invalid) as caught:
        await create(service, node("b", podCIDR="10.42.0.0/24"))
    assert 'already allocated to node "a"' in str(caught.value.status())


async def test_existing_node_without_cidr_gets_one_on_update(
    allocator: tuple[ResourceService, NodeCIDRAllocator], db: Store
) -> None:
    """A Node stored before the allocator existed gets the lowest free block on its next write."""
    service, found = allocator
    await db.create(Key("core/nodes", "", "old"), node("old"))
    await eventually(lambda: found.revision >= db.revision)

    async def label(obj: Obj) -> Obj:
        obj["metadata"]["labels"] = {"x": "y"}
        return obj

    updated = await service.guaranteed_update(NODES, None, "old", label, WriteOptions())
    assert updated["spec"]["podCIDRs"] == ["10.42.0.0/24"]


async def test_holdings_survive_a_restart(db: Store) -> None:
    """A new allocator on the same store knows the stored CIDRs and hands out the next one."""
    service = ResourceService(db, default_registry(), None)
    for run in range(2):
        found = NodeCIDRAllocator(db, CLUSTER, clock=FakeClock())
        service.admission = [found]
        task = asyncio.create_task(found.run())
        try:
            await eventually(lambda: found.synced)  # noqa: B023 - awaited inside the loop body
            made = await create(service, node(f"n{run}"))
            assert made["spec"]["podCIDR"] == f"10.42.{run}.0/24"
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
