"""Config from kubeconfig documents and files: contexts, inline or file CA, token or tokenFile."""

from __future__ import annotations

import base64
import ssl
from pathlib import Path
from typing import Any

import pytest

from edgekube.client import Config, ConfigError
from edgekube.security.certs import ensure_tls

CA_PEM = b"-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n"


def document(**cluster: Any) -> dict[str, Any]:
    return {
        "clusters": [
            {"name": "one", "cluster": {"server": "https://10.0.0.1:6443/", **cluster}},
            {"name": "two", "cluster": {"server": "https://10.0.0.2:6443"}},
        ],
        "users": [{"name": "admin", "user": {"token": "secret"}}, {"name": "filed", "user": {"tokenFile": "tok"}}],
        "contexts": [
            {"name": "default", "context": {"cluster": "one", "user": "admin"}},
            {"name": "other", "context": {"cluster": "two", "user": "filed"}},
        ],
        "current-context": "default",
    }


def test_current_context_with_inline_ca() -> None:
    """The current context picks the cluster and user; the URL loses its trailing slash."""
    doc = document(**{"certificate-authority-data": base64.b64encode(CA_PEM).decode()})
    config = Config.from_kubeconfig_data(doc)
    assert config == Config(server="https://10.0.0.1:6443", token="secret", ca_pem=CA_PEM)


def test_named_context_with_token_file(tmp_path: Path) -> None:
    """tokenFile and certificate-authority paths are read relative to the kubeconfig's folder."""
    (tmp_path / "tok").write_text("from-file\n")
    doc = document()
    doc["clusters"][1]["cluster"]["certificate-authority"] = "ca.crt"
    (tmp_path / "ca.crt").write_bytes(CA_PEM)
    config = Config.from_kubeconfig_data(doc, context="other", base_dir=tmp_path)
    assert (config.server, config.token, config.ca_pem) == ("https://10.0.0.2:6443", "from-file", CA_PEM)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("current-context"), "no current-context"),
        (lambda d: d["contexts"][0]["context"].update(cluster="gone"), "no cluster named 'gone'"),
        (lambda d: d["clusters"][0]["cluster"].pop("server"), "has no server URL"),
        (lambda d: d["clusters"][0]["cluster"].update({"certificate-authority-data": "%%"}), "not base64"),
    ],
)
def test_bad_documents_say_what_is_missing(change: Any, message: str) -> None:
    """Each broken kubeconfig raises ConfigError naming the problem."""
    doc = document()
    change(doc)
    with pytest.raises(ConfigError, match=message):
        Config.from_kubeconfig_data(doc)


def test_missing_file(tmp_path: Path) -> None:
    """A kubeconfig that is not there is a ConfigError with the path."""
    with pytest.raises(ConfigError, match="cannot read kubeconfig"):
        Config.from_kubeconfig(tmp_path / "absent.yaml")


def test_ssl_context_trusts_only_the_given_ca(tmp_path: Path) -> None:
    """With a CA, the context holds exactly that certificate (no system store) and checks host names."""
    files = ensure_tls(tmp_path, sans=["127.0.0.1"])
    context = Config.from_files("https://x", token="", ca_file=files.ca_cert).ssl_context()
    assert len(context.get_ca_certs()) == 1
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
