"""The allocator in the real write path: a resource service on SQLite with the informer running."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

import orjson
import pytest

from edgekube.errors import InternalError, Invalid
from edgekube.resources.kinds.configmaps import STRATEGY as CONFIGMAPS
from edgekube.resources.kinds.services import STRATEGY
from edgekube.resources.patching.content_types import MERGE_PATCH
from edgekube.service.allocating import ServiceAllocator
from edgekube.service.deleting import delete
from edgekube.service.options import DeleteOptions, WriteOptions
from edgekube.store.store import Store
from tests.unit.allocating.conftest import CIDR, NODE_PORTS, Cluster, FakeClock, start, stop, svc


def cause(err: pytest.ExceptionInfo[Invalid]) -> tuple[str, str]:
    assert err.value.details is not None
    (only,) = err.value.details.causes
    return only.field, only.message


async def patch(cluster: Cluster, name: str, body: dict[str, Any]) -> dict[str, Any]:
    return await cluster.service.patch(STRATEGY, "default", name, MERGE_PATCH, orjson.dumps(body), WriteOptions())


async def test_concurrent_creates_get_distinct_addresses_and_ports(cluster: Cluster) -> None:
    """50 Services created at once get 50 different cluster IPs and node ports."""
    made = await asyncio.gather(*(cluster.create(f"s{i}", type="NodePort") for i in range(50)))
    ips = {m["spec"]["clusterIP"] for m in made}
    ports = {m["spec"]["ports"][0]["nodePort"] for m in made}
    assert len(ips) == 50 and len(ports) == 50
    assert all(ipaddress.IPv4Address(ip) in ipaddress.IPv4Network(CIDR) for ip in ips)
    assert not ips & {"10.43.0.0", "10.43.0.1", "10.43.0.10", "10.43.255.255"}


async def test_small_ranges_fill_exactly_without_duplicates(db: Store) -> None:
    """A /27 (28 addresses after the reserved two) and 28 node ports: 28 concurrent creates fit, the next is full."""
    small = await start(db, FakeClock(), cidr="10.43.0.0/27", node_ports=(30000, 30027))
    try:
        made = await asyncio.gather(*(small.create(f"s{i}", type="NodePort") for i in range(28)))
        assert len({m["spec"]["clusterIP"] for m in made}) == 28
        assert len({m["spec"]["ports"][0]["nodePort"] for m in made}) == 28
        with pytest.raises(InternalError) as err:
            await small.create("one-more")
        assert err.value.code == 500
        assert err.value.message == "Internal error occurred: failed to allocate a serviceIP: range is full"
    finally:
        await stop(small)


async def test_requested_address_is_honoured_then_refused_to_others(cluster: Cluster) -> None:
    """A free requested IP is granted; a second Service asking for it gets 422 on spec.clusterIP."""
    made = await cluster.create("first", clusterIP="10.43.0.5")
    assert made["spec"]["clusterIP"] == "10.43.0.5" and made["spec"]["clusterIPs"] == ["10.43.0.5"]
    with pytest.raises(Invalid) as err:
        await cluster.create("second", clusterIP="10.43.0.5")
    assert cause(err) == ("spec.clusterIP", 'Invalid value: "10.43.0.5": provided IP is already allocated')
    assert 'Service "second" is invalid: spec.clusterIP: Invalid value' in err.value.message


async def test_requested_address_outside_the_range_is_refused(cluster: Cluster) -> None:
    """An IP outside the service CIDR is 422 naming the range."""
    with pytest.raises(Invalid) as err:
        await cluster.create("outside", clusterIP="10.42.0.5")
    detail = "provided IP is not in the valid range. The range of valid IPs is 10.43.0.0/16"
    assert cause(err) == ("spec.clusterIP", f'Invalid value: "10.42.0.5": {detail}')


async def test_dns_address_only_by_request(cluster: Cluster) -> None:
    """10.43.0.10 goes to the Service that asks for it, and only once."""
    dns = await cluster.create("kube-dns", "kube-system", clusterIP="10.43.0.10")
    assert dns["spec"]["clusterIP"] == "10.43.0.10"
    with pytest.raises(Invalid):
        await cluster.create("impostor", clusterIP="10.43.0.10")


async def test_delete_releases_once_the_informer_sees_it(cluster: Cluster) -> None:
    """After a delete reaches the informer, its IP and node port can be requested again."""
    await cluster.create("old", type="NodePort", clusterIP="10.43.9.9", ports=[{"port": 80, "nodePort": 30999}])
    await delete(cluster.service, STRATEGY, "default", "old", DeleteOptions())
    await cluster.caught_up()
    again = await cluster.create("new", type="NodePort", clusterIP="10.43.9.9", ports=[{"port": 80, "nodePort": 30999}])
    assert again["spec"]["clusterIP"] == "10.43.9.9"


async def test_failed_write_frees_its_lease_after_it_expires(cluster: Cluster) -> None:
    """A dry run leases its IP like a failed write: taken for others until the lease runs out."""
    await cluster.service.create(STRATEGY, "default", svc("ghost", clusterIP="10.43.8.8"), WriteOptions(dry_run=True))
    with pytest.raises(Invalid):
        await cluster.create("other", clusterIP="10.43.8.8")
    made = await cluster.create("ghost", clusterIP="10.43.8.8")  # its own lease: a retry succeeds
    assert made["spec"]["clusterIP"] == "10.43.8.8"
    await cluster.service.create(STRATEGY, "default", svc("dry", clusterIP="10.43.8.9"), WriteOptions(dry_run=True))
    cluster.clock.now += cluster.allocator.lease_seconds
    assert (await cluster.create("late", clusterIP="10.43.8.9"))["spec"]["clusterIP"] == "10.43.8.9"


async def test_refused_write_leases_nothing(cluster: Cluster) -> None:
    """A write refused for one value (taken IP) does not keep the node port it asked for."""
    await cluster.create("holder", clusterIP="10.43.4.4")
    with pytest.raises(Invalid):
        await cluster.create("greedy", type="NodePort", clusterIP="10.43.4.4", ports=[{"port": 80, "nodePort": 31111}])
    made = await cluster.create("modest", type="NodePort", ports=[{"port": 80, "nodePort": 31111}])
    assert made["spec"]["ports"][0]["nodePort"] == 31111


async def test_restart_keeps_allocations(db: Store) -> None:
    """A new allocator on the same database knows what the old one handed out."""
    first = await start(db, FakeClock())
    made = await first.create("keep", type="NodePort")
    await stop(first)
    second = await start(db, FakeClock(), seed=99)
    try:
        ip, port = made["spec"]["clusterIP"], made["spec"]["ports"][0]["nodePort"]
        with pytest.raises(Invalid):
            await second.create("copy-ip", clusterIP=ip)
        with pytest.raises(Invalid) as err:
            await second.create("copy-port", type="NodePort", ports=[{"port": 80, "nodePort": port}])
        assert cause(err) == ("spec.ports[0].nodePort", f"Invalid value: {port}: provided port is already allocated")
    finally:
        await stop(second)


async def test_requested_node_port_conflict(cluster: Cluster) -> None:
    """A requested free node port is granted; the same one for another Service is 422."""
    made = await cluster.create("np", type="NodePort", ports=[{"port": 80, "nodePort": 30080}])
    assert made["spec"]["ports"][0]["nodePort"] == 30080
    with pytest.raises(Invalid) as err:
        await cluster.create("np2", type="NodePort", ports=[{"port": 80, "nodePort": 30080}])
    assert cause(err) == ("spec.ports[0].nodePort", "Invalid value: 30080: provided port is already allocated")


async def test_type_changes_allocate_and_release(cluster: Cluster) -> None:
    """ClusterIP -> NodePort gets a node port; back to ClusterIP frees it for others."""
    made = await cluster.create("flip")
    ip = made["spec"]["clusterIP"]
    as_np = await patch(cluster, "flip", {"spec": {"type": "NodePort"}})
    port = as_np["spec"]["ports"][0]["nodePort"]
    assert as_np["spec"]["clusterIP"] == ip and NODE_PORTS[0] <= port <= NODE_PORTS[1]
    back = await patch(cluster, "flip", {"spec": {"type": "ClusterIP"}})
    assert "nodePort" not in back["spec"]["ports"][0] and back["spec"]["clusterIP"] == ip
    await cluster.caught_up()
    taker = await cluster.create("taker", type="NodePort", ports=[{"port": 80, "nodePort": port}])
    assert taker["spec"]["ports"][0]["nodePort"] == port


async def test_removed_node_port_is_released(cluster: Cluster) -> None:
    """A port dropped from a NodePort Service frees its node port."""
    await cluster.create(
        "two",
        type="NodePort",
        ports=[{"name": "a", "port": 80, "nodePort": 30100}, {"name": "b", "port": 81, "nodePort": 30101}],
    )
    await patch(cluster, "two", {"spec": {"ports": [{"name": "a", "port": 80, "nodePort": 30100}]}})
    await cluster.caught_up()
    made = await cluster.create("reuse", type="NodePort", ports=[{"port": 80, "nodePort": 30101}])
    assert made["spec"]["ports"][0]["nodePort"] == 30101


async def test_external_name_round_trip(cluster: Cluster) -> None:
    """To ExternalName releases the address; back to ClusterIP allocates one."""
    made = await cluster.create("ext", clusterIP="10.43.6.6")
    gone = await patch(cluster, "ext", {"spec": {"type": "ExternalName", "externalName": "db.example.com"}})
    assert not gone["spec"].get("clusterIP")
    await cluster.caught_up()
    assert (await cluster.create("heir", clusterIP="10.43.6.6"))["spec"]["clusterIP"] == made["spec"]["clusterIP"]
    back = await patch(cluster, "ext", {"spec": {"type": "ClusterIP", "externalName": None}})
    assert back["spec"]["clusterIP"] not in ("", "10.43.6.6")


async def test_other_kinds_pass_untouched(cluster: Cluster) -> None:
    """The plug-in ignores everything but Services."""
    body = {"metadata": {"name": "cm"}, "data": {"clusterIP": "x"}}
    made = await cluster.service.create(CONFIGMAPS, "default", body, WriteOptions())
    assert made["data"] == {"clusterIP": "x"}


@pytest.mark.parametrize("cidr", ["fd00::/108", "10.43.0.0/31"])
def test_unusable_service_cidr_is_refused(db: Store, cidr: str) -> None:
    """An IPv6 or too small service CIDR is a configuration error at construction."""
    with pytest.raises(ValueError):
        ServiceAllocator(db, cidr, NODE_PORTS)
