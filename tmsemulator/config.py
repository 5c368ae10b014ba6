"""Emulator settings: one frozen dataclass, the initial WebEx data, and the users file format."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tmsemulator.errors import ConfigError, InputFileError
from tmsemulator.faults import Faults
from tmsemulator.profiles import BANDWIDTH_OPTIONS, DEFAULT_PROFILE, PageProfile, get_profile
from tmsemulator.windows import DEFAULT_SERVER_OS, WINDOWS_VERSIONS

AUTH_MODES = ("ntlm", "negotiate", "basic")
#: Redirects a real IIS front may add around the login (``redirects``): the start page at
#: /tms/default.aspx, /tms without its slash, and a redirect answered before the first 401.
REDIRECT_KINDS = ("start-page", "trailing-slash", "before-login")
CERT_DETAILS_MODES = ("summary", "none")
#: Page ids of the start page and the decoy menu entries; a profile's WebEx page ids must differ.
RESERVED_PAGE_IDS = frozenset({1, 35, 36, 77, 79, 116, 117, 118})
UTC = dt.timezone.utc


@dataclass(frozen=True)
class StoredCertificate:
    """What TMS keeps of an imported certificate (never the key or the password)."""

    subject: str
    issuer: str
    serial: str  # upper-case hex
    not_before: dt.datetime
    not_after: dt.datetime
    thumbprint_sha1: str  # upper-case hex, as Windows shows it
    pfx_sha256: str | None = None  # of the uploaded file, when it was uploaded to this emulator

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "serial": self.serial,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "thumbprint_sha1": self.thumbprint_sha1,
            "pfx_sha256": self.pfx_sha256,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoredCertificate:
        try:
            return cls(
                subject=str(data["subject"]),
                issuer=str(data.get("issuer", data["subject"])),
                serial=str(data.get("serial", "01")),
                not_before=_parse_time(data.get("not_before", "2020-01-01T00:00:00Z")),
                not_after=_parse_time(data["not_after"]),
                thumbprint_sha1=str(data["thumbprint_sha1"]).upper(),
                pfx_sha256=data.get("pfx_sha256"),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(
                f"a site's certificate entry is invalid: {exc}",
                hint="give subject, not_after (ISO 8601) and thumbprint_sha1",
            ) from exc


@dataclass(frozen=True)
class SiteData:
    """One WebEx site as TMS stores it."""

    host_name: str
    site_name: str
    bandwidth: str = "Medium"
    default_site: bool = False
    use_global: bool = True
    tsp_audio: bool = False
    use_sso: bool = False
    partner_name: str = ""
    account_name: str = ""
    authn_context: str = ""
    certificate: StoredCertificate | None = None

    def __post_init__(self) -> None:
        if self.bandwidth not in BANDWIDTH_OPTIONS:
            raise ConfigError(
                f"site {self.host_name}: bandwidth {self.bandwidth!r} is not one of {', '.join(BANDWIDTH_OPTIONS)}"
            )

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "certificate"}
        data["certificate"] = self.certificate.to_json() if self.certificate else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SiteData:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known - {"id"})
        if unknown:
            raise ConfigError(
                f"unknown site field(s): {', '.join(unknown)}",
                hint=f"known fields: {', '.join(sorted(known))}",
            )
        values = {k: v for k, v in data.items() if k in known and k != "certificate"}
        cert = data.get("certificate")
        try:
            return cls(**values, certificate=StoredCertificate.from_json(cert) if cert else None)
        except TypeError as exc:
            raise ConfigError(f"a site entry is invalid: {exc}") from exc


def _iso(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def default_sites(now: dt.datetime | None = None) -> tuple[SiteData, ...]:
    """Three sites: the default one with a certificate about to expire (the renewal case), one without."""
    now = (now or dt.datetime.now(UTC)).replace(microsecond=0)
    return (
        SiteData(
            host_name="acme.webex.com",
            site_name="acme",
            bandwidth="High",
            default_site=True,
            use_global=True,
            tsp_audio=False,
            use_sso=True,
            partner_name="tms.acme.example",
            account_name="tms-sso@acme.example",
            authn_context="urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified",
            certificate=StoredCertificate(
                subject="CN=tms.acme.example, O=ACME Corp",
                issuer="CN=ACME Issuing CA 1, O=ACME Corp",
                serial="4F1A0C3B9E2D7788",
                not_before=now - dt.timedelta(days=345),
                not_after=now + dt.timedelta(days=20),
                thumbprint_sha1="3B7E0C5A9D41F26B8C0E1A7D5F3392C4E6B18A07",
            ),
        ),
        SiteData(
            host_name="acme-eu.webex.com",
            site_name="acmeeu",
            bandwidth="Medium",
            default_site=False,
            use_global=False,
            tsp_audio=True,
            use_sso=False,
        ),
        SiteData(
            host_name="acme-training.webex.com",
            site_name="training",
            bandwidth="Low",
            default_site=False,
            use_global=True,
            tsp_audio=False,
            use_sso=True,
            partner_name="tms.acme.example",
            account_name="training-sso@acme.example",
            authn_context="urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
            certificate=StoredCertificate(
                subject="CN=tms.acme.example, O=ACME Corp",
                issuer="CN=ACME Issuing CA 1, O=ACME Corp",
                serial="0A77D2E54C11B390",
                not_before=now - dt.timedelta(days=100),
                not_after=now + dt.timedelta(days=265),
                thumbprint_sha1="A1C45E09B7D2263F4E8B90D1C3A56F7E28B40D9C",
            ),
        ),
    )


@dataclass(frozen=True)
class User:
    domain: str
    name: str
    password: str = field(repr=False)

    @property
    def login(self) -> str:
        """The name as a Windows client types it: DOMAIN\\user (or user when there is no domain)."""
        return f"{self.domain}\\{self.name}" if self.domain else self.name

    def as_tuple(self) -> tuple[str, str, str]:
        return (self.domain, self.name, self.password)


def parse_users_text(text: str, source: str) -> tuple[tuple[str, str, str], ...]:
    """``DOMAIN:USER:PASSWORD`` lines (the password may hold colons); blank lines and # comments skipped."""
    users = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[1]:
            # Never echo the line: it may hold a password.
            raise ConfigError(
                f"{source} line {number} is not DOMAIN:USER:PASSWORD",
                hint="an empty domain is allowed (:user:password); the user name is not",
            )
        if not parts[2]:
            raise ConfigError(f"{source} line {number}: the password is empty")
        users.append((parts[0], parts[1], parts[2]))
    if not users:
        raise ConfigError(f"{source} holds no users", hint="add DOMAIN:USER:PASSWORD lines")
    return tuple(users)


