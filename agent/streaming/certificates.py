"""The streaming server's self-signed certificate and the fingerprint the API server pins.

Nobody issues the agent a certificate (yet), so it makes its own: an EC P-256 key and a
self-signed certificate, kept in `cert_dir` (key 0600) and reused across restarts so the
published fingerprint stays the same. The API server trusts it by the SHA-256 of its DER
encoding, which the agent publishes in the Node annotation `PIN_ANNOTATION`; names and
expiry are therefore not what makes it trusted, and it is reissued only when missing,
unreadable, or expired.

Every function blocks (file I/O, key generation): async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edgekube.security.files import write_atomic

log = structlog.get_logger(__name__)

PIN_ANNOTATION = "edgekube.io/streaming-cert-sha256"
"""Node annotation holding `fingerprint()` of the node's streaming certificate."""

VALIDITY = timedelta(days=3650)
BACKDATE = timedelta(hours=1)
"""Clocks of devices without an RTC run behind until NTP catches up."""


@dataclass(frozen=True)
class ServingCertificate:
    cert: Path
    key: Path
    fingerprint: str
    """SHA-256 of the DER certificate, 64 lowercase hex digits."""


def fingerprint(cert_pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def ensure_certificate(cert_dir: Path, names: tuple[str, ...] = ()) -> ServingCertificate:
    """The stored certificate when still usable, else a new one; its paths and fingerprint."""
    cert_path, key_path = cert_dir / "serving.crt", cert_dir / "serving.key"
    now = datetime.now(UTC)
    if not _usable(cert_path, key_path, now):
        cert_pem, key_pem = _issue(names, now)
        write_atomic(key_path, key_pem, mode=0o600)
        write_atomic(cert_path, cert_pem, mode=0o644)
        log.info("streaming.certificate_issued", path=str(cert_path))
    return ServingCertificate(cert_path, key_path, fingerprint(cert_path.read_bytes()))


def _usable(cert_path: Path, key_path: Path, now: datetime) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return False
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        return False
    return cert.not_valid_before_utc <= now < cert.not_valid_after_utc


def _issue(names: tuple[str, ...], now: datetime) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"edgekube-agent-streaming@{int(now.timestamp())}")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(_alt_names(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _alt_names(names: tuple[str, ...]) -> list[x509.GeneralName]:
    result: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    for name in names:
        entry = name.strip()
        if not entry:
            continue
        try:
            ip = ipaddress.ip_address(entry)
        except ValueError:
            if entry.isascii():
                result.append(x509.DNSName(entry.lower()))
            continue
        if not ip.is_unspecified:
            result.append(x509.IPAddress(ip))
    unique: list[x509.GeneralName] = []
    for item in result:
        if item not in unique:
            unique.append(item)
    return unique
