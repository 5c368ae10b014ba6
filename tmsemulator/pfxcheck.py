"""What a Windows TMS host checks when a .pfx is uploaded, in order, with the message each refusal shows."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from tmsemulator.config import StoredCertificate
from tmsemulator.pfxread import NotPkcs12Error, read_protection
from tmsemulator.windows import import_refusals

UTC = dt.timezone.utc

#: .NET's CryptographicException text for a wrong password, and for a format the host cannot import.
WRONG_PASSWORD = "The specified network password is not correct."  # noqa: S105 - a message

#: The checks in the order they run, with the message each refusal shows. Only WRONG_PASSWORD and
#: NOT_PKCS12 are .NET's own words; TMS's messages for the others are not documented (guesses).
CHECKS: tuple[tuple[str, str], ...] = (
    ("password-required", "A password is required to import the certificate."),
    ("pkcs12-format", "Cannot find the requested object."),
    ("server-os", WRONG_PASSWORD),
    ("password", WRONG_PASSWORD),
    ("certificate-present", "The file does not contain a certificate."),
    ("private-key", "The certificate does not have a private key."),
    ("key-match", "The private key does not match the certificate."),
    ("not-yet-valid", "The certificate is not yet valid."),
    ("expired", "The certificate has expired."),
)
MESSAGES = dict(CHECKS)


@dataclass(frozen=True)
class PfxVerdict:
    check: str | None  # the check that refused the file; None when it was accepted
    message: str | None
    certificate: StoredCertificate | None
    detail: str | None = None  # why, for the state log only (never shown on the page)

    @property
    def ok(self) -> bool:
        return self.check is None


def _refuse(check: str, detail: str | None = None) -> PfxVerdict:
    return PfxVerdict(check, MESSAGES[check], None, detail)


def _public_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _windows_name(name: Any) -> str:
    # .NET's X500DistinguishedName shows the most specific RDN first, separated by ", ".
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(list(name.rdns)))


def describe_certificate(cert: Any, pfx_sha256: str | None = None) -> StoredCertificate:
    not_before = getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before.replace(tzinfo=UTC)
    not_after = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=UTC)
    return StoredCertificate(
        subject=_windows_name(cert.subject),
        issuer=_windows_name(cert.issuer),
        serial=format(cert.serial_number, "X"),
        not_before=not_before,
        not_after=not_after,
        thumbprint_sha1=cert.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303 - Windows' thumbprint
        pfx_sha256=pfx_sha256,
    )


def check_pfx(data: bytes, password: str, server_os: str, now: dt.datetime | None = None) -> PfxVerdict:
    """Run the checks of CHECKS in order; the first refusal wins. ``password`` may be empty."""
    now = now or dt.datetime.now(UTC)
    if not password:
        return _refuse("password-required")
    try:
        protection = read_protection(data)
    except NotPkcs12Error:
        return _refuse("pkcs12-format", "not a PKCS#12 structure")
    refusals = import_refusals(protection, server_os)
    if refusals:
        return _refuse("server-os", "; ".join(refusals))
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode("utf-8"))
    except (ValueError, TypeError):
        return _refuse("password")
    candidates = [c for c in (cert, *extra) if c is not None]
    if not candidates:
        return _refuse("certificate-present")
    if key is None:
        return _refuse("private-key")
    key_der = _public_der(key.public_key())
    matching = [c for c in candidates if _public_der(c.public_key()) == key_der]
    if not matching or (cert is not None and cert not in matching):
        return _refuse("key-match")
    leaf = matching[0]
    stored = describe_certificate(leaf, hashlib.sha256(data).hexdigest())
    if stored.not_before > now:
        return _refuse("not-yet-valid", f"valid from {stored.not_before.isoformat()}")
    if stored.not_after <= now:
        return _refuse("expired", f"expired {stored.not_after.isoformat()}")
    return PfxVerdict(None, None, stored)
