"""The certificates the end-to-end tests hand to tmsclient: .pfx files of each kind, and renewed certificates."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12

from tmsclient.certs.pfxoptions import PfxEncryption
from tmsclient.certs.pfxwrite import serialize_pfx
from tmsclient.credentials import Secret
from tmsemulator.certmaker import Issued, cached_key, issue

UTC = dt.timezone.utc


@dataclass(frozen=True)
class PfxFile:
    """A .pfx written for a test, with its password and what TMS shows of it once uploaded."""

    path: Path
    password: str
    thumbprint: str
    not_after: dt.datetime
    sha256: str
    size: int

    @property
    def env(self) -> dict[str, str]:
        return {"TMSCLIENT_PFX_PASSWORD": self.password}


def pfx_key(name: str) -> Any:
    """An RSA key per name, made once per session (key generation is the slow part of a .pfx)."""
    return cached_key(f"pfx/{name}")


def make_pfx_bytes(kind: str, password: str, *, key_name: str = "leaf") -> tuple[bytes, x509.Certificate]:
    """(the .pfx, the certificate) for ``kind``: good, aes (AES-256 + SHA-256 MAC), nokey, mismatch (the key of
    another certificate), expired, future."""
    now = dt.datetime.now(UTC).replace(microsecond=0)
    key = pfx_key(key_name)
    if kind == "expired":
        cert = issue("tms.acme.example", key=key, not_before=now - dt.timedelta(days=400), days=365)
    elif kind == "future":
        cert = issue("tms.acme.example", key=key, not_before=now + dt.timedelta(days=10), days=365)
    else:
        cert = issue("tms.acme.example", key=key, days=365)
    secret = Secret(password, "test")
    if kind in ("good", "expired", "future"):
        return serialize_pfx(key=cert.key, cert=cert.cert, password=secret), cert.cert
    if kind == "aes":
        return serialize_pfx(key=cert.key, cert=cert.cert, password=secret, encryption=PfxEncryption.MODERN), cert.cert
    builder = (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
    )
    other = None if kind == "nokey" else pfx_key("other")
    # cryptography refuses a key with a certificate it does not match: the certificate rides as an extra.
    data = pkcs12.serialize_key_and_certificates(
        b"tms", other, None, [pkcs12.PKCS12Certificate(cert.cert, None)], builder.build(password.encode())
    )
    return data, cert.cert


def write_pfx(path: Path, kind: str, password: str) -> PfxFile:
    """``make_pfx_bytes(kind, password)`` written to ``path``."""
    data, cert = make_pfx_bytes(kind, password)
    path.write_bytes(data)
    return PfxFile(
        path=path,
        password=password,
        thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),
        not_after=cert.not_valid_after_utc,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


# ------------------------------------------------------------------------------------ renewed certificates


def renewal_key(name: str) -> Any:
    """RSA keys are slow to make: one per name for the whole session."""
    return cached_key(f"automation/{name}")


@dataclass(frozen=True)
class Renewed:
    """A renewed certificate as an ACME client leaves it: key, leaf, chain, and their PEM text."""

    key: Any
    leaf: x509.Certificate
    chain: tuple[x509.Certificate, ...]

    @property
    def thumbprint(self) -> str:
        return self.leaf.fingerprint(hashes.SHA1()).hex().upper()

    def key_pem(self, passphrase: bytes | None = None) -> bytes:
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
        )
        pem: bytes = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
        return pem

    def cert_pem(self) -> bytes:
        return self.leaf.public_bytes(serialization.Encoding.PEM)

    def chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def pfx(self, password: str, *, modern: bool = False) -> bytes:
        return serialize_pfx(
            key=self.key,
            cert=self.leaf,
            cas=list(self.chain),
            password=Secret(password, "test"),
            encryption=PfxEncryption.MODERN if modern else PfxEncryption.COMPATIBLE,
        )


def renew(root: Issued, *, days: int = 90, key: str = "leaf", expired: bool = False) -> Renewed:
    """A leaf for tms.acme.example signed by ``root``, valid for ``days`` from now (or expired ``days`` ago)."""
    now = dt.datetime.now(UTC).replace(microsecond=0)
    start = now - dt.timedelta(days=days + 10) if expired else now - dt.timedelta(hours=1)
    leaf = issue("tms.acme.example", issuer=root, key=renewal_key(key), not_before=start, days=days)
    return Renewed(leaf.key, leaf.cert, (root.cert,))
