"""The streaming server's self-signed certificate: kept across restarts, replaced when broken."""

from __future__ import annotations

import hashlib
import ssl
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agent.streaming.certificates import ensure_certificate, fingerprint, validity


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


def _certificate(not_before: datetime, not_after: datetime) -> tuple[bytes, bytes]:
    """A self-signed PEM certificate and key with the given validity, made with `cryptography`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.mark.parametrize(
    ("not_before", "not_after"),
    [
        (datetime(2024, 3, 1, 12, 30, 5, tzinfo=UTC), datetime(2034, 3, 1, 12, 30, 5, tzinfo=UTC)),  # UTCTime
        (datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2049, 12, 31, 0, 0, 0, tzinfo=UTC)),  # 19YY
        (datetime(2024, 1, 1, tzinfo=UTC), datetime(2050, 1, 1, tzinfo=UTC)),  # GeneralizedTime from 2050
        (datetime(2024, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),  # "no expiry"
    ],
)
def test_validity_is_read_from_der(not_before: datetime, not_after: datetime) -> None:
    """The validity dates read without `cryptography` are the ones the certificate was made with."""
    cert_pem, _ = _certificate(not_before, not_after)
    assert validity(ssl.PEM_cert_to_DER_cert(cert_pem.decode())) == (not_before, not_after)


@pytest.mark.parametrize("der", [b"", b"\x30", b"\x30\x05\x02\x01\x01", b"\x02\x01\x01", b"\x30\x84\xff\xff\xff\xff"])
def test_malformed_der_is_rejected(der: bytes) -> None:
    """A truncated or foreign DER blob is a ValueError, never an IndexError or a wrong date."""
    with pytest.raises(ValueError):
        validity(der)


def test_expired_certificate_is_replaced(tmp_path: Path) -> None:
    """A stored certificate past its notAfter is reissued."""
    now = datetime.now(UTC)
    cert_pem, key_pem = _certificate(now - timedelta(days=10), now - timedelta(days=1))
    (tmp_path / "serving.crt").write_bytes(cert_pem)
    (tmp_path / "serving.key").write_bytes(key_pem)
    made = ensure_certificate(tmp_path)
    assert made.fingerprint != fingerprint(cert_pem)
    assert validity(ssl.PEM_cert_to_DER_cert(made.cert.read_text()))[1] > now


def test_key_of_another_certificate_is_replaced(tmp_path: Path) -> None:
    """A key that does not belong to the stored certificate means a new pair."""
    now = datetime.now(UTC)
    cert_pem, _ = _certificate(now - timedelta(days=1), now + timedelta(days=10))
    _, other_key = _certificate(now - timedelta(days=1), now + timedelta(days=10))
    (tmp_path / "serving.crt").write_bytes(cert_pem)
    (tmp_path / "serving.key").write_bytes(other_key)
    made = ensure_certificate(tmp_path)
    assert made.fingerprint != fingerprint(cert_pem)
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(made.cert, made.key)


def _in_fresh_process(cert_dir: Path) -> list[str]:
    """ensure_certificate(cert_dir) in a new interpreter: [fingerprint, whether cryptography got imported]."""
    code = (
        "import sys; from pathlib import Path; from agent.streaming.certificates import ensure_certificate; "
        f"made = ensure_certificate(Path({str(cert_dir)!r}), ('node-1',)); "
        "print(made.fingerprint, any(m.startswith('cryptography') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return out.strip().splitlines()[-1].split()  # the last line: structlog may print before it


def test_stored_certificate_loads_without_cryptography(tmp_path: Path) -> None:
    """Reusing a stored certificate does not import `cryptography` (about 8 MB of agent memory)."""
    first = ensure_certificate(tmp_path)
    assert _in_fresh_process(tmp_path) == [first.fingerprint, "False"]


def test_new_certificate_is_issued_in_a_child(tmp_path: Path) -> None:
    """A process without `cryptography` gets its first certificate from a child process and stays without it."""
    cert_dir = tmp_path / "streaming"
    printed, loaded = _in_fresh_process(cert_dir)
    assert loaded == "False"
    assert printed == fingerprint((cert_dir / "serving.crt").read_bytes())
    assert (cert_dir / "serving.key").stat().st_mode & 0o777 == 0o600
    assert ensure_certificate(cert_dir).fingerprint == printed
