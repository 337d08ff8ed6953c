"""Answers from the cluster's records: one query in, one response out, or None to forward it.

Pure functions over dnspython messages, no sockets. The cluster domain is ours alone:
a name under it that no Service makes is NXDOMAIN at once (clients with ndots:5 try
several search suffixes per lookup, and each miss must be cheap), a known name without
the asked type is NOERROR with no answer (AAAA of an IPv4 Service). Every answer carries
TTL 5 s, and negative ones an SOA whose minimum is 5 s, so caches forget quickly.

While the records are unknown (the watches have not synced once) a cluster name gets
SERVFAIL, never NXDOMAIN: a client retries a failure but caches a denial. Reverse
lookups of the addresses we know are answered; all other names go upstream (None).
"""

from __future__ import annotations

import ipaddress
import random

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from agent.dns.records import IP, ClusterRecords

TTL = 5
MAX_CHAIN = 8  # CNAMEs followed inside the cluster domain before giving up (loops end here)
SOA_TEXT = "ns.dns.{domain} hostmaster.{domain} 1 7200 1800 86400 {ttl}"


def answer_locally(
    query: dns.message.Message, *, domain: dns.name.Name, records: ClusterRecords | None
) -> dns.message.Message | None:
    """The response to `query` (one question) from `records`, or None when upstream should answer."""
    question = query.question[0]
    if question.rdclass != dns.rdataclass.IN:
        return None
    qname, qtype = question.name, question.rdtype
    if qname.is_subdomain(domain):
        if records is None:
            return make_reply(query, dns.rcode.SERVFAIL)
        return _authoritative(query, qname, qtype, domain, records)
    if records is not None and qtype in (dns.rdatatype.PTR, dns.rdatatype.ANY) and qname in records.ptr:
        response = make_reply(query, dns.rcode.NOERROR, authoritative=True)
        response.answer.append(_rrset(qname, dns.rdatatype.PTR, [records.ptr[qname].to_text()]))
        return response
    return None


def external_tail(response: dns.message.Message, domain: dns.name.Name) -> dns.name.Name | None:
    """The target of the answer's last CNAME when it leaves the cluster domain and is still to be
    resolved (an ExternalName Service pointing outside); None otherwise."""
    if not response.answer or response.rcode() != dns.rcode.NOERROR:
        return None
    last = response.answer[-1]
    if last.rdtype != dns.rdatatype.CNAME or response.question[0].rdtype in (dns.rdatatype.CNAME, dns.rdatatype.ANY):
        return None
    target: dns.name.Name = last[0].target
    return None if target.is_subdomain(domain) else target


def make_reply(
    query: dns.message.Message, rcode: dns.rcode.Rcode, *, authoritative: bool = False
) -> dns.message.Message:
    """An empty response to `query` with `rcode`; recursion is offered (we forward)."""
    response = dns.message.make_response(query)
    response.flags |= dns.flags.RA
    if authoritative:
        response.flags |= dns.flags.AA
    response.set_rcode(rcode)
    return response


def _authoritative(
    query: dns.message.Message,
    qname: dns.name.Name,
    qtype: dns.rdatatype.RdataType,
    domain: dns.name.Name,
    records: ClusterRecords,
) -> dns.message.Message:
    response = make_reply(query, dns.rcode.NOERROR, authoritative=True)
    name = qname
    for _ in range(MAX_CHAIN):
        target = records.cname.get(name)
        if target is None:
            break
        response.answer.append(_rrset(name, dns.rdatatype.CNAME, [target.to_text()]))
        if qtype in (dns.rdatatype.CNAME, dns.rdatatype.ANY) or not target.is_subdomain(domain):
            return response  # outside: the caller may chase it upstream (`external_tail`)
        name = target
    else:
        response.set_rcode(dns.rcode.SERVFAIL)  # a CNAME loop inside the cluster domain
        return response
    found = _rrsets_of(name, qtype, domain, records)
    response.answer.extend(found)
    if qtype == dns.rdatatype.SRV:
        response.additional.extend(_target_addresses(found, domain, records))
    if not found:
        # RFC 6604: the rcode speaks of the last name of the chain.
        if not _exists(name, domain, records):
            response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(_soa(domain))
    return response


def _rrsets_of(
    name: dns.name.Name, qtype: dns.rdatatype.RdataType, domain: dns.name.Name, records: ClusterRecords
) -> list[dns.rrset.RRset]:
    found: list[dns.rrset.RRset] = []
    wants_any = qtype == dns.rdatatype.ANY
    addresses = _addresses(name, domain, records)
    for version, rdtype in ((4, dns.rdatatype.A), (6, dns.rdatatype.AAAA)):
        if qtype == rdtype or wants_any:
            texts = [str(ip) for ip in addresses if ip.version == version]
            random.shuffle(texts)  # spread clients over a headless Service's endpoints
            if texts:
                found.append(_rrset(name, rdtype, texts))
    if (qtype == dns.rdatatype.SRV or wants_any) and name in records.srv:
        texts = [f"{s.priority} {s.weight} {s.port} {s.target.to_text()}" for s in records.srv[name]]
        found.append(_rrset(name, dns.rdatatype.SRV, texts))
    if (qtype == dns.rdatatype.SOA or wants_any) and name == domain:
        found.append(_soa(domain))
    return found


def _addresses(name: dns.name.Name, domain: dns.name.Name, records: ClusterRecords) -> list[IP]:
    found = records.addresses.get(name)
    if found is not None:
        return found
    pod_ip = _pod_address(name, domain)
    return [pod_ip] if pod_ip is not None else []


def _pod_address(name: dns.name.Name, domain: dns.name.Name) -> IP | None:
    """1-2-3-4.ns.pod.D -> 1.2.3.4: any such name answers its own address (as kube-dns did)."""
    labels = name.relativize(domain).labels
    if len(labels) != 3 or labels[2].lower() != b"pod":
        return None
    try:
        return ipaddress.IPv4Address(labels[0].decode().replace("-", "."))
    except ValueError:
        return None


def _exists(name: dns.name.Name, domain: dns.name.Name, records: ClusterRecords) -> bool:
    return name == domain or name in records.names or _pod_address(name, domain) is not None


def _target_addresses(
    srv_rrsets: list[dns.rrset.RRset], domain: dns.name.Name, records: ClusterRecords
) -> list[dns.rrset.RRset]:
    """A/AAAA of the SRV targets, for the additional section (saves the client a lookup per target)."""
    extra: list[dns.rrset.RRset] = []
    targets = {rd.target for rrset in srv_rrsets for rd in rrset}
    for target in sorted(targets):
        extra.extend(_rrsets_of(target, dns.rdatatype.A, domain, records))
        extra.extend(_rrsets_of(target, dns.rdatatype.AAAA, domain, records))
    return extra


def _soa(domain: dns.name.Name) -> dns.rrset.RRset:
    text = SOA_TEXT.format(domain=domain.to_text(), ttl=TTL)
    return _rrset(domain, dns.rdatatype.SOA, [text])


def _rrset(name: dns.name.Name, rdtype: dns.rdatatype.RdataType, texts: list[str]) -> dns.rrset.RRset:
    return dns.rrset.from_text_list(name, TTL, dns.rdataclass.IN, rdtype, texts)
