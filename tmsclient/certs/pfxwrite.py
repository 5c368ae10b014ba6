"""Serialise a key, certificate and chain as PKCS#12: the Windows-compatible form unless asked otherwise."""

from __future__ import annotations

import argparse
import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tmsclient.certs.compat import DOTNET_ITERATION_LIMIT
from tmsclient.credentials import Secret
from tmsclient.errors import CertificateUnfitError, PasswordError

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

#: Windows' own exports use about 2,000 rounds; .NET since 2023 refuses uncommonly high counts.
DEFAULT_ITERATIONS = 2048
MIN_ITERATIONS = 1000
DEFAULT_FRIENDLY_NAME = "tms-cert-key"


class PfxEncryption(str, enum.Enum):
    """``compatible``: 3DES (PBES1) for key and certificates, SHA-1 MAC; imports on every Windows Server.
    ``modern``: AES-256 (PBES2) with a SHA-256 MAC; Server 2019 and later only."""

    COMPATIBLE = "compatible"
    MODERN = "modern"


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
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12

    from tmsclient.certs.summary import key_fingerprint, key_matches

    if not password:
        raise PasswordError("the .pfx password is empty; Windows needs a non-empty password to match exactly")
    mac: hashes.HashAlgorithm
    if encryption is PfxEncryption.COMPATIBLE:
        # Windows Server 2012 R2/2016 import only PBES1 3DES/RC2 with a SHA-1 MAC.
        algorithm, mac = pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC, hashes.SHA1()  # noqa: S303
    else:
        algorithm, mac = pkcs12.PBES.PBESv2SHA256AndAES256CBC, hashes.SHA256()
    builder = (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(iterations)
        .key_cert_algorithm(algorithm)
        .hmac_hash(mac)
    )
    names = list(ca_names) if ca_names is not None else [None] * len(cas)
    chain = [
        pkcs12.PKCS12Certificate(ca, n.encode("utf-8") if n else None)
        for ca, n in zip(cas, names, strict=True)
    ]
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


def add_pfx_output_arguments(parser: argparse.ArgumentParser) -> None:
    """--out, --force, --encryption, --iterations and --generate-password, shared by bundle and convert."""
    parser.add_argument("--out", "-o", required=True, metavar="OUT.p12", help="the .pfx/.p12 file to write")
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    parser.add_argument(
        "--encryption",
        choices=[e.value for e in PfxEncryption],
        default=PfxEncryption.COMPATIBLE.value,
        help="compatible (default): 3DES + SHA-1 MAC, imports on every Windows Server; "
        "modern: AES-256 + SHA-256 MAC, Server 2019 and later only",
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=DEFAULT_ITERATIONS,
        metavar="N",
        help=f"key-derivation iterations (default {DEFAULT_ITERATIONS}, like Windows' own exports; "
        f"{MIN_ITERATIONS} to {DOTNET_ITERATION_LIMIT:,})",
    )
    parser.add_argument(
        "--generate-password",
        metavar="FILE",
        help="generate a strong password for the new .pfx and write it to FILE "
        "(mode 0600; never overwritten)",
    )
