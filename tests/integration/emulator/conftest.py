"""Fixtures of the end-to-end tests: emulators (HTTPS + NTLM) whose passwords are secret canaries, named targets
and their config file, .pfx files, renewed certificates, and client page profiles for relabelled pages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.canaries import Canaries
from tests.helpers.emulated import PAGE_PROFILES, Config, Target, Tms
from tests.helpers.pfx import PfxFile, Renewed, pfx_key, renew, renewal_key, write_pfx
from tmsemulator.certmaker import issue


@pytest.fixture
def tms(emulator_factory: Callable[..., Any], canaries: Canaries) -> Callable[..., Tms]:
    """``tms(page_profile="tms15", cert_details="summary", **emulator_settings) -> Tms``: an emulator (from the
    emulator plugin's factory, stopped at teardown) with a Site Administrator (admin) and a plain user (bob),
    whose passwords are secret canaries with a space and symbols, as real passwords have."""

    def make(**overrides: Any) -> Tms:
        admin_pw = canaries.secret("tms-password", extra=" &#$%")
        return Tms.start(emulator_factory, admin_pw, canaries.secret("tms-password", extra="!x"), **overrides)

    return make


@pytest.fixture
def pfx(tmp_path: Path, canaries: Canaries) -> Callable[..., PfxFile]:
    """``pfx(kind="good", password=None, name="tms-cert.pfx") -> PfxFile`` (kinds: ``make_pfx_bytes``). Every
    file of a test shares one password, a canary with a space and symbols, unless one is given; the password
    and the keys are watched by the canaries."""
    shared = canaries.secret("pfx-password", extra=' "%$')
    for name in ("leaf", "other"):
        canaries.register_key(pfx_key(name))

    def make(kind: str = "good", password: str | None = None, name: str = "tms-cert.pfx") -> PfxFile:
        if password is not None:
            canaries.register(password, "pfx-password")
        return write_pfx(tmp_path / name, kind, shared if password is None else password)

    return make


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


# ------------------------------------------------------------------------------------ several named targets


@pytest.fixture
def target(emulator_factory: Callable[..., Any], canaries: Canaries) -> Callable[..., Target]:
    """``target("staging", **emulator_settings) -> Target``: an emulator whose admin password is a canary."""

    def make(name: str = "staging", **overrides: Any) -> Target:
        password = overrides.pop("password", None) or canaries.secret("tms-password")
        em = emulator_factory(users=[("TMSLAB", "admin", password)], admins=["admin"], **overrides)
        return Target(name, em, password)

    return make


@pytest.fixture
def config(tmp_path: Path) -> Callable[..., Config]:
    """``config(t1, t2, ...)``: a TOML file with one profile per target, each password by ``env:`` reference
    (``env`` holds the values), mode 0600, the TMS user and site in ``[defaults]``."""

    def make(*targets: Target, extra: str = "") -> Config:
        lines = ["[defaults]", "username = 'TMSLAB\\admin'", 'site = "acme"', extra, ""]
        for t in targets:
            lines += [
                f"[profiles.{t.name}]",
                f'url = "{t.em.url}"',
                f'ca_bundle = "{t.em.ca_file}"',
                f'password = "env:{t.password_var}"',
                "",
            ]
        path = tmp_path / "config.toml"
        path.write_text("\n".join(lines), encoding="utf-8")
        path.chmod(0o600)
        return Config(path, {t.password_var: t.password for t in targets})

    return make


@pytest.fixture
def renewed(canaries: Canaries) -> Callable[..., Renewed]:
    """``renewed(days=90, key="leaf", expired=False)``: a leaf signed by a test CA, with the CA as its chain;
    the keys are watched by the canaries."""
    root = issue("tmsclient Test ACME Root", key=renewal_key("root"), ca=True, days=3650)
    for name in ("leaf", "other", "root"):
        canaries.register_key(renewal_key(name))

    def make(*, days: int = 90, key: str = "leaf", expired: bool = False) -> Renewed:
        return renew(root, days=days, key=key, expired=expired)

    return make
