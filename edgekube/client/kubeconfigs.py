"""How to reach a server: its URL, the CA that signed its certificate, and a bearer token.

`Config` comes from a kubeconfig file (the admin one the server writes, or any
kubectl-style file with a token user) or is given outright. Its TLS context trusts only
the configured CA, not the system store, so a server certificate from anywhere else is
refused.
"""

from __future__ import annotations

import base64
import binascii
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_KUBECONFIG = Path("/etc/edgekube/edgekube.yaml")


class ConfigError(Exception):
    """The kubeconfig is missing, unreadable, or lacks what the client needs."""


@dataclass(frozen=True)
class Config:
    """Connection settings for `ApiClient`."""

    server: str
    """Base URL, e.g. `https://10.0.0.2:6443` (no trailing slash)."""
    token: str = ""
    """Bearer token sent on every request; empty sends none."""
    ca_pem: bytes | None = None
    """PEM of the CA to trust; None trusts the system store (a server with a public certificate)."""
    insecure_skip_tls_verify: bool = False
    """Accept any server certificate. Only for throwaway test set-ups."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "server", self.server.rstrip("/"))

    @classmethod
    def from_kubeconfig(cls, path: str | Path = DEFAULT_KUBECONFIG, *, context: str | None = None) -> Config:
        """Read the cluster and user of `context` (default: the current one) from a kubeconfig file."""
        path = Path(path)
        try:
            doc = yaml.safe_load(path.read_text())
        except OSError as err:
            raise ConfigError(f"cannot read kubeconfig {path}: {err.strerror or err}") from err
        except yaml.YAMLError as err:
            raise ConfigError(f"kubeconfig {path} is not valid YAML: {err}") from err
        return cls.from_kubeconfig_data(doc, context=context, base_dir=path.parent, source=str(path))

    @classmethod
    def from_kubeconfig_data(
        cls, doc: Any, *, context: str | None = None, base_dir: Path = Path("."), source: str = "kubeconfig"
    ) -> Config:
        """The same as `from_kubeconfig`, from an already-parsed document."""
        if not isinstance(doc, dict):
            raise ConfigError(f"{source}: not a kubeconfig (expected a mapping)")
        name = context or doc.get("current-context")
        if not name:
            raise ConfigError(f"{source}: no current-context set and no context given")
        ctx = _named(doc, "contexts", "context", str(name), source)
        cluster = _named(doc, "clusters", "cluster", str(ctx.get("cluster", "")), source)
        user = _named(doc, "users", "user", str(ctx.get("user", "")), source) if ctx.get("user") else {}
        server = cluster.get("server")
        if not server:
            raise ConfigError(f"{source}: cluster {ctx.get('cluster')!r} has no server URL")
        return cls(
            server=str(server),
            token=_token(user, base_dir, source),
            ca_pem=_ca(cluster, base_dir, source),
            insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify")),
        )

    @classmethod
    def from_files(cls, server: str, *, token: str, ca_file: str | Path | None = None) -> Config:
        """Explicit settings: a URL, a token, and the path of the CA certificate (PEM)."""
        ca = None
        if ca_file is not None:
            try:
                ca = Path(ca_file).read_bytes()
            except OSError as err:
                raise ConfigError(f"cannot read CA file {ca_file}: {err.strerror or err}") from err
        return cls(server=server, token=token, ca_pem=ca)

    def ssl_context(self) -> ssl.SSLContext:
        """TLS settings: trust exactly the configured CA (or the system store without one)."""
        if self.insecure_skip_tls_verify:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        if self.ca_pem is None:
            return ssl.create_default_context()
        try:
            # With `cadata`, the default context loads no system certificates.
            return ssl.create_default_context(cadata=self.ca_pem.decode("ascii"))
        except (ssl.SSLError, UnicodeDecodeError, ValueError) as err:
            raise ConfigError(f"the CA certificate is not valid PEM: {err}") from err


def _named(doc: dict[str, Any], section: str, field: str, name: str, source: str) -> dict[str, Any]:
    for entry in doc.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name and isinstance(entry.get(field), dict):
            found: dict[str, Any] = entry[field]
            return found
    raise ConfigError(f"{source}: no {field} named {name!r} in {section}")


def _token(user: dict[str, Any], base_dir: Path, source: str) -> str:
    if user.get("token"):
        return str(user["token"])
    if user.get("tokenFile"):
        path = base_dir / str(user["tokenFile"])
        try:
            return path.read_text().strip()
        except OSError as err:
            raise ConfigError(f"{source}: cannot read tokenFile {path}: {err.strerror or err}") from err
    return ""


def _ca(cluster: dict[str, Any], base_dir: Path, source: str) -> bytes | None:
    if cluster.get("certificate-authority-data"):
        try:
            return base64.b64decode(str(cluster["certificate-authority-data"]), validate=True)
        except (binascii.Error, ValueError) as err:
            raise ConfigError(f"{source}: certificate-authority-data is not base64: {err}") from err
    if cluster.get("certificate-authority"):
        path = base_dir / str(cluster["certificate-authority"])
        try:
            return path.read_bytes()
        except OSError as err:
            raise ConfigError(f"{source}: cannot read certificate-authority {path}: {err.strerror or err}") from err
    return None
