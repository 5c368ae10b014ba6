"""Helpers for tests against the staging stand-in (staging/, docs/staging.md): the running stack as the
``staging_stack`` fixture (tests/staging/conftest.py) hands it out, and its accounts."""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests_ntlm import HttpNtlmAuth

REPO = Path(__file__).resolve().parents[2]
STAGING = REPO / "staging"

#: files staging/up needs, and the Debian package that brings each
_REQUIRED = {
    "/usr/sbin/apache2": "apache2",
    "/usr/lib/apache2/modules/mod_ssl.so": "apache2",
    "/usr/lib/apache2/modules/mod_auth_gssapi.so": "libapache2-mod-auth-gssapi",
    "/usr/lib/*/gssntlmssp/gssntlmssp.so": "gss-ntlmssp",
    "/usr/lib/apache2/modules/mod_mono.so": "libapache2-mod-mono",
    "/usr/bin/mod-mono-server4": "mono-apache-server4",
}

ADMIN = "admin"  # a Site Administrator
OPERATOR = "operator"  # an authenticated user who is not one
DOMAIN = "TMS"


def missing_packages() -> list[str]:
    return sorted({pkg for path, pkg in _REQUIRED.items() if not glob.glob(path)})


@dataclass(frozen=True)
class User:
    domain: str
    name: str
    password: str = field(repr=False)

    @property
    def login(self) -> str:
        """The name as a Windows client types it: DOMAIN\\user (or user when there is no domain)."""
        return f"{self.domain}\\{self.name}" if self.domain else self.name


@dataclass
class StagingStack:
    """A running stand-in: its URLs, TLS trust anchor, accounts, and the files the app writes."""

    url: str  # https://127.0.0.1:PORT/tms/
    ca_file: str
    pid: int
    state_dir: Path
    users: dict[str, User]  # by user name
    admins: list[str]
    webex_page_id: int
    data_file: Path
    import_failures_file: Path
    error_log: Path
    ready: dict[str, Any] = field(repr=False)

    @property
    def webex_url(self) -> str:
        return f"{self.url}default.aspx?pageId={self.webex_page_id}"

    def session(self, user: str | User | None = ADMIN, password: str | None = None) -> requests.Session:
        """A requests.Session that trusts the stand-in's certificate (and nothing from the environment:
        REQUESTS_CA_BUNDLE would override ``verify``) and logs in with NTLM as ``user``."""
        s = requests.Session()
        s.trust_env = False
        s.verify = self.ca_file
        if user is not None:
            u = user if isinstance(user, User) else self.users[user]
            s.auth = HttpNtlmAuth(u.login, u.password if password is None else password)
        return s

    def read_data(self) -> dict[str, Any]:
        """What the app stored (webex.json): sites, their fields and certificate details."""
        return json.loads(self.data_file.read_text(encoding="utf-8"))

    def read_import_failures(self) -> list[dict[str, Any]]:
        if not self.import_failures_file.exists():
            return []
        lines = self.import_failures_file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def _read_users(path: str) -> dict[str, User]:
    users = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            domain, name, password = line.split(":", 2)
            users[name] = User(domain, name, password)
    return users


def stack_from_ready(ready: dict[str, Any]) -> StagingStack:
    return StagingStack(
        url=ready["url"],
        ca_file=ready["ca_file"],
        pid=int(ready["pid"]),
        state_dir=Path(ready["state_dir"]),
        users=_read_users(ready["users_file"]),
        admins=list(ready.get("admins", [])),
        webex_page_id=int(ready.get("webex_page_id", 83)),
        data_file=Path(ready["data_file"]),
        import_failures_file=Path(ready["import_failures_file"]),
        error_log=Path(ready["error_log"]),
        ready=ready,
    )
