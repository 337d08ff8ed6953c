"""Kubeconfig files, as kubectl and the `kubernetes` client read them."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import kubernetes
import yaml

from edgekube.security.kubeconfig import write_kubeconfig

CA = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_document_shape(tmp_path: Path) -> None:
    """One cluster with inline CA, one token user, a `default` context that is current."""
    path = tmp_path / "etc" / "edgekube" / "edgekube.yaml"
    write_kubeconfig(path, server_url="https://127.0.0.1:6443", ca_pem=CA, token="tok")
    doc = yaml.safe_load(path.read_text())
    assert doc["current-context"] == "default"
    cluster = doc["clusters"][0]
    assert cluster["name"] == "edgekube"
    assert cluster["cluster"]["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]) == CA
    assert doc["users"] == [{"name": "admin", "user": {"token": "tok"}}]
    assert doc["contexts"] == [
        {"name": "default", "context": {"cluster": "edgekube", "user": "admin"}}
    ]


def test_mode_is_applied_even_to_an_existing_file(tmp_path: Path) -> None:
    """An existing 0644 file is replaced with the requested mode."""
    path = tmp_path / "kubeconfig"
    path.write_text("old")
    path.chmod(0o644)
    write_kubeconfig(path, server_url="https://h:6443", ca_pem=CA, token="t", mode=0o640)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert "old" not in path.read_text()


def test_names_can_be_chosen(tmp_path: Path) -> None:
    """Cluster and user names follow the arguments."""
    path = tmp_path / "kubeconfig"
    write_kubeconfig(
        path, server_url="https://h:6443", ca_pem=CA, token="t", cluster_name="c", user_name="u"
    )
    doc = yaml.safe_load(path.read_text())
    assert doc["contexts"][0]["context"] == {"cluster": "c", "user": "u"}


def test_kubernetes_client_loads_it(tmp_path: Path) -> None:
    """The official Python client's loader accepts the file and takes host and token from it."""
    path = tmp_path / "kubeconfig"
    write_kubeconfig(path, server_url="https://10.0.0.1:6443", ca_pem=CA, token="tok-1")
    config = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]  # untyped library
        config_file=str(path), client_configuration=config
    )
    assert config.host == "https://10.0.0.1:6443"
    assert config.api_key["BearerToken"] == "Bearer tok-1"
    assert config.ssl_ca_cert is not None
    assert Path(config.ssl_ca_cert).read_bytes() == CA
