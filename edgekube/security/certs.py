"""The cluster CA and the API server's serving certificate, kept as PEM files in one directory.

`ensure_tls(dir, sans=...)` runs at every server start:

- the CA (`ca.crt`, `ca.key`) is created once and then reused for as long as it is valid,
  because every kubeconfig and agent trusts it; replacing it cuts them all off;
- the serving certificate (`serving.crt`, `serving.key`) is reissued whenever it no
  longer covers the requested names, was not issued by the current CA, or expires
  within `RENEW_BEFORE`.

Keys are EC P-256: small, and signing is cheap on a Raspberry Pi. Key files are 0600.
Every call blocks (file I/O, key generation): async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edgekube.security.files import write_atomic

log = structlog.get_logger(__name__)

CA_VALIDITY = timedelta(days=3650)
SERVING_VALIDITY = timedelta(days=365)
RENEW_BEFORE = timedelta(days=30)
# Devices without a real-time clock (Raspberry Pi) drift until NTP catches up; a
# certificate that starts "now" would be rejected by a peer whose clock runs behind.
BACKDATE = timedelta(hours=1)

# Names in-cluster clients and kubectl use for the API server, always covered.
BUILTIN_DNS_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
BUILTIN_IPS = ("127.0.0.1", "::1")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class TLSFiles:
    """Where the PEM files live. `ca_key` is there for issuing more certificates later."""

    ca_cert: Path
    serving_cert: Path
    serving_key: Path
    ca_key: Path


@dataclass(frozen=True)
class SubjectNames:
    """The DNS names and IP addresses a serving certificate must cover."""

    dns: frozenset[str]
    ips: frozenset[IPAddress]

    def covered_by(self, other: SubjectNames) -> bool:
        return self.dns <= other.dns and self.ips <= other.ips


def tls_files(tls_dir: Path) -> TLSFiles:
    """The file layout inside `tls_dir` (`<data_dir>/server/tls`)."""
    return TLSFiles(
        ca_cert=tls_dir / "ca.crt",
        serving_cert=tls_dir / "serving.crt",
        serving_key=tls_dir / "serving.key",
        ca_key=tls_dir / "ca.key",
    )


def requested_names(sans: Iterable[str]) -> SubjectNames:
    """The built-in names, the host name, and each of `sans` (a DNS name or an IP address).

    Unspecified addresses (`0.0.0.0`, `::`) and empty entries are skipped, so callers can
    pass the bind and advertise addresses unfiltered: only specific IPs belong in a SAN.
    """
    dns = {*BUILTIN_DNS_NAMES, socket.gethostname().lower()}
    ips: set[IPAddress] = {ipaddress.ip_address(a) for a in BUILTIN_IPS}
    for raw in sans:
        entry = raw.strip()
        if not entry:
            continue
        ip = _as_ip(entry)
        if ip is None:
            if not entry.isascii():
                raise ValueError(f"TLS SAN {entry!r}: DNS names must be ASCII (use punycode)")
            dns.add(entry.lower().rstrip("."))
        elif not ip.is_unspecified:
            ips.add(ip)
    return SubjectNames(frozenset(dns), frozenset(ips))


def _as_ip(entry: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(entry.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def ensure_tls(tls_dir: Path, *, sans: list[str]) -> TLSFiles:
    """Create or reuse the CA and serving certificate in `tls_dir`; return their paths."""
    files = tls_files(tls_dir)
    tls_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.now(UTC)
    names = requested_names(sans)

    ca = _load_ca(files, now)
    if ca is None:
        ca = _new_ca(now)
        write_atomic(files.ca_key, _key_pem(ca[1]), mode=0o600)
        write_atomic(files.ca_cert, ca[0].public_bytes(serialization.Encoding.PEM), mode=0o644)
        log.info("tls.ca_created", path=str(files.ca_cert))
    ca_cert, ca_key = ca

    reason = _serving_problem(files, ca_cert, names, now)
    if reason:
        cert, key = _new_serving(ca_cert, ca_key, names, now)
        write_atomic(files.serving_key, _key_pem(key), mode=0o600)
        write_atomic(files.serving_cert, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
        log.info("tls.serving_issued", reason=reason, path=str(files.serving_cert))
    return files


def server_ssl_context(files: TLSFiles) -> ssl.SSLContext:
    """A server-side context presenting the serving certificate; TLS 1.2 or newer only."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certfile=files.serving_cert, keyfile=files.serving_key)
    return ctx


