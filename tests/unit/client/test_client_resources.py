"""Resource values build the URLs of collections, objects and subresources."""

from __future__ import annotations

import pytest

from edgekube.client import DEPLOYMENTS, LEASES, NODES, PODS


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (PODS.path(), "/api/v1/pods"),
        (PODS.path("ns"), "/api/v1/namespaces/ns/pods"),
        (PODS.path("ns", "p"), "/api/v1/namespaces/ns/pods/p"),
        (PODS.path("ns", "p", "status"), "/api/v1/namespaces/ns/pods/p/status"),
        (NODES.path("ignored", "n1", "status"), "/api/v1/nodes/n1/status"),
        (LEASES.path("kube-node-lease", "n1"), "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1"),
        (DEPLOYMENTS.path(None, ""), "/apis/apps/v1/deployments"),
    ],
)
def test_paths(url: str, expected: str) -> None:
    """Core kinds live under /api/v1, grouped ones under /apis/GROUP/VERSION; cluster-scoped ignore namespace."""
    assert url == expected


def test_api_version() -> None:
    """apiVersion is the bare version for the core group."""
    assert (PODS.api_version, LEASES.api_version) == ("v1", "coordination.k8s.io/v1")


def test_subresource_needs_a_name() -> None:
    """A subresource of a collection is a caller's mistake."""
    with pytest.raises(ValueError, match="needs an object name"):
        PODS.path("ns", "", "status")
