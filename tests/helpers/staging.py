"""Helpers for tests against the staging stand-in (staging/, docs/staging.md): the running stack as the
``staging_stack`` fixture (tests/integration/staging/conftest.py) hands it out, and its accounts."""

from __future__ import annotations

import glob
import json
import os
import re
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from requests_ntlm import HttpNtlmAuth

from tests.helpers.paths import REPO
from tmsemulator.config import User, parse_users_text

STAGING = REPO / "staging"

#: files staging/up needs, and the Debian package that brings each
_REQUIRED = {
    "/usr/sbin/apache2": "apache2",
    "/usr/lib/apache2/modules/mod_ssl.so": "apache2",
    "/usr/lib/apache2/modules/mod_auth_gssapi.so": "libapache2-mod-auth-gssapi",
    "/usr/lib/*/gssntlmssp/gssntlmssp.so": "gss-ntlmssp",
    "/usr/lib/apache2/modules/mod_mono.so": "libapache2-mod-mono",
    "/usr/bin/mod-mono-server4": "mono-apache-server4",
    "/usr/sbin/krb5kdc": "krb5-kdc",
    "/usr/sbin/kadmin.local": "krb5-admin-server",
    "/usr/bin/kinit": "krb5-user",
    "/usr/lib/*/faketime/libfaketime.so.1": "faketime",
    "/usr/bin/pebble": "pebble",
    "/usr/bin/certbot": "certbot",
    "/usr/bin/lego": "lego",
}

ADMIN = "admin"  # a Site Administrator
OPERATOR = "operator"  # an authenticated user who is not one
DOMAIN = "TMS"


def missing_packages() -> list[str]:
    return sorted({pkg for path, pkg in _REQUIRED.items() if not glob.glob(path)})


#: one line of the stand-in's access log (LogFormat "tms" in staging/conf/httpd.conf.in)
_ACCESS_LINE = re.compile(
    r'^(?P<host>\S+) (?P<user>\S+) \[[^\]]+\] "(?P<method>\S+) (?P<target>\S+) [^"]*" (?P<status>\d{3}) \S+ \d+ '
    r'"[^"]*" (?P<received>\d+) (?P<keepalive>\d+)$'
)


@dataclass(frozen=True)
class Access:
    """One request as Apache logged it."""

    user: str  # DOMAIN\user as authenticated, "-" when not (yet)
    method: str
    target: str  # path and query
    status: int
    received: int  # bytes Apache read for it: request line, headers and body
    keepalive: int  # its number on its connection: 0 opens a new connection


def parse_access_line(line: str) -> Access | None:
    m = _ACCESS_LINE.match(line)
    if m is None:
        return None
    return Access(
        user=m["user"].replace("\\\\", "\\"),  # Apache escapes the backslash in DOMAIN\user
        method=m["method"],
        target=m["target"],
        status=int(m["status"]),
        received=int(m["received"]),
        keepalive=int(m["keepalive"]),
    )


