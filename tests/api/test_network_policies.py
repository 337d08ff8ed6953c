"""NetworkPolicy over real HTTP: served in networking.k8s.io/v1, defaulted, validated, listed, deleted."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

GROUP = "/apis/networking.k8s.io/v1"


def policy(name: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("podSelector", {"matchLabels": {"app": "web"}})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name}, "spec": spec}


def url(namespace: str, name: str = "") -> str:
    return f"{GROUP}/namespaces/{namespace}/networkpolicies" + (f"/{name}" if name else "")


async def test_discovery_lists_networkpolicies(http: aiohttp.ClientSession) -> None:
    """The group-version serves the namespaced kind with its short name."""
    async with http.get(GROUP) as r:
        assert r.status == 200
        found = {res["name"]: res for res in (await r.json())["resources"]}
    entry = found["networkpolicies"]
    assert entry["kind"] == "NetworkPolicy" and entry["namespaced"] and entry["shortNames"] == ["netpol"]


async def test_crud(http: aiohttp.ClientSession, namespace: str) -> None:
    """Create fills the defaults; get, list, update and delete work."""
    body = policy("web", ingress=[{"from": [{"podSelector": {}}], "ports": [{"port": 80}]}], egress=[{}])
    async with http.post(url(namespace), json=body) as r:
        assert r.status == 201, await r.text()
        made = await r.json()
    assert made["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert made["spec"]["ingress"][0]["ports"] == [{"port": 80, "protocol": "TCP"}]
    assert made["metadata"]["generation"] == 1
    async with http.get(url(namespace, "web")) as r:
        assert (await r.json())["spec"] == made["spec"]
    async with http.get(url(namespace)) as r:
        listed = await r.json()
    assert listed["kind"] == "NetworkPolicyList" and [i["metadata"]["name"] for i in listed["items"]] == ["web"]
    made["spec"]["ingress"][0]["ports"][0]["port"] = 8080
    async with http.put(url(namespace, "web"), json=made) as r:
        assert r.status == 200
        updated = await r.json()
    assert updated["metadata"]["generation"] == 2
    async with http.delete(url(namespace, "web")) as r:
        assert r.status == 200
    async with http.get(url(namespace, "web")) as r:
        assert r.status == 404


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ({"podSelector": {"matchLabels": {"app": "-bad-"}}}, "spec.podSelector.matchLabels", "Invalid value"),
        ({"policyTypes": ["Forward"]}, "spec.policyTypes[0]", 'Unsupported value: "Forward"'),
        ({"ingress": [{"ports": [{"protocol": "ICMP"}]}]}, "spec.ingress[0].ports[0].protocol", "Unsupported value"),
        ({"ingress": [{"ports": [{"port": 0}]}]}, "spec.ingress[0].ports[0].port", "must be between 1 and 65535"),
        (
            {"egress": [{"ports": [{"port": 90, "endPort": 80}]}]},
            "spec.egress[0].ports[0].endPort",
            "must be greater than or equal to `port`",
        ),
        (
            {"ingress": [{"ports": [{"port": "http", "endPort": 80}]}]},
            "spec.ingress[0].ports[0].endPort",
            "may not be specified when `port` is non-numeric",
        ),
        (
            {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/16"]}}]}]},
            "spec.ingress[0].from[0].ipBlock.except[0]",
            "must be a strict subset of `cidr`",
        ),
        (
            {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "namespaceSelector": {}}]}]},
            "spec.ingress[0].from[0]",
            "may not specify both ipBlock and another peer",
        ),
        ({"ingress": [{"from": [{"ipBlock": {"cidr": "ten"}}]}]}, "spec.ingress[0].from[0].ipBlock.cidr", "valid CIDR"),
    ],
)
async def test_validation(
    http: aiohttp.ClientSession, namespace: str, spec: dict[str, Any], field: str, message: str
) -> None:
    """Each invalid spec is a 422 whose cause names the field and says why."""
    body = policy("bad", **spec)
    async with http.post(url(namespace), json=body) as r:
        assert r.status == 422, await r.text()
        status = await r.json()
    causes = status["details"]["causes"]
    assert any(c["field"] == field and message in c["message"] for c in causes), causes
    assert status["details"]["group"] == "networking.k8s.io" and status["details"]["kind"] == "NetworkPolicy"
