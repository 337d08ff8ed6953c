"""The streaming server's self-signed certificate: kept across restarts, replaced when broken."""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

from cryptography import x509

from agent.streaming.certificates import ensure_certificate, fingerprint


def test_certificate_is_reused(tmp_path: Path) -> None:
    """A restarted agent keeps its certificate, so the published fingerprint stays valid."""
    first = ensure_certificate(tmp_path, ("node-1", "10.0.0.5"))
    again = ensure_certificate(tmp_path, ("node-1", "10.0.0.5"))
    assert first == again
    der = ssl.PEM_cert_to_DER_cert(first.cert.read_text())
    assert first.fingerprint == hashlib.sha256(der).hexdigest() == fingerprint(first.cert.read_bytes())
    assert first.key.stat().st_mode & 0o777 == 0o600


def test_names_are_in_the_certificate(tmp_path: Path) -> None:
    """The node's names and IPs are in the SAN (for humans with openssl; trust is by fingerprint)."""
    made = ensure_certificate(tmp_path, ("Node-1", "10.0.0.5", "0.0.0.0", ""))
    cert = x509.load_pem_x509_certificate(made.cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost", "node-1"}
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "10.0.0.5"}


def test_broken_key_is_replaced(tmp_path: Path) -> None:
    """An unreadable key means a new certificate (and a new fingerprint to publish)."""
    first = ensure_certificate(tmp_path)
    first.key.write_text("garbage")
    second = ensure_certificate(tmp_path)
    assert second.fingerprint != first.fingerprint
