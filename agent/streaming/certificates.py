"""The streaming server's self-signed certificate and the fingerprint the API server pins.

Nobody issues the agent a certificate (yet), so it makes its own: an EC P-256 key and a
self-signed certificate, kept in `cert_dir` (key 0600) and reused across restarts so the
published fingerprint stays the same. The API server trusts it by the SHA-256 of its DER
encoding, which the agent publishes in the Node annotation `PIN_ANNOTATION`; names and
expiry are therefore not what makes it trusted, and it is reissued only when missing,
unreadable, or expired.

Memory: `cryptography` (about 8 MB resident once imported, most of it its Rust extension)
is imported only to issue a certificate, normally once in a node's life, and then in a
short-lived child process unless this process has it loaded already. A stored
certificate is checked with the `ssl` module instead: `load_cert_chain` proves that key and
certificate belong together, and the validity dates are read from the DER by `validity`.

Every function blocks (file I/O, key generation): async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import ssl
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from edgekube.security.files import write_atomic

if TYPE_CHECKING:
    from cryptography import x509

log = structlog.get_logger(__name__)

PIN_ANNOTATION = "edgekube.io/streaming-cert-sha256"
"""Node annotation holding `fingerprint()` of the node's streaming certificate."""

VALIDITY = timedelta(days=3650)
BACKDATE = timedelta(hours=1)
"""Clocks of devices without an RTC run behind until NTP catches up."""
ISSUE_TIMEOUT = 60.0
"""Seconds the child process that issues a certificate may take (a Pi Zero starting Python is slow)."""


@dataclass(frozen=True)
class ServingCertificate:
    cert: Path
    key: Path
    fingerprint: str
    """SHA-256 of the DER certificate, 64 lowercase hex digits."""


def fingerprint(cert_pem: bytes) -> str:
    """SHA-256 (hex) of the DER form of a PEM certificate; ValueError when it is not one."""
    return hashlib.sha256(_der(cert_pem)).hexdigest()


def _der(cert_pem: bytes) -> bytes:
    try:
        return ssl.PEM_cert_to_DER_cert(cert_pem.decode("ascii"))
    except UnicodeDecodeError as err:
        raise ValueError("not a PEM certificate") from err


def ensure_certificate(cert_dir: Path, names: tuple[str, ...] = ()) -> ServingCertificate:
    """The stored certificate when still usable, else a new one; its paths and fingerprint."""
    cert_path, key_path = cert_dir / "serving.crt", cert_dir / "serving.key"
    now = datetime.now(UTC)
    if not _usable(cert_path, key_path, now):
        if "cryptography" in sys.modules:  # already paid for (the server's embedded agent): issue here
            issue_into(cert_dir, names)
        else:
            _issue_in_child(cert_dir, names)
        log.info("streaming.certificate_issued", path=str(cert_path))
    return ServingCertificate(cert_path, key_path, fingerprint(cert_path.read_bytes()))


def issue_into(cert_dir: Path, names: tuple[str, ...]) -> None:
    """Issue a new key and certificate into `cert_dir` (imports `cryptography`)."""
    cert_pem, key_pem = _issue(names, datetime.now(UTC))
    write_atomic(cert_dir / "serving.key", key_pem, mode=0o600)
    write_atomic(cert_dir / "serving.crt", cert_pem, mode=0o644)


def _issue_in_child(cert_dir: Path, names: tuple[str, ...]) -> None:
    """`issue_into` in a short-lived Python process, so that this one never maps `cryptography`.

    The child gets our sys.path (a zipapp or a venv alike); OSError when it fails."""
    code = "import sys; from pathlib import Path; from agent.streaming.certificates import issue_into; "
    code += "issue_into(Path(sys.argv[1]), tuple(sys.argv[2:]))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(cert_dir), *names],
            env=env, capture_output=True, text=True, timeout=ISSUE_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as err:
        raise OSError(f"issuing the streaming certificate took over {ISSUE_TIMEOUT:.0f}s") from err
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise OSError(f"issuing the streaming certificate failed ({done.returncode}): {last}")


def _usable(cert_path: Path, key_path: Path, now: datetime) -> bool:
    try:
        not_before, not_after = validity(_der(cert_path.read_bytes()))
        # Raises ssl.SSLError (an OSError) when the key is unreadable or not the certificate's.
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert_path, key_path, password=_no_password)
    except (OSError, ValueError):
        return False
    return not_before <= now < not_after


def _no_password() -> bytes:
    """Our key is never encrypted; without a callback OpenSSL would prompt on the terminal for one."""
    return b""


def validity(der: bytes) -> tuple[datetime, datetime]:
    """(notBefore, notAfter) of a DER X.509 certificate, as aware UTC datetimes; ValueError if malformed.

    Certificate = SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
    signature, issuer, validity SEQUENCE { notBefore Time, notAfter Time }, ... }, ... } (RFC 5280).
    """
    try:
        _, start, _ = _expect(der, 0, 0x30)  # Certificate
        _, pos, _ = _expect(der, start, 0x30)  # tbsCertificate
        if der[pos] == 0xA0:  # explicit version tag: skip it
            pos = _element(der, pos)[2]
        for tag in (0x02, 0x30, 0x30):  # serialNumber, signature algorithm, issuer
            pos = _expect(der, pos, tag)[2]
        _, pos, _ = _expect(der, pos, 0x30)  # validity
        not_before, pos = _time(der, pos)
        not_after, _ = _time(der, pos)
    except IndexError as err:
        raise ValueError("truncated certificate") from err
    return not_before, not_after


def _element(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of the content, end of the content) of the DER element at `pos`."""
    tag, first = der[pos], der[pos + 1]
    if first < 0x80:
        start, length = pos + 2, first
    else:
        count = first & 0x7F
        if not 0 < count <= 4:
            raise ValueError("unsupported DER length")
        start, length = pos + 2 + count, int.from_bytes(der[pos + 2 : pos + 2 + count], "big")
    if start + length > len(der):
        raise ValueError("truncated certificate")
    return tag, start, start + length


def _expect(der: bytes, pos: int, tag: int) -> tuple[int, int, int]:
    found = _element(der, pos)
    if found[0] != tag:
        raise ValueError(f"unexpected DER tag {found[0]:#x} at {pos}, wanted {tag:#x}")
    return found


def _time(der: bytes, pos: int) -> tuple[datetime, int]:
    """A UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) and the position after it."""
    tag, start, end = _element(der, pos)
    text = der[start:end].decode("ascii")
    if tag == 0x17 and len(text) == 13:
        year = int(text[:2])
        # RFC 5280 4.1.2.5.1: YY >= 50 means 19YY, YY < 50 means 20YY.
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != 0x18 or len(text) != 15:
        raise ValueError(f"unsupported certificate time {text!r}")
    if not text.endswith("Z"):
        raise ValueError(f"certificate time not in UTC: {text!r}")
    return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC), end


def _issue(names: tuple[str, ...], now: datetime) -> tuple[bytes, bytes]:
    # Imported here, not at the top: see the module docstring (memory).
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

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
    from cryptography import x509

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
