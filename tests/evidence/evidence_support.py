"""Helpers shared by the evidence tests and their conftest: .pfx makers (the emulator handle is in tests.helpers)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12

from tmsclient.certs.pfxoptions import PfxEncryption
from tmsclient.certs.pfxwrite import serialize_pfx
from tmsclient.credentials import Secret
from tmsemulator.certmaker import cached_key, issue

UTC = dt.timezone.utc


@dataclass(frozen=True)
class PfxFile:
    path: Path
    password: str
    thumbprint: str
    sha256: str

    @property
    def env(self) -> dict[str, str]:
        return {"TMSCLIENT_PFX_PASSWORD": self.password}


def pfx_key(name: str) -> Any:
    """An RSA key per name, made once per session (key generation is the slow part of a .pfx)."""
    return cached_key(f"evidence/{name}")


def make_pfx_bytes(kind: str, password: str, *, key_name: str = "leaf") -> tuple[bytes, Any]:
    """(the .pfx, the certificate) for ``kind``: good, aes, nokey, mismatch, expired, future."""
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
        return serialize_pfx(key=cert.key, cert=cert.cert, password=secret,
                             encryption=PfxEncryption.MODERN), cert.cert
    builder = (PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
               .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(hashes.SHA1()))
    other = None if kind == "nokey" else pfx_key("other")
    # cryptography refuses a key with a certificate it does not match: the certificate rides as an extra.
    data = pkcs12.serialize_key_and_certificates(
        b"tms", other, None, [pkcs12.PKCS12Certificate(cert.cert, None)], builder.build(password.encode()))
    return data, cert.cert