def read_users_file(path: str | Path) -> tuple[tuple[str, str, str], ...]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputFileError(f"the users file {p} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read the users file {p}: {exc}") from exc
    return parse_users_text(text, f"the users file {p}")


def read_data_file(path: str | Path) -> dict[str, Any]:
    """Initial data as EmulatorConfig fields: a JSON list of sites, or an object with ``sites`` and
    optionally ``enable_webex`` and ``add_webex_to_all``."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputFileError(f"the sites file {p} does not exist") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"cannot read the sites file {p}: {exc}") from exc
    if isinstance(data, list):
        data = {"sites": data}
    if not isinstance(data, dict) or not isinstance(data.get("sites"), list):
        raise ConfigError(f"the sites file {p} must hold a JSON list of sites or an object with a sites list")
    unknown = sorted(set(data) - {"sites", "enable_webex", "add_webex_to_all"})
    if unknown:
        raise ConfigError(f"the sites file {p} has unknown key(s): {', '.join(unknown)}")
    if not all(isinstance(s, dict) for s in data["sites"]):
        raise ConfigError(f"the sites file {p}: every site must be a JSON object")
    fields: dict[str, Any] = {"sites": tuple(SiteData.from_json(s) for s in data["sites"])}
    for key in ("enable_webex", "add_webex_to_all"):
        if key in data:
            if not isinstance(data[key], bool):
                raise ConfigError(f"the sites file {p}: {key} must be true or false")
            fields[key] = data[key]
    return fields


@dataclass(frozen=True)
class EmulatorConfig:
    """How one emulator instance runs. Every field has a working default (HTTPS + NTLM on a free port)."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port
    tls: bool = True
    auth: str = "ntlm"  # "ntlm" (NTLM and Negotiate), "negotiate" (only Negotiate offered) or "basic"
    #: (domain, user, password) triples; empty: one administrator with a random password, written to a
    #: 0600 file in the state directory.
    users: Sequence[tuple[str, str, str]] = ()  # stored as a tuple
    #: Site Administrators as "user" or "DOMAIN\\user"; None: every user is one.
    admins: Sequence[str] | None = None
    page_profile: str = DEFAULT_PROFILE
    webex_page_id: int | None = None  # overrides the profile's WebEx Settings page id
    server_os: str = DEFAULT_SERVER_OS
    cert_details: str = "summary"
    sites: Sequence[SiteData] | None = None  # None: default_sites(); mappings are accepted too
    enable_webex: bool = True
    add_webex_to_all: bool = False
    faults: Faults = field(default_factory=Faults)
    state_dir: str | None = None  # None: a private temporary directory, removed at stop
    tls_names: Sequence[str] = ()  # extra DNS names or IPs for the server certificate
    extended_protection: bool = False  # require NTLM channel binding to the TLS certificate
    max_request_bytes: int = 4 * 1024 * 1024  # ASP.NET's default maxRequestLength (4096 KB)
    request_log_limit: int = 1000  # requests kept in the state's request log
    #: Same-origin redirects around the login (REDIRECT_KINDS); none by default.
    redirects: Sequence[str] = ()
    #: A tmsclient capture (`tmsclient discover --capture`): its pages are served instead of the profile's.
    capture: str | None = None

    def __post_init__(self) -> None:
        # Lists are accepted for convenience; stored as tuples so the config stays hashable and frozen.
        object.__setattr__(self, "users", tuple(tuple(u) for u in self.users))
        if self.admins is not None:
            admins = (self.admins,) if isinstance(self.admins, str) else self.admins
            object.__setattr__(self, "admins", tuple(admins))
        if self.sites is not None:
            sites = tuple(s if isinstance(s, SiteData) else SiteData.from_json(s) for s in self.sites)
            object.__setattr__(self, "sites", sites)
        object.__setattr__(self, "tls_names", tuple(self.tls_names))
        object.__setattr__(self, "redirects", tuple(self.redirects))
        unknown = [r for r in self.redirects if r not in REDIRECT_KINDS]
        if unknown:
            raise ConfigError(f"unknown redirect {unknown[0]!r}", hint=f"expected any of {', '.join(REDIRECT_KINDS)}")
        if isinstance(self.faults, Mapping):
            object.__setattr__(self, "faults", Faults().with_changes(self.faults))
        if self.auth not in AUTH_MODES:
            raise ConfigError(f"unknown auth mode {self.auth!r}", hint=f"expected one of {', '.join(AUTH_MODES)}")
        if self.server_os not in WINDOWS_VERSIONS:
            raise ConfigError(
                f"unknown server OS {self.server_os!r}", hint=f"expected one of {', '.join(WINDOWS_VERSIONS)}"
            )
        if self.cert_details not in CERT_DETAILS_MODES:
            raise ConfigError(
                f"unknown cert details mode {self.cert_details!r}",
                hint=f"expected one of {', '.join(CERT_DETAILS_MODES)}",
            )
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is out of range (0-65535)")
        for user in self.users:
            if len(user) != 3 or not user[1] or not user[2]:
                raise ConfigError("each user must be (domain, user, password) with a user name and a password")
            if any(c in part for part in user[:2] for c in ":\\@\r\n") or any(c in user[2] for c in "\r\n"):
                raise ConfigError(
                    f"user {user[1]!r}: a domain or user name cannot hold : \\ @ or line breaks, "
                    "a password cannot hold line breaks"
                )
        profile = self.profile()  # raises on an unknown name or a clashing page id
        if self.faults.layout_change:
            self.profile(self.faults.layout_change)
        del profile

    def profile(self, name: str | None = None) -> PageProfile:
        """The configured profile (or another by name), with the page id override applied."""
        profile = get_profile(name or self.page_profile)
        if self.webex_page_id is not None:
            profile = dataclasses.replace(profile, webex_page_id=self.webex_page_id)
        ids = {profile.webex_page_id, profile.site_page_id} - {None}
        if ids & RESERVED_PAGE_IDS or profile.webex_page_id == profile.site_page_id:
            raise ConfigError(
                f"WebEx page id {profile.webex_page_id} clashes with another page",
                hint=f"ids {', '.join(map(str, sorted(RESERVED_PAGE_IDS)))} are taken by other pages",
            )
        return profile

    def initial_sites(self) -> tuple[SiteData, ...]:
        return tuple(self.sites) if self.sites is not None else default_sites()

    def replace(self, **changes: Any) -> EmulatorConfig:
        return dataclasses.replace(self, **changes)
