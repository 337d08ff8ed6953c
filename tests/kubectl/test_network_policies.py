"""`kubectl apply/get/describe/delete networkpolicy`, and the cluster services in `kubectl get svc`."""

from __future__ import annotations

from pathlib import Path

from tests.kubectl.conftest import Kubectl

POLICY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-allow
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: client
    - ipBlock:
        cidr: 10.0.0.0/8
        except: [10.1.0.0/16]
    ports:
    - port: 80
      protocol: TCP
    - port: 8000
      endPort: 8100
      protocol: TCP
  egress:
  - to:
    - namespaceSelector: {}
    ports:
    - port: 53
      protocol: UDP
"""


def test_apply_get_describe_delete(kubectl: Kubectl, tmp_path: Path) -> None:
    """The whole round trip a user makes with a NetworkPolicy manifest."""
    manifest = tmp_path / "policy.yaml"
    manifest.write_text(POLICY)
    assert "networkpolicy.networking.k8s.io/web-allow created" in kubectl.out("apply", "-f", str(manifest))
    lines = kubectl.out("get", "networkpolicy").splitlines()
    assert lines[0].split() == ["NAME", "POD-SELECTOR", "AGE"]
    assert lines[1].split()[:2] == ["web-allow", "app=web"]
    assert kubectl.out("get", "netpol", "web-allow", "-o", "jsonpath={.spec.policyTypes}") == '["Ingress","Egress"]'
    described = kubectl.out("describe", "networkpolicy", "web-allow")
    for expected in (
        "Name:         web-allow",
        "PodSelector:     app=web",
        "role=client",
        "10.0.0.0/8",
        "8000-8100/TCP",
    ):
        assert expected in described, described
    # A second apply of the same manifest changes nothing.
    assert "unchanged" in kubectl.out("apply", "-f", str(manifest))
    assert "deleted" in kubectl.out("delete", "-f", str(manifest))
    assert kubectl.out("get", "networkpolicy", "-o", "name") == ""


def test_invalid_policy_is_refused_with_the_reason(kubectl: Kubectl, tmp_path: Path) -> None:
    """kubectl shows the server's 422 message."""
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(POLICY.replace("endPort: 8100", "endPort: 7000"))
    failed = kubectl("apply", "-f", str(manifest), expect_fail=True)
    assert "must be greater than or equal to `port`" in failed.stderr


def test_cluster_services_are_listed(kubectl_session: Kubectl) -> None:
    """`kubectl get svc` shows kubernetes in default and kube-dns in kube-system, as on k3s."""
    default = kubectl_session.out("get", "svc", "kubernetes", "-n", "default").splitlines()
    assert default[1].split()[:5] == ["kubernetes", "ClusterIP", "10.43.0.1", "<none>", "443/TCP"]
    system = kubectl_session.out("get", "svc", "-n", "kube-system").splitlines()
    row = next(line.split() for line in system if line.startswith("kube-dns"))
    assert row[:5] == ["kube-dns", "ClusterIP", "10.43.0.10", "<none>", "53/UDP,53/TCP"]
