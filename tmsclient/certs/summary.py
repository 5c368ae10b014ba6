"""What a person needs to know about one certificate, as Windows and the WebEx team would name it."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from tmsclient.certs.facts import UTC, common_name, is_ca, is_self_signed, not_after, not_before, sha1_thumbprint
from tmsclient.errors import UsageError

# Characters that ride along when a thumbprint is copied from the Windows certificate dialog or a web page.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00a0\\s:\\-]")


class ThumbprintError(UsageError, ValueError):
    """Raised by normalize_thumbprint when a thumbprint is not 40 hex digits once spaces, colons and invisible
    marks are removed."""


def normalize_thumbprint(text: str) -> str:
    """``"‎ab cd:EF…"`` -> ``"ABCDEF…"``: upper-case hex, as Windows shows it. Raises ThumbprintError."""
    cleaned = _INVISIBLE.sub("", text).upper()
    if not re.fullmatch(r"[0-9A-F]*", cleaned):
        bad = sorted({c for c in cleaned if c not in "0123456789ABCDEF"})
        shown = ", ".join(f"U+{ord(c):04X}" if not c.isprintable() else repr(c) for c in bad)
        raise ThumbprintError(
            f"the thumbprint holds characters that are not hex digits: {shown}",
            hint="copy the 40 hex digits of the SHA-1 thumbprint",
        )
    if len(cleaned) != 40:
        raise ThumbprintError(
            f"the thumbprint has {len(cleaned)} hex digits, expected 40 (a SHA-1 thumbprint)",
            hint="copy the whole thumbprint from the certificate's Details tab",
        )
    return cleaned


@dataclass(frozen=True)
class CertSummary:
    subject: str
    issuer: str
    common_name: str | None
    serial: str  # upper-case hex, as PowerShell's SerialNumber shows it
    thumbprint_sha1: str  # upper-case hex, as Windows shows it
    sha256_fingerprint: str  # upper-case hex
    not_before: dt.datetime  # aware, UTC
    not_after: dt.datetime  # aware, UTC
    key_type: str  # "RSA", "EC", "Ed25519", "Ed448", "DSA"
    key_size: int | None  # bits
    key_curve: str | None  # EC only, e.g. "secp256r1"
    signature_hash: str | None  # "sha256", "sha1", ...; None for Ed25519/Ed448
    sans: tuple[str, ...]  # "DNS:tms.example.com", "IP:10.0.0.1", ...
    key_usage: tuple[str, ...]
    extended_key_usage: tuple[str, ...]
    is_ca: bool
    self_signed: bool

    def days_left(self, now: dt.datetime | None = None) -> int:
        """Whole days until expiry (negative once expired)."""
        now = now or dt.datetime.now(UTC)
        return (self.not_after - now) // dt.timedelta(days=1)

    def validity(self, now: dt.datetime | None = None) -> str:
        """ "valid", "expired" or "not yet valid"."""
        now = now or dt.datetime.now(UTC)
        if now < self.not_before:
            return "not yet valid"
        if now > self.not_after:
            return "expired"
        return "valid"

    @property
    def key_description(self) -> str:
        if self.key_type == "EC":
            return f"EC {self.key_curve} ({self.key_size} bits)"
        return f"{self.key_type} {self.key_size} bits" if self.key_size else self.key_type


def key_info(public_key: Any) -> tuple[str, int | None, str | None]:
    """(type, size in bits, curve name) of a public or private key."""
    if isinstance(public_key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "RSA", public_key.key_size, None
    if isinstance(public_key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return "EC", public_key.curve.key_size, public_key.curve.name
    if isinstance(public_key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return "Ed25519", 256, None
    if isinstance(public_key, (ed448.Ed448PublicKey, ed448.Ed448PrivateKey)):
        return "Ed448", 456, None
    if isinstance(public_key, (dsa.DSAPublicKey, dsa.DSAPrivateKey)):
        return "DSA", public_key.key_size, None
    return type(public_key).__name__, None, None


def public_key_der(key: Any) -> bytes:
    """SubjectPublicKeyInfo DER of a public key, or of a private key's public half."""
    public = key.public_key() if hasattr(key, "private_bytes") else key
    der: bytes = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return der


def key_matches(key: Any, cert: x509.Certificate) -> bool:
    """Whether ``key`` is the private key of ``cert`` ("You have a private key that corresponds to this
    certificate")."""
    try:
        return public_key_der(key) == public_key_der(cert.public_key())
    except Exception:  # an exotic key type that cannot be serialised does not match anything we can use
        return False


def key_fingerprint(key: Any) -> str:
    """Short SHA-256 of the public key, for "got X, expected Y" messages; reveals nothing secret."""
    return hashlib.sha256(public_key_der(key)).hexdigest()[:16].upper()


_KEY_USAGE_NAMES = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)
_EKU_NAMES = {
    "1.3.6.1.5.5.7.3.1": "serverAuth",
    "1.3.6.1.5.5.7.3.2": "clientAuth",
    "1.3.6.1.5.5.7.3.3": "codeSigning",
    "1.3.6.1.5.5.7.3.4": "emailProtection",
    "1.3.6.1.5.5.7.3.8": "timeStamping",
    "1.3.6.1.5.5.7.3.9": "OCSPSigning",
    "2.5.29.37.0": "anyExtendedKeyUsage",
}


def _key_usage(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return ()
    names = [label for attr, label in _KEY_USAGE_NAMES if getattr(ku, attr)]
    if ku.key_agreement:
        names += [
            label
            for attr, label in (("encipher_only", "encipherOnly"), ("decipher_only", "decipherOnly"))
            if getattr(ku, attr)
        ]
    return tuple(names)


def _eku(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(_EKU_NAMES.get(oid.dotted_string, oid.dotted_string) for oid in eku)


def _sans(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    out = []
    for name in san:
        if isinstance(name, x509.DNSName):
            out.append(f"DNS:{name.value}")
        elif isinstance(name, x509.IPAddress):
            out.append(f"IP:{name.value}")
        elif isinstance(name, x509.RFC822Name):
            out.append(f"email:{name.value}")
        elif isinstance(name, x509.UniformResourceIdentifier):
            out.append(f"URI:{name.value}")
        else:
            out.append(f"{type(name).__name__}:{name.value}")
    return tuple(out)


def summarize(cert: x509.Certificate) -> CertSummary:
    key_type, key_size, curve = key_info(cert.public_key())
    sig_hash = cert.signature_hash_algorithm
    serial_hex = format(cert.serial_number, "X")
    if len(serial_hex) % 2:
        serial_hex = "0" + serial_hex
    return CertSummary(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        common_name=common_name(cert.subject),
        serial=serial_hex,
        thumbprint_sha1=sha1_thumbprint(cert),
        sha256_fingerprint=cert.fingerprint(hashes.SHA256()).hex().upper(),
        not_before=not_before(cert),
        not_after=not_after(cert),
        key_type=key_type,
        key_size=key_size,
        key_curve=curve,
        signature_hash=sig_hash.name if sig_hash is not None else None,
        sans=_sans(cert),
        key_usage=_key_usage(cert),
        extended_key_usage=_eku(cert),
        is_ca=is_ca(cert),
        self_signed=is_self_signed(cert),
    )