@dataclass(frozen=True)
class KerberosRealm:
    """The stand-in's realm (staging/up's ``kerberos`` in the ready file): its KDC, and a second KDC of the
    same realm whose clock is ``skew_seconds`` off (faketime)."""

    realm: str
    host: str  # resolves to 127.0.0.1; the service principal is HTTP/<host>
    url: str  # https://<host>:PORT/tms/
    spn: str
    krb5_config: Path
    skewed_krb5_config: Path
    skew_seconds: int

    @classmethod
    def from_ready(cls, info: dict[str, Any]) -> KerberosRealm:
        return cls(
            realm=info["realm"],
            host=info["host"],
            url=info["url"],
            spn=info["spn"],
            krb5_config=Path(info["krb5_config"]),
            skewed_krb5_config=Path(info["skewed_krb5_config"]),
            skew_seconds=int(info["skew_seconds"]),
        )

    def kinit(
        self,
        principal: str,
        password: str,
        ccache: Path,
        *,
        krb5_config: Path | None = None,
        clock_offset: str | None = None,
        lifetime: str = "1h",
    ) -> None:
        """``kinit`` as a user would, the password on stdin, into the file cache ``ccache``. ``clock_offset``
        (a libfaketime offset such as ``-2d``) runs kinit with its clock off, against the skewed KDC."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "KRB5_CONFIG": str(krb5_config or (self.skewed_krb5_config if clock_offset else self.krb5_config)),
            "KRB5CCNAME": f"FILE:{ccache}",
        }
        if clock_offset:
            env["LD_PRELOAD"] = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))[0]
            env["FAKETIME"] = clock_offset
        proc = subprocess.run(
            ["kinit", "-l", lifetime, principal], input=password + "\n", env=env, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise AssertionError(f"kinit {principal} failed: {proc.stderr.strip()}")


@dataclass(frozen=True)
class AcmeCa:
    """pebble, the ACME test CA staging/up runs (the ready file's ``acme``)."""

    directory: str  # https://127.0.0.1:PORT/dir
    ca_file: Path  # the trust anchor of pebble's own HTTPS listener


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
    def kerberos(self) -> KerberosRealm | None:
        """The realm, or None for a stand-in started by a staging/up without one."""
        info = self.ready.get("kerberos")
        return KerberosRealm.from_ready(info) if info else None

    @property
    def acme(self) -> AcmeCa | None:
        info = self.ready.get("acme")
        return AcmeCa(info["directory"], Path(info["ca_file"])) if info else None

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
        data: dict[str, Any] = json.loads(self.data_file.read_text(encoding="utf-8"))
        return data

    @property
    def access_log(self) -> Path:
        return self.error_log.with_name("access.log")

    def access_mark(self) -> int:
        """Where the access log ends now; pass it to ``accesses_since``."""
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def accesses_since(self, mark: int, timeout: float = 10.0) -> list[Access]:
        """Every request Apache logged after ``mark``. Apache writes a line after it has answered, so the
        lines of requests a client has seen answered may still be on their way: an unauthenticated request
        with a unique marker goes last, and the log is read until its line is there."""
        token = secrets.token_hex(8)
        self.session(None).get(f"{self.url}ready.aspx?sync={token}", timeout=timeout)
        deadline = time.monotonic() + timeout
        while True:
            with self.access_log.open("rb") as fh:
                fh.seek(mark)
                lines = fh.read().decode("utf-8", "replace").splitlines()
            if any(token in line for line in lines):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the access log {self.access_log} never showed the marker request")
            time.sleep(0.01)  # polling for the marker's line, not waiting for time to pass
        out = []
        for line in lines:
            if token in line:
                continue
            access = parse_access_line(line)
            assert access is not None, f"unexpected access log line: {line!r}"
            out.append(access)
        return out

    def read_import_failures(self) -> list[dict[str, Any]]:
        if not self.import_failures_file.exists():
            return []
        lines = self.import_failures_file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def _read_users(path: str) -> dict[str, User]:
    users = parse_users_text(Path(path).read_text(encoding="utf-8"), path)
    return {name: User(domain, name, password) for domain, name, password in users}


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


@dataclass(frozen=True)
class StagingTarget:
    """What a ``cli`` run needs to reach the stand-in as one of its accounts."""

    stack: StagingStack

    def argv(self, user: str = ADMIN, *, login: str | None = None) -> list[str]:
        """--url, --username (``login`` overrides ``TMS\\user``), --ca-bundle, --non-interactive."""
        name = login if login is not None else self.stack.users[user].login
        return ["--url", self.stack.url, "--username", name, "--ca-bundle", self.stack.ca_file, "--non-interactive"]

    def env(self, user: str = ADMIN, *, password: str | None = None) -> dict[str, str]:
        return {"TMSCLIENT_TMS_PASSWORD": self.stack.users[user].password if password is None else password}


@dataclass(frozen=True)
class PfxFile:
    path: Path
    cert_path: Path  # the certificate alone, PEM
    password: str
    subject: str  # "CN=..." as Mono's X509Certificate2.Subject shows it
    thumbprint: str  # upper-case SHA-1 hex
    not_after: str  # "yyyy-MM-dd HH:mm:ssZ", as the stand-in stores and shows it
    sha256: str  # upper-case hex of the file, as the stand-in records it
    size: int

    @property
    def env(self) -> dict[str, str]:
        return {"TMSCLIENT_PFX_PASSWORD": self.password}