def client_ssl_context(ca_cert: Path) -> ssl.SSLContext:
    """A client-side context that trusts only the cluster CA (agents, tests)."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_cert))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def certificate_names(cert: x509.Certificate) -> SubjectNames:
    """The DNS names and IPs in a certificate's subjectAltName extension."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return SubjectNames(frozenset(), frozenset())
    dns = frozenset(n.lower() for n in san.get_values_for_type(x509.DNSName))
    ips = frozenset(
        ip
        for ip in san.get_values_for_type(x509.IPAddress)
        if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address)
    )
    return SubjectNames(dns, ips)


# -- loading ---------------------------------------------------------------------------------


def _load_ca(files: TLSFiles, now: datetime) -> tuple[x509.Certificate, SigningKey] | None:
    """The stored CA, or None when missing, unreadable, mismatched or expired."""
    if not files.ca_cert.exists() and not files.ca_key.exists():
        return None
    try:
        cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as err:
        log.warning("tls.ca_unusable", error=str(err), action="creating a new CA")
        return None
    if not isinstance(key, SigningKey) or not _same_public_key(cert, key):
        log.warning("tls.ca_key_mismatch", action="creating a new CA")
        return None
    if cert.not_valid_after_utc <= now:
        log.warning("tls.ca_expired", not_after=cert.not_valid_after_utc.isoformat())
        return None
    return cert, key


def _serving_problem(
    files: TLSFiles, ca_cert: x509.Certificate, names: SubjectNames, now: datetime
) -> str:
    """Why the serving certificate must be reissued, or "" when it is still good."""
    try:
        cert = x509.load_pem_x509_certificate(files.serving_cert.read_bytes())
        key = serialization.load_pem_private_key(files.serving_key.read_bytes(), password=None)
    except FileNotFoundError:
        return "missing"
    except (OSError, ValueError, TypeError):
        return "unreadable"
    if not _same_public_key(cert, key):
        return "key mismatch"
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return "not issued by the current CA"
    if not names.covered_by(certificate_names(cert)):
        return "names changed"
    if cert.not_valid_after_utc - now < RENEW_BEFORE:
        return "expiring"
    if cert.not_valid_before_utc > now:
        return "not yet valid"
    return ""


def _same_public_key(cert: x509.Certificate, key: object) -> bool:
    public = getattr(key, "public_key", None)
    if public is None:
        return False
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return bool(public().public_bytes(*fmt) == cert.public_key().public_bytes(*fmt))


# -- issuing ---------------------------------------------------------------------------------


def _new_ca(now: datetime) -> tuple[x509.Certificate, SigningKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    # A timestamp in the name, as k3s does: a client holding an older CA with the same
    # name would otherwise report a confusing signature error instead of "unknown issuer".
    common_name = f"edgekube-ca@{int(now.timestamp())}"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(aki, critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _new_serving(
    ca_cert: x509.Certificate, ca_key: SigningKey, names: SubjectNames, now: datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in sorted(names.dns)]
    alt_names += [x509.IPAddress(ip) for ip in sorted(names.ips, key=lambda i: (i.version, int(i)))]
    # A serving certificate must not outlive its issuer: clients would reject the chain.
    not_after = min(now + SERVING_VALIDITY, ca_cert.not_valid_after_utc)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "edgekube-apiserver")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: SigningKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
