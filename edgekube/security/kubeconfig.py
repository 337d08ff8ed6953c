"""Kubeconfig files: what kubectl and the `kubernetes` client need to reach this server.

One cluster (server URL plus the CA inline), one token user, one context named
`default`, selected as current. The file is replaced atomically, so a kubectl running
at the same moment never reads half a file, and it gets `mode` even when it already
existed with other permissions (it holds a credential).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from edgekube.security.files import write_atomic


def kubeconfig_document(
    *, server_url: str, ca_pem: bytes, token: str, cluster_name: str, user_name: str
) -> dict[str, Any]:
    """The kubeconfig as a dict, in the `v1` `Config` shape."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {
                    "server": server_url,
                    "certificate-authority-data": base64.b64encode(ca_pem).decode("ascii"),
                },
            }
        ],
        "users": [{"name": user_name, "user": {"token": token}}],
        "contexts": [{"name": "default", "context": {"cluster": cluster_name, "user": user_name}}],
        "current-context": "default",
    }


def write_kubeconfig(
    path: Path,
    *,
    server_url: str,
    ca_pem: bytes,
    token: str,
    mode: int = 0o600,
    cluster_name: str = "edgekube",
    user_name: str = "admin",
) -> None:
    """Write a kubeconfig for `server_url` to `path`, creating parent directories."""
    doc = kubeconfig_document(
        server_url=server_url,
        ca_pem=ca_pem,
        token=token,
        cluster_name=cluster_name,
        user_name=user_name,
    )
    text = yaml.safe_dump(doc, default_flow_style=False, sort_keys=False)
    write_atomic(path, text.encode(), mode=mode)
