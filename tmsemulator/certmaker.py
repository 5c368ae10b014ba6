"""Throw-away certificate chains (root, intermediate, leaf) for tests and demos; ``python -m tmsemulator.certmaker``."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import ipaddress
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tmsemulator.errors import EmulatorError, ExitCode
from tmsemulator.files import write_atomically

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Issued:
    key: Any  # a private key object
    cert: x509.Certificate

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self, password: bytes | None = None, *, traditional: bool = False) -> bytes:
        fmt = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        pem: bytes = self.key.private_bytes(serialization.Encoding.PEM, fmt, enc)
        return pem


@dataclass(frozen=True)
class Chain:
    root: Issued
    intermediate: Issued
    leaf: Issued


def new_key(kind: str = "rsa", size: int = 2048) -> Any:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=size)
    if kind == "ec":
        curves = {256: ec.SECP256R1(), 384: ec.SECP384R1(), 521: ec.SECP521R1()}
        return ec.generate_private_key(curves[size])
    raise ValueError(f"unknown key kind {kind!r}")


@functools.cache
def cached_key(name: str) -> Any:
    """One RSA 2048 key per name for the whole process: key generation is the slow part of a test .pfx."""
    return new_key()


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tmsclient test")]
    )


def issue(
    cn: str,
    *,
    issuer: Issued | None = None,
    key: Any = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    days: int = 365,
    ca: bool = False,
    sans: Sequence[str] = (),
    hash_alg: hashes.HashAlgorithm | None = None,
    serial: int | None = None,
) -> Issued:
    """Issue a certificate for ``cn``; self-signed when ``issuer`` is None. SANs may be DNS names or IPs."""
    key = key or new_key()
    now = dt.datetime.now(UTC).replace(microsecond=0)
    not_before = not_before or now - dt.timedelta(days=1)
    not_after = not_after or not_before + dt.timedelta(days=days)
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject if issuer else _name(cn))
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        names: list[x509.GeneralName] = []
        for san in sans or ([cn] if "." in cn else []):
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                names.append(x509.DNSName(san))
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(signer_key, hash_alg or hashes.SHA256())  # type: ignore[arg-type]  # any hash the caller asks for
    return Issued(key, cert)


def make_chain(
    leaf_cn: str = "tms.example.com",
    *,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    days: int = 365,
    key_kind: str = "rsa",
    key_size: int = 2048,
    sans: Sequence[str] = (),
) -> Chain:
    """A root, an intermediate and a leaf; the leaf's dates as given, the CAs' wider around them."""
    now = dt.datetime.now(UTC).replace(microsecond=0)
    leaf_nb = not_before or now - dt.timedelta(days=1)
    leaf_na = not_after or leaf_nb + dt.timedelta(days=days)
    ca_nb = min(leaf_nb, now) - dt.timedelta(days=30)
    ca_na = max(leaf_na, now) + dt.timedelta(days=3650)
    root = issue("tmsclient Test Root CA", ca=True, not_before=ca_nb, not_after=ca_na)
    inter = issue("tmsclient Test Issuing CA", issuer=root, ca=True, not_before=ca_nb, not_after=ca_na)
    leaf = issue(
        leaf_cn, issuer=inter, key=new_key(key_kind, key_size), not_before=leaf_nb, not_after=leaf_na, sans=sans
    )
    return Chain(root, inter, leaf)


def main(argv: Sequence[str] | None = None) -> int:
    """Write cert.pem, key.pem (unencrypted, mode 0600) and chain.pem into ``--out``; never for production keys."""
    parser = argparse.ArgumentParser(
        prog="python -m tmsemulator.certmaker",
        description="Throw-away certificates for trying tmsclient against its emulator. Never for production.",
    )
    parser.add_argument("--out", required=True, type=Path, help="directory to write into (created if missing)")
    parser.add_argument("--cn", default="tms.example.com", help="the leaf's common name (default: %(default)s)")
    parser.add_argument("--days", type=int, default=365, help="validity of the leaf in days (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args(argv)
    names = ("cert.pem", "key.pem", "chain.pem")
    existing = [n for n in names if (args.out / n).exists()]
    if existing and not args.force:
        print(f"certmaker: {', '.join(existing)} already in {args.out}; use --force to overwrite", file=sys.stderr)
        return int(ExitCode.OUTPUT_FILE)
    chain = make_chain(args.cn, days=args.days)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        write_atomically(args.out / "cert.pem", chain.leaf.cert_pem(), mode=0o644, what="certificate")
        write_atomically(args.out / "key.pem", chain.leaf.key_pem(), mode=0o600, what="key")
        write_atomically(
            args.out / "chain.pem", chain.intermediate.cert_pem() + chain.root.cert_pem(), mode=0o644, what="chain"
        )
    except OSError as exc:
        print(f"certmaker: cannot create {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return int(ExitCode.OUTPUT_FILE)
    except EmulatorError as err:
        print(f"certmaker: {err.diagnostics()}", file=sys.stderr)
        return int(err.exit_code)
    print(f"wrote {args.out / 'cert.pem'}, {args.out / 'key.pem'} and {args.out / 'chain.pem'} (CN={args.cn})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
