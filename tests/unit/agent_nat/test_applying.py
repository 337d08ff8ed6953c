"""The applier's bookkeeping: claims on map keys, incremental vs full transactions, expected state."""

from __future__ import annotations

from typing import Any

import pytest

from agent.network import nat_applying
from agent.network.nat_applying import NatApplier
from agent.network.nat_model import ServiceNat, service_nat
from agent.network.nat_rendering import NatContext
from agent.network.nft import NftError
from tests.unit.agent_nat.samples import ep, eps, svc

CTX = NatContext("edgekube", "10.42.0.0/16", "10.43.0.0/16")


def lb(name: str, cluster_ip: str) -> ServiceNat:
    service = svc(name, cluster_ip, type="LoadBalancer", ports=[{"name": "http", "port": 80, "nodePort": 0}])
    model = service_nat(service, [eps(name, [ep("10.42.0.2")])], node_name="n1", cluster_dns="10.43.0.10")
    assert model is not None
    return model


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Transactions the applier would hand to nft."""
    texts: list[str] = []

    async def fake_apply(text: str) -> None:
        if "FAIL" in text:
            raise NftError("refused")
        texts.append(text)

    monkeypatch.setattr(nat_applying, "apply_ruleset", fake_apply)
    return texts


async def test_second_load_balancer_on_a_port_waits(sent: list[str]) -> None:
    """Two LoadBalancers on port 80: the first owns the node port key; the second gets it when the first goes."""
    applier = NatApplier(CTX)
    await applier.full_sync([lb("a", "10.43.0.20"), lb("b", "10.43.0.21")])
    assert sent[0].count("tcp . 80 : goto ext-default/a/tcp/http") == 1
    assert "tcp . 80 : goto ext-default/b" not in sent[0]
    requeue = await applier.update({"default/a": None})
    assert requeue == {"default/b"}
    await applier.update({"default/b": lb("b", "10.43.0.21")})
    assert "add element ip edgekube service-nodeports { tcp . 80 : goto ext-default/b/tcp/http }" in sent[-1]


async def test_nothing_changed_sends_nothing(sent: list[str]) -> None:
    """An update that renders the same rules makes no nft call."""
    applier = NatApplier(CTX)
    await applier.full_sync([lb("a", "10.43.0.20")])
    await applier.update({"default/a": lb("a", "10.43.0.20")})
    assert len(sent) == 1


async def test_failed_update_asks_for_a_full_sync(monkeypatch: pytest.MonkeyPatch, sent: list[str]) -> None:
    """After nft refuses an update the applier is no longer synced, and refuses updates until a full sync."""
    applier = NatApplier(CTX)
    await applier.full_sync([])

    async def refuse(text: str) -> None:
        raise NftError("refused")

    monkeypatch.setattr(nat_applying, "apply_ruleset", refuse)
    with pytest.raises(NftError):
        await applier.update({"default/a": lb("a", "10.43.0.20")})
    assert not applier.synced
    with pytest.raises(RuntimeError):
        await applier.update({})


async def test_expected_counts(sent: list[str]) -> None:
    """Expected chains and map sizes follow what was applied (after claims)."""
    applier = NatApplier(CTX)
    await applier.full_sync([lb("a", "10.43.0.20"), lb("b", "10.43.0.21")])
    expected: Any = applier.expected()
    assert expected.map_sizes == {
        "service-ips": 2,
        "no-endpoint-services": 0,
        "service-nodeports": 1,
        "no-endpoint-nodeports": 0,
    }
    assert {"services", "nat-prerouting", "svc-default/a/tcp/http", "ext-default/b/tcp/http"} <= expected.chains
