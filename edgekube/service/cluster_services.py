"""The objects of the two Services every cluster has: `default/kubernetes` and `kube-system/kube-dns`.

Plain data builders; `bootstrap` writes them. Both Services have no selector, so the
endpoint controllers leave their Endpoints and EndpointSlices to whoever wrote them:
here, the server itself, for `kubernetes` (pointing at its advertised address and HTTPS
port). `kube-dns` has no endpoints at all: every agent answers DNS on the cluster DNS
address locally, and the Service exists so that the address is reserved and shows up in
`kubectl get svc -n kube-system`, as on k3s.
"""

from __future__ import annotations

import ipaddress

from edgekube.resources.objects import Obj

API_NAMESPACE = "default"
API_SERVICE = "kubernetes"
API_PORT_NAME = "https"
API_SERVICE_PORT = 443
DNS_NAMESPACE = "kube-system"
DNS_SERVICE = "kube-dns"
DNS_PORT = 53
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
# Tells an EndpointSlice mirroring controller that the slice is written alongside, by us.
SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror"
API_LABELS = {"component": "apiserver", "provider": "kubernetes"}
DNS_LABELS = {"k8s-app": "kube-dns", "kubernetes.io/name": "EdgeKubeDNS"}


def first_service_ip(service_cidr: str) -> str:
    """The `kubernetes` Service's address: the first usable address of the service CIDR (10.43.0.1)."""
    return str(ipaddress.ip_network(service_cidr, strict=False).network_address + 1)


def api_service(service_cidr: str, https_port: int) -> Obj:
    ip = first_service_ip(service_cidr)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": API_SERVICE, "namespace": API_NAMESPACE, "labels": dict(API_LABELS)},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": ip,
            "clusterIPs": [ip],
            "ports": [api_service_port(https_port)],
            "sessionAffinity": "None",
        },
    }


def api_service_port(https_port: int) -> Obj:
    return {"name": API_PORT_NAME, "port": API_SERVICE_PORT, "protocol": "TCP", "targetPort": https_port}


def api_endpoints(address: str, https_port: int) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": API_SERVICE, "namespace": API_NAMESPACE, "labels": {SKIP_MIRROR_LABEL: "true"}},
        "subsets": [
            {
                "addresses": [{"ip": address}],
                "ports": [{"name": API_PORT_NAME, "port": https_port, "protocol": "TCP"}],
            }
        ],
    }


def api_endpoint_slice(address: str, https_port: int) -> Obj:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": API_SERVICE, "namespace": API_NAMESPACE, "labels": {SERVICE_NAME_LABEL: API_SERVICE}},
        "addressType": "IPv6" if ":" in address else "IPv4",
        "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
        "ports": [{"name": API_PORT_NAME, "port": https_port, "protocol": "TCP"}],
    }


def dns_service(cluster_dns: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": DNS_SERVICE, "namespace": DNS_NAMESPACE, "labels": dict(DNS_LABELS)},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_dns,
            "clusterIPs": [cluster_dns],
            "ports": [
                {"name": "dns", "port": DNS_PORT, "protocol": "UDP", "targetPort": DNS_PORT},
                {"name": "dns-tcp", "port": DNS_PORT, "protocol": "TCP", "targetPort": DNS_PORT},
            ],
        },
    }
