"""Plain facts about one certificate (thumbprint, validity, CA or not, who signed it), for chain and summary alike."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.x509.oid import NameOID

UTC = dt.timezone.utc


def sha1_thumbprint(cert: x509.Certificate) -> str:
    """The thumbprint Windows shows: SHA-1 of the DER, upper-case hex."""
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - the thumbprint Windows shows is SHA-1


def _aware(cert: x509.Certificate, name: str) -> dt.datetime:
    utc_value: dt.datetime | None = getattr(cert, f"{name}_utc", None)  # cryptography 42+
    if utc_value is not None:
        return utc_value
    value: dt.datetime = getattr(cert, name)
    return value.replace(tzinfo=UTC)


def not_before(cert: x509.Certificate) -> dt.datetime:
    return _aware(cert, "not_valid_before")


def not_after(cert: x509.Certificate) -> dt.datetime:
    return _aware(cert, "not_valid_after")


def is_ca(cert: x509.Certificate) -> bool:
    """Whether Basic Constraints marks it a CA (absent: not a CA)."""
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def common_name(name: x509.Name) -> str | None:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not attrs:
        return None
    value = attrs[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer`` issued ``cert``: it is the named issuer and its key verifies the signature."""
    if cert.issuer != issuer.subject:
        return False
    verify = getattr(cert, "verify_directly_issued_by", None)
    if verify is not None:  # cryptography 40+
        try:
            verify(issuer)
        except ValueError as exc:
            # Recent cryptography refuses SHA-1 (and older) signatures here; check those by hand below.
            if "Unsupported signature algorithm" not in str(exc):
                return False
        except Exception:
            return False
        else:
            return True
    try:
        _verify_signature(cert, issuer)
    except Exception:
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    return signed_by(cert, cert)


def _verify_signature(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    public = issuer.public_key()
    algorithm = cert.signature_hash_algorithm
    if algorithm is None:
        raise ValueError("no signature hash")
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
    elif isinstance(public, dsa.DSAPublicKey):
        public.verify(cert.signature, cert.tbs_certificate_bytes, algorithm)
    else:
        raise ValueError(f"cannot verify a {type(public).__name__} signature")
