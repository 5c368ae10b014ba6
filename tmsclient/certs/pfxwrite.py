"""Serialise a key, certificate and chain as PKCS#12: the Windows-compatible form unless asked otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12

from tmsclient.certs.pfxoptions import DEFAULT_ITERATIONS, PfxEncryption
from tmsclient.certs.summary import key_fingerprint, key_matches
from tmsclient.credentials import Secret
from tmsclient.errors import CertificateUnfitError, PasswordError

if TYPE_CHECKING:  # the name exists from cryptography 40; the package supports 38
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes


def serialize_pfx(
    *,
    key: PrivateKeyTypes,
    cert: x509.Certificate,
    cas: Sequence[x509.Certificate] = (),
    password: Secret,
    name: str | None = None,
    ca_names: Sequence[str | None] | None = None,
    encryption: PfxEncryption = PfxEncryption.COMPATIBLE,
    iterations: int = DEFAULT_ITERATIONS,
) -> bytes:
    if not password:
        raise PasswordError("the .pfx password is empty; Windows needs a non-empty password to match exactly")
    mac: hashes.HashAlgorithm
    if encryption is PfxEncryption.COMPATIBLE:
        # Windows Server 2012 R2/2016 import only PBES1 3DES/RC2 with a SHA-1 MAC.
        algorithm, mac = pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC, hashes.SHA1()  # noqa: S303
    else:
        algorithm, mac = pkcs12.PBES.PBESv2SHA256AndAES256CBC, hashes.SHA256()
    builder = (
        PrivateFormat.PKCS12.encryption_builder().kdf_rounds(iterations).key_cert_algorithm(algorithm).hmac_hash(mac)
    )
    names = list(ca_names) if ca_names is not None else [None] * len(cas)
    chain = [pkcs12.PKCS12Certificate(ca, n.encode("utf-8") if n else None) for ca, n in zip(cas, names, strict=True)]
    if not key_matches(key, cert):
        raise CertificateUnfitError(
            f"the private key does not match the certificate: got a key with public-key fingerprint "
            f"{key_fingerprint(key)}, expected {key_fingerprint(cert.public_key())}",
            hint="give the key that made the certificate signing request",
        )
    try:
        return pkcs12.serialize_key_and_certificates(
            name.encode("utf-8") if name else None,
            key,  # type: ignore[arg-type]
            cert,
            chain,
            builder.build(password.encode()),
        )
    except (ValueError, TypeError) as exc:
        raise CertificateUnfitError(f"cannot write this key and certificate as PKCS#12: {exc}") from exc
