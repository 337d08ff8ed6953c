"""A pod's resolv.conf follows Kubernetes' dnsPolicy and dnsConfig rules."""

from __future__ import annotations

from typing import Any

import pytest

from agent.dns.podfiles import resolv_conf_for
from agent.dns.resolvconfs import parse_resolv_conf
from agent.settings import NetworkSettings

SETTINGS = NetworkSettings()
HOST = "# from DHCP\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch lan. example.org\noptions edns0 timeout:2\n"
CLUSTER_SEARCH = "search shop.svc.cluster.local svc.cluster.local cluster.local lan example.org\n"
CLUSTER = "nameserver 10.43.0.10\n" + CLUSTER_SEARCH + "options ndots:5\n"


def pod(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": "shop", "name": "p"}, "spec": {"containers": [], **spec}}


CASES = [
    ("default policy is ClusterFirst", pod(), CLUSTER),
    ("ClusterFirst", pod(dnsPolicy="ClusterFirst"), CLUSTER),
    ("ClusterFirst with hostNetwork acts as Default", pod(dnsPolicy="ClusterFirst", hostNetwork=True), HOST),
    ("no policy with hostNetwork acts as Default", pod(hostNetwork=True), HOST),
    ("ClusterFirstWithHostNet", pod(dnsPolicy="ClusterFirstWithHostNet", hostNetwork=True), CLUSTER),
    ("ClusterFirstWithHostNet without hostNetwork", pod(dnsPolicy="ClusterFirstWithHostNet"), CLUSTER),
    ("Default is the host file as is", pod(dnsPolicy="Default"), HOST),
    (
        "Default with dnsConfig merges into the host's",
        pod(dnsPolicy="Default", dnsConfig={"options": [{"name": "timeout", "value": "5"}, {"name": "rotate"}]}),
        "nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch lan example.org\noptions edns0 timeout:5 rotate\n",
    ),
    (
        "None takes only dnsConfig",
        pod(
            dnsPolicy="None",
            dnsConfig={
                "nameservers": ["1.2.3.4"],
                "searches": ["a.example"],
                "options": [{"name": "ndots", "value": "2"}],
            },
        ),
        "nameserver 1.2.3.4\nsearch a.example\noptions ndots:2\n",
    ),
    ("None without dnsConfig is empty", pod(dnsPolicy="None"), ""),
    (
        "ClusterFirst with dnsConfig appends and replaces options by name",
        pod(
            dnsConfig={
                "nameservers": ["10.43.0.10", "1.1.1.1"],
                "searches": ["cluster.local", "extra.example."],
                "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
            }
        ),
        "nameserver 10.43.0.10\nnameserver 1.1.1.1\n"
        "search shop.svc.cluster.local svc.cluster.local cluster.local lan example.org extra.example\n"
        "options ndots:2 edns0\n",
    ),
    (
        "at most 3 nameservers",
        pod(dnsPolicy="None", dnsConfig={"nameservers": ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"]}),
        "nameserver 1.1.1.1\nnameserver 2.2.2.2\nnameserver 3.3.3.3\n",
    ),
    (
        "at most 32 search domains",
        pod(dnsPolicy="None", dnsConfig={"searches": [f"d{i}.example" for i in range(40)]}),
        "search " + " ".join(f"d{i}.example" for i in range(32)) + "\n",
    ),
]


@pytest.mark.parametrize(("case", "pod_obj", "expected"), CASES, ids=[c[0] for c in CASES])
def test_resolv_conf_for(case: str, pod_obj: dict[str, Any], expected: str) -> None:
    """Each dnsPolicy/dnsConfig combination renders Kubernetes' resolv.conf."""
    assert resolv_conf_for(pod_obj, settings=SETTINGS, host_resolv_conf=HOST) == expected


def test_search_list_stays_within_2048_characters() -> None:
    """Search domains past 2048 characters (spaces included) are dropped from the end."""
    long = [("x" * 60 + f".d{i:02d}") for i in range(31)]  # 64 characters each
    text = resolv_conf_for(pod(dnsPolicy="None", dnsConfig={"searches": long}), settings=SETTINGS, host_resolv_conf="")
    searches = parse_resolv_conf(text).searches
    assert len(" ".join(searches)) <= 2048
    assert searches == long[: len(searches)] and len(searches) == 31  # 31 * 64 + 30 = 2014


def test_cluster_domain_and_address_come_from_settings() -> None:
    """Another cluster domain and DNS address show up in the search list and nameserver."""
    settings = NetworkSettings(cluster_dns="10.96.0.10", cluster_domain="edge.local")
    text = resolv_conf_for(pod(), settings=settings, host_resolv_conf="")
    assert text == "nameserver 10.96.0.10\nsearch shop.svc.edge.local svc.edge.local edge.local\noptions ndots:5\n"


@pytest.mark.parametrize(
    ("text", "nameservers", "searches", "options"),
    [
        ("", [], [], []),
        ("nameserver 1.1.1.1 # cloud\n; comment\nnameserver ::1\n", ["1.1.1.1", "::1"], [], []),
        ("search a b\nsearch c.\n", [], ["c"], []),
        ("domain lan\n", [], ["lan"], []),
        ("search . a.\noptions ndots:1\noptions rotate\n", [], ["a"], ["ndots:1", "rotate"]),
        ("nameserver\nbogus line\n", [], [], []),
    ],
)
def test_parse_resolv_conf(text: str, nameservers: list[str], searches: list[str], options: list[str]) -> None:
    """resolv.conf parsing: comments, last search line wins, options add up, junk ignored."""
    conf = parse_resolv_conf(text)
    assert (conf.nameservers, conf.searches, conf.options) == (nameservers, searches, options)
