"""Fixtures for the client's end-to-end tests: an emulator per test (HTTPS + NTLM), .pfx files, CLI argv."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.emulated import Tms
from tmsclient.credentials import Secret
from tmsemulator.certmaker import cached_key, issue

UTC = dt.timezone.utc


@pytest.fixture
def tms(emulator_factory: Callable[..., Any], canaries: Any) -> Callable[..., Tms]:
    """``tms(page_profile="tms15", cert_details="summary", **emulator_settings) -> Tms``: an emulator (from the
    emulator plugin's factory, stopped at teardown) with a Site Administrator (admin) and a plain user (bob),
    whose passwords are secret canaries."""

    def make(**overrides: Any) -> Tms:
        admin_pw = canaries.secret("tms-password")
        return Tms.start(emulator_factory, admin_pw, canaries.secret("tms-password"), **overrides)

    return make


@dataclass(frozen=True)
class PfxFile:
    path: Path
    password: str
    thumbprint: str
    not_after: dt.datetime
    sha256: str
    size: int

    @property
    def env(self) -> dict[str, str]:
        return {"TMSCLIENT_PFX_PASSWORD": self.password}


def _key(name: str) -> Any:
    return cached_key(f"client/{name}")


@pytest.fixture
def pfx(tmp_path: Path, canaries: Any) -> Callable[..., PfxFile]:
    """``pfx(kind="good", name="tms-cert.pfx") -> PfxFile``. Kinds: good, aes (AES-256 + SHA-256 MAC), nokey,
    mismatch (key of another certificate), expired, future. The password and keys are canaries."""
    password = canaries.secret("pfx-password")
    for name in ("leaf", "other"):
        canaries.register_key(_key(name))

    def make(kind: str = "good", name: str = "tms-cert.pfx") -> PfxFile:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.serialization import PrivateFormat, pkcs12

        from tmsclient.certs.pfxwrite import PfxEncryption, serialize_pfx

        now = dt.datetime.now(UTC).replace(microsecond=0)
        if kind == "expired":
            cert = issue("tms.acme.example", key=_key("leaf"), not_before=now - dt.timedelta(days=400),
                         days=365)
        elif kind == "future":
            cert = issue("tms.acme.example", key=_key("leaf"), not_before=now + dt.timedelta(days=10), days=365)
        else:
            cert = issue("tms.acme.example", key=_key("leaf"), days=365)
        secret = Secret(password, "test")
        if kind in ("good", "expired", "future"):
            data = serialize_pfx(key=cert.key, cert=cert.cert, password=secret)
        elif kind == "aes":
            data = serialize_pfx(key=cert.key, cert=cert.cert, password=secret, encryption=PfxEncryption.MODERN)
        else:
            builder = (PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
                       .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(hashes.SHA1()))
            key = None if kind == "nokey" else _key("other")
            # cryptography refuses a key with a certificate it does not match: the certificate rides as extra.
            data = pkcs12.serialize_key_and_certificates(
                b"tms", key, None, [pkcs12.PKCS12Certificate(cert.cert, None)], builder.build(password.encode()))
        path = tmp_path / name
        path.write_bytes(data)
        return PfxFile(
            path=path,
            password=password,
            thumbprint=cert.cert.fingerprint(hashes.SHA1()).hex().upper(),
            not_after=cert.cert.not_valid_after_utc,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
        )

    return make


#: Client page profiles for the emulator's profiles whose labels differ from the built-in ones.
PAGE_PROFILES: dict[str, str] = {
    "tms15-labelfor": """
[fields]
bandwidth = "Participant bandwidth"
use_sso = "Single Sign On enabled"
sso_certificate = "Certificate file (.pfx)"
certificate_password = "Password"
partner_name = "Partner name"
account_name = "Account name"
authn_context = "AuthnContextClassRef"
[certificate]
subject = "Subject"
expires = "Valid until"
thumbprint = "Thumbprint"
installed = "Certificate installed"
""",
    "tms15-cells": """
[fields]
bandwidth = "Participant Bandwidth"
use_sso = "Use SSO"
sso_certificate = "Certificate"
partner_name = "Partner Name"
account_name = "Account Name"
authn_context = "AuthnContextClassRef"
[certificate]
subject = "Subject"
expires = "Expires"
thumbprint = "Thumbprint"
installed = "Installed"
""",
    "tms15-relabelled": """
[fields]
bandwidth = "Participant Bandwidth"
use_sso = "Single Sign On"
sso_certificate = { name = "*$ssoCertificate" }
certificate_password = "Password"
partner_name = "Partner Name"
account_name = "Account Name"
authn_context = "AuthnContextClassRef"
[certificate]
subject = "Subject"
expires = "Expires"
thumbprint = "Thumbprint"
installed = "Installed"
""",
}


@pytest.fixture
def page_profile(tmp_path: Path) -> Callable[[str], list[str]]:
    """``page_profile("tms15-cells") -> ["--page-profile", FILE]`` (nothing for the built-in labels)."""

    def make(emulator_profile: str) -> list[str]:
        text = PAGE_PROFILES.get(emulator_profile)
        if text is None:
            return []
        path = tmp_path / f"{emulator_profile}.toml"
        path.write_text(text, encoding="utf-8")
        return ["--page-profile", str(path)]

    return make
