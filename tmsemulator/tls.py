"""The emulator's HTTPS certificate: a throw-away CA and a server certificate it signs, made at start."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tmsemulator.files import write_atomically

UTC = dt.timezone.utc


@dataclass(frozen=True)
class TlsMaterial:
    ca_file: Path  # the CA certificate a client must trust (PEM)
    cert_file: Path  # server certificate + CA (PEM chain)
    key_file: Path  # server key (PEM, 0600)
    cert_der: bytes  # the server certificate, for NTLM channel binding

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        return ctx

    def channel_binding_hash(self) -> bytes:
        """RFC 5929 tls-server-end-point: the certificate's hash (SHA-256, as it is signed with SHA-256)."""
        return hashlib.sha256(self.cert_der).digest()


def make_tls_material(directory: Path, names: Iterable[str]) -> TlsMaterial:
    """Write ``emulator-ca.pem``, ``emulator-cert.pem`` and ``emulator-key.pem`` into ``directory``."""
    now = dt.datetime.now(UTC).replace(microsecond=0)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "tmsclient TMS emulator CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tmsclient emulator"),
        ]
    )

    def builder(subject: x509.Name, public_key: ec.EllipticCurvePublicKey, *, ca: bool) -> x509.CertificateBuilder:
        """What the CA and the server certificate share: the issuer, 30 days, and the key usage of the role."""
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=not ca,
                    key_cert_sign=ca,
                    crl_sign=ca,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        )

    ca_cert = (
        builder(ca_name, ca_key.public_key(), ca=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for name in dict.fromkeys(["localhost", "127.0.0.1", "::1", *names]):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    cert = (
        builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]), key.public_key(), ca=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "emulator-ca.pem"
    cert_file = directory / "emulator-cert.pem"
    key_file = directory / "emulator-key.pem"
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    # Atomic writes: a client may read the CA file the moment it appears (another process's ready file).
    write_atomically(ca_file, ca_pem, mode=0o644, what="emulator CA file")
    write_atomically(
        cert_file,
        cert.public_bytes(serialization.Encoding.PEM) + ca_pem,
        mode=0o644,
        what="emulator certificate",
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_atomically(key_file, key_pem, mode=0o600, what="emulator TLS key")
    return TlsMaterial(ca_file, cert_file, key_file, cert.public_bytes(serialization.Encoding.DER))
