"""Fixtures for renew, hooks, many targets and status: named emulator targets, a config file, certificates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

UTC = dt.timezone.utc


@dataclass
class Target:
    """One running emulator as a named profile: its own admin password in its own environment variable."""

    name: str
    em: Any  # tmsemulator.RunningEmulator
    password: str

    @property
    def password_var(self) -> str:
        return f"TMS_PW_{self.name.upper().replace('-', '_')}"

    def state(self) -> dict[str, Any]:
        return self.em.state()

    def counters(self) -> dict[str, Any]:
        return self.state()["counters"]

    def thumbprint(self, site: str = "acme") -> str | None:
        found = next(s for s in self.state()["sites"] if s["site_name"] == site)
        return found["certificate"]["thumbprint_sha1"] if found["certificate"] else None

    def argv(self) -> list[str]:
        """Flags for a one-target run without a config file."""
        return ["--url", self.em.url, "--username", "TMSLAB\\admin", "--ca-bundle", self.em.ca_file,
                "--site", "acme", "--non-interactive"]


@pytest.fixture
def target(emulator_factory: Callable[..., Any], canaries: Any) -> Callable[..., Target]:
    """``target("staging", **emulator_settings) -> Target``: an emulator whose admin password is a canary."""

    def make(name: str = "staging", **overrides: Any) -> Target:
        password = overrides.pop("password", None) or canaries.secret("tms-password")
        em = emulator_factory(users=[("TMSLAB", "admin", password)], admins=["admin"], **overrides)
        return Target(name, em, password)

    return make


@dataclass
class Config:
    path: Path
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def config(tmp_path: Path) -> Callable[..., Config]:
    """``config(t1, t2, ...)``: a TOML file with one profile per target, each password by ``env:`` reference
    (``env`` holds the values), mode 0600, the TMS user and site in ``[defaults]``."""

    def make(*targets: Target, extra: str = "") -> Config:
        lines = ["[defaults]", "username = 'TMSLAB\\admin'", 'site = "acme"', extra, ""]
        for t in targets:
            lines += [f"[profiles.{t.name}]", f'url = "{t.em.url}"', f'ca_bundle = "{t.em.ca_file}"',
                      f'password = "env:{t.password_var}"', ""]
        path = tmp_path / "config.toml"
        path.write_text("\n".join(lines), encoding="utf-8")
        path.chmod(0o600)
        return Config(path, {t.password_var: t.password for t in targets})

    return make


def cached_key(name: str) -> Any:
    """RSA keys are slow to make: one per name for the whole session."""
    from tmsemulator.certmaker import cached_key as shared

    return shared(f"automation/{name}")


@dataclass(frozen=True)
class Renewed:
    """A renewed certificate as an ACME client leaves it: key, leaf, chain, and their PEM text."""

    key: Any
    leaf: Any
    chain: tuple[Any, ...]

    @property
    def thumbprint(self) -> str:
        from cryptography.hazmat.primitives import hashes

        return self.leaf.fingerprint(hashes.SHA1()).hex().upper()

    def key_pem(self, passphrase: bytes | None = None) -> bytes:
        from cryptography.hazmat.primitives import serialization

        enc: Any = (serialization.BestAvailableEncryption(passphrase) if passphrase
                    else serialization.NoEncryption())
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)

    def cert_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.leaf.public_bytes(serialization.Encoding.PEM)

    def chain_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def pfx(self, password: str, *, modern: bool = False) -> bytes:
        from tmsclient.certs.pfxoptions import PfxEncryption
        from tmsclient.certs.pfxwrite import serialize_pfx
        from tmsclient.credentials import Secret

        return serialize_pfx(key=self.key, cert=self.leaf, cas=list(self.chain), password=Secret(password, "test"),
                             encryption=PfxEncryption.MODERN if modern else PfxEncryption.COMPATIBLE)


@pytest.fixture
def renewed(canaries: Any) -> Callable[..., Renewed]:
    """``renewed(days=90, key="leaf", expired=False)``: a leaf signed by a test CA, with the CA as its chain;
    the keys are watched by the canaries."""
    from tmsemulator.certmaker import issue

    root = issue("tmsclient Test ACME Root", key=cached_key("root"), ca=True, days=3650)
    for name in ("leaf", "other", "root"):
        canaries.register_key(cached_key(name))

    def make(*, days: int = 90, key: str = "leaf", expired: bool = False) -> Renewed:
        now = dt.datetime.now(UTC).replace(microsecond=0)
        start = now - dt.timedelta(days=days + 10) if expired else now - dt.timedelta(hours=1)
        leaf = issue("tms.acme.example", issuer=root, key=cached_key(key), not_before=start, days=days)
        return Renewed(leaf.key, leaf.cert, (root.cert,))

    return make

