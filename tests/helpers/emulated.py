"""A running emulator as the CLI tests see it: the argv that reaches it, its stored state and its counters;
as a named profile in a config file; and the client page profiles for its relabelled page profiles."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.pfx import PfxFile
from tmsemulator import RunningEmulator

ADMIN = ("TMSLAB", "admin")
USER = ("TMSLAB", "bob")


@dataclass
class Tms:
    """One running emulator and what a CLI run needs to reach it."""

    em: RunningEmulator
    admin_password: str
    user_password: str
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(cls, emulator_factory: Any, admin_password: str, user_password: str, **overrides: Any) -> Tms:
        """An emulator from the plugin's ``emulator_factory`` with ADMIN as its Site Administrator and USER as a
        plain user; ``overrides`` are further emulator settings."""
        config: dict[str, Any] = {
            "users": [(*ADMIN, admin_password), (*USER, user_password)],
            "admins": ["admin"],
            **overrides,
        }
        return cls(
            emulator_factory(**config), admin_password, user_password, env={"TMSCLIENT_TMS_PASSWORD": admin_password}
        )

    @property
    def url(self) -> str:
        return str(self.em.url)

    def target(self, *, user: tuple[str, str] = ADMIN, ca: bool = True) -> list[str]:
        argv = ["--url", self.url, "--username", "\\".join(user), "--non-interactive"]
        if ca and self.em.ca_file:
            argv += ["--ca-bundle", self.em.ca_file]
        return argv

    def state(self) -> dict[str, Any]:
        return copy.deepcopy(self.em.state())

    def site(self, site_name: str, state: dict[str, Any] | None = None) -> dict[str, Any]:
        return next(s for s in (state or self.state())["sites"] if s["site_name"] == site_name)

    def counters(self) -> dict[str, Any]:
        counters: dict[str, Any] = self.state()["counters"]
        return counters

    def files_received(self) -> list[dict[str, Any]]:
        return [f for body in self.counters()["post_bodies"] for f in body["files"]]


def upload(
    cli: Any,
    t: Tms,
    f: PfxFile,
    *extra: str,
    site: str = "acme",
    user: tuple[str, str] = ADMIN,
    env: dict[str, str] | None = None,
) -> Any:
    """``upload --site site --pfx f *extra`` to ``t`` as ``user``, the TMS and .pfx passwords in the environment
    (``env`` adds to them or overrides them)."""
    argv = [*t.target(user=user), "--site", site, "--pfx", str(f.path), *extra]
    return cli("upload", *argv, env={**t.env, **f.env, **(env or {})})


@dataclass
class Target:
    """One running emulator as a named profile: its own admin password in its own environment variable."""

    name: str
    em: RunningEmulator
    password: str

    @property
    def password_var(self) -> str:
        return f"TMS_PW_{self.name.upper().replace('-', '_')}"

    def state(self) -> dict[str, Any]:
        return self.em.state()

    def counters(self) -> dict[str, Any]:
        counters: dict[str, Any] = self.state()["counters"]
        return counters

    def thumbprint(self, site: str = "acme") -> str | None:
        found = next(s for s in self.state()["sites"] if s["site_name"] == site)
        return found["certificate"]["thumbprint_sha1"] if found["certificate"] else None

    def argv(self) -> list[str]:
        """Flags for a one-target run without a config file."""
        assert self.em.ca_file is not None, "the emulator runs without TLS"
        return [
            "--url",
            self.em.url,
            "--username",
            "TMSLAB\\admin",
            "--ca-bundle",
            self.em.ca_file,
            "--site",
            "acme",
            "--non-interactive",
        ]


@dataclass
class Config:
    """A config file with one profile per target, and the environment that holds their passwords."""

    path: Path
    env: dict[str, str] = field(default_factory=dict)


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
host_column = "Hostname"
site_column = "Sitename"
edit_labels = "Bearbeiten"
yes_labels = "Ja"
no_labels = "Nein"
[fields]
host_name = "Hostname"
site_name = "Sitename"
bandwidth = "Teilnehmerbandbreite"
use_sso = "Single Sign-On verwenden"
sso_certificate = { name = "*$ssoCertificate" }
certificate_password = "Zertifikatkennwort"
partner_name = "SSO-Partnername"
account_name = "SSO-Kontoname"
authn_context = "SSO-AuthnContextClassRef"
[certificate]
subject = "Antragsteller"
expires = "Gültig bis"
thumbprint = "Fingerabdruck"
installed = "Installiert"
""",
}
