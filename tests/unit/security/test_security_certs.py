"""The CA and serving certificate: what is issued, what is reused, and when it is reissued."""

from __future__ import annotations

import ipaddress
import socket
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.verification import PolicyBuilder, Store

from edgekube.security import certs
from edgekube.security.certs import TLSFiles, certificate_names, ensure_tls, requested_names


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture
def tls_dir(tmp_path: Path) -> Path:
    return tmp_path / "server" / "tls"


def test_files_are_created_with_private_keys_0600(tls_dir: Path) -> None:
    """First start writes the four PEM files; both keys are readable by the owner only."""
    files = ensure_tls(tls_dir, sans=[])
    for path in (files.ca_cert, files.ca_key, files.serving_cert, files.serving_key):
        assert path.is_file() and path.parent == tls_dir
    assert stat.S_IMODE(files.ca_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.serving_key.stat().st_mode) == 0o600


def test_ca_is_an_ec_p256_ca_valid_ten_years(tls_dir: Path) -> None:
    """The CA is self-signed EC P-256, marked as a CA, and valid for about ten years."""
    ca = _cert(ensure_tls(tls_dir, sans=[]).ca_cert)
    key = ca.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    assert ca.issuer == ca.subject
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    lifetime = ca.not_valid_after_utc - ca.not_valid_before_utc
    assert timedelta(days=3649) < lifetime < timedelta(days=3652)


@pytest.mark.parametrize(
    "host",
    ["localhost", "kubernetes", "kubernetes.default.svc.cluster.local", socket.gethostname()],
)
def test_chain_verifies_for_builtin_names(tls_dir: Path, host: str) -> None:
    """The serving certificate chains to the CA and is valid for each built-in DNS name."""
    files = ensure_tls(tls_dir, sans=[])
    verifier = (
        PolicyBuilder()
        .store(Store([_cert(files.ca_cert)]))
        .build_server_verifier(x509.DNSName(host.lower()))
    )
    chain = verifier.verify(_cert(files.serving_cert), [])
    assert chain[-1] == _cert(files.ca_cert)


def test_serving_certificate_lasts_one_year(tls_dir: Path) -> None:
    """The serving certificate is valid for about a year."""
    serving = _cert(ensure_tls(tls_dir, sans=[]).serving_cert)
    lifetime = serving.not_valid_after_utc - serving.not_valid_before_utc
    assert timedelta(days=364) < lifetime < timedelta(days=367)


@pytest.mark.parametrize(
    ("sans", "dns", "ips"),
    [
        ([], {"localhost", "kubernetes.default"}, {"127.0.0.1", "::1"}),
        (["edge.example.com", "10.0.0.5"], {"edge.example.com"}, {"10.0.0.5"}),
        (["Edge.Example.COM."], {"edge.example.com"}, set()),
        (["fd00::7", "[fd00::8]"], set(), {"fd00::7", "fd00::8"}),
        (["0.0.0.0", "::", ""], set(), set()),
    ],
)
def test_requested_sans_are_in_the_certificate(
    tls_dir: Path, sans: list[str], dns: set[str], ips: set[str]
) -> None:
    """Extra DNS names and IPs are covered, normalised; unspecified addresses are dropped."""
    names = certificate_names(_cert(ensure_tls(tls_dir, sans=sans).serving_cert))
    assert dns <= names.dns
    assert {ipaddress.ip_address(i) for i in ips} <= names.ips
    assert not any(ip.is_unspecified for ip in names.ips)


def test_non_ascii_san_is_rejected() -> None:
    """A DNS name that is not ASCII is refused with a message naming it."""
    with pytest.raises(ValueError, match="bücher"):
        requested_names(["bücher.example"])


def test_second_start_reuses_everything(tls_dir: Path) -> None:
    """With nothing changed, a second call rewrites no file."""
    first = ensure_tls(tls_dir, sans=["10.1.2.3"])
    before = {p: p.read_bytes() for p in _paths(first)}
    second = ensure_tls(tls_dir, sans=["10.1.2.3"])
    assert {p: p.read_bytes() for p in _paths(second)} == before


def test_changed_sans_reissue_serving_but_keep_ca(tls_dir: Path) -> None:
    """A new SAN reissues the serving certificate under the same CA."""
    first = ensure_tls(tls_dir, sans=["10.1.2.3"])
    ca_before, serving_before = first.ca_cert.read_bytes(), first.serving_cert.read_bytes()
    second = ensure_tls(tls_dir, sans=["10.1.2.3", "edge.example.com"])
    assert second.ca_cert.read_bytes() == ca_before
    assert second.serving_cert.read_bytes() != serving_before
    assert "edge.example.com" in certificate_names(_cert(second.serving_cert)).dns


def test_fewer_sans_keep_the_certificate(tls_dir: Path) -> None:
    """Dropping a SAN does not reissue: the certificate still covers what is asked."""
    first = ensure_tls(tls_dir, sans=["10.1.2.3", "edge.example.com"])
    before = first.serving_cert.read_bytes()
    assert ensure_tls(tls_dir, sans=["10.1.2.3"]).serving_cert.read_bytes() == before


def test_expiring_serving_certificate_is_reissued(
    tls_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A serving certificate inside the renewal window is replaced."""
    before = ensure_tls(tls_dir, sans=[]).serving_cert.read_bytes()
    monkeypatch.setattr(certs, "RENEW_BEFORE", timedelta(days=400))
    after = ensure_tls(tls_dir, sans=[]).serving_cert
    assert after.read_bytes() != before
    assert _cert(after).not_valid_after_utc > datetime.now(UTC) + timedelta(days=364)


@pytest.mark.parametrize("damaged", ["serving_cert", "serving_key"])
def test_damaged_serving_files_are_reissued(tls_dir: Path, damaged: str) -> None:
    """A corrupt serving certificate or key is replaced; the CA stays."""
    files = ensure_tls(tls_dir, sans=[])
    ca_before = files.ca_cert.read_bytes()
    getattr(files, damaged).write_bytes(b"not a pem")
    again = ensure_tls(tls_dir, sans=[])
    assert again.ca_cert.read_bytes() == ca_before
    assert b"BEGIN" in getattr(again, damaged).read_bytes()


def test_new_ca_reissues_serving(tls_dir: Path) -> None:
    """When the CA key is lost, a new CA is made and the serving certificate follows it."""
    files = ensure_tls(tls_dir, sans=[])
    files.ca_key.unlink()
    again = ensure_tls(tls_dir, sans=[])
    _cert(again.serving_cert).verify_directly_issued_by(_cert(again.ca_cert))


def _paths(files: TLSFiles) -> list[Path]:
    return [files.ca_cert, files.ca_key, files.serving_cert, files.serving_key]
