"""The /etc/resolv.conf of a pod, from its dnsPolicy and dnsConfig (Kubernetes' rules).

    ClusterFirst (the default)  nameserver <cluster DNS>, search <ns>.svc.<domain> svc.<domain>
                                <domain> + the host's search domains, options ndots:5
    ClusterFirst + hostNetwork  as Default (the pod shares the node's network, so the node's
                                resolvers are the ones it can reach for sure)
    ClusterFirstWithHostNet     ClusterFirst, also with hostNetwork
    Default                     the node's resolv.conf, as it is
    None                        only what dnsConfig says

`dnsConfig` then adds on top: nameservers and search domains are appended (duplicates
dropped), options replace same-named ones. The result keeps Kubernetes' limits: at most
3 nameservers and 32 search domains of at most 2048 characters together; what is past a
limit is dropped from the end, as the kubelet does.
"""

from __future__ import annotations

from typing import Any

from agent.dns.resolvconfs import ResolvConf, parse_resolv_conf
from agent.settings import NetworkSettings

MAX_NAMESERVERS = 3
MAX_SEARCHES = 32
MAX_SEARCH_CHARS = 2048
CLUSTER_NDOTS = "ndots:5"


def resolv_conf_for(pod: dict[str, Any], *, settings: NetworkSettings, host_resolv_conf: str) -> str:
    """The text of `pod`'s /etc/resolv.conf; `host_resolv_conf` is the node's file's text."""
    spec = pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    host_network = spec.get("hostNetwork") is True
    dns_config = spec.get("dnsConfig") or None
    if policy == "ClusterFirst" and host_network:
        policy = "Default"
    if policy == "Default" and dns_config is None:
        return host_resolv_conf
    if policy == "Default":
        base = parse_resolv_conf(host_resolv_conf)
    elif policy == "None":
        base = ResolvConf()
    else:  # ClusterFirst, ClusterFirstWithHostNet (validation rejects anything else)
        namespace = (pod.get("metadata") or {}).get("namespace") or "default"
        base = _cluster_first(namespace, settings, parse_resolv_conf(host_resolv_conf))
    if dns_config is not None:
        base = _merged(base, dns_config)
    return _within_limits(base).render()


def _cluster_first(namespace: str, settings: NetworkSettings, host: ResolvConf) -> ResolvConf:
    domain = settings.cluster_domain.rstrip(".")
    searches = [f"{namespace}.svc.{domain}", f"svc.{domain}", domain, *host.searches]
    # Host options are not carried over: ndots:5 is what makes short Service names work.
    return ResolvConf(nameservers=[settings.cluster_dns], searches=_unique(searches), options=[CLUSTER_NDOTS])


def _merged(base: ResolvConf, dns_config: dict[str, Any]) -> ResolvConf:
    nameservers = _unique([*base.nameservers, *(str(s) for s in dns_config.get("nameservers") or [])])
    searches = _unique([*base.searches, *(str(s).rstrip(".") for s in dns_config.get("searches") or [])])
    options: dict[str, str | None] = {}
    for option in base.options:
        name, sep, value = option.partition(":")
        options[name] = value if sep else None
    for option in dns_config.get("options") or []:
        name = str(option.get("name") or "")
        if name:
            value = option.get("value")
            options[name] = None if value is None else str(value)
    rendered = [name if value is None else f"{name}:{value}" for name, value in options.items()]
    return ResolvConf(nameservers=nameservers, searches=searches, options=rendered)


def _within_limits(conf: ResolvConf) -> ResolvConf:
    searches: list[str] = []
    chars = 0
    for domain in conf.searches[:MAX_SEARCHES]:
        # Joined with one space each: "a b c" is len(a) + 1 + len(b) + 1 + len(c).
        cost = len(domain) + (1 if searches else 0)
        if chars + cost > MAX_SEARCH_CHARS:
            break
        searches.append(domain)
        chars += cost
    return ResolvConf(nameservers=conf.nameservers[:MAX_NAMESERVERS], searches=searches, options=conf.options)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))
