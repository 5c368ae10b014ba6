"""tmsclient as a library: typed functions for one TMS target that return frozen results and never print."""

from __future__ import annotations

import argparse
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from tmsclient.certs.checks import check_contents
from tmsclient.certs.loading import PfxBundle, load_pfx_bytes, load_pfx_file
from tmsclient.certs.pfxoptions import PfxEncryption, generate_password
from tmsclient.certs.pfxwrite import serialize_pfx
from tmsclient.commands.renew_steps import read_pem_source
from tmsclient.commands.show import describe_site
from tmsclient.commands.sources import PEM, RenewalSource
from tmsclient.commands.status import shown_expiry
from tmsclient.config import Config
from tmsclient.credentials import PFX_PASSWORD, TMS_PASSWORD, Secret, StdinGate, checked_secret
from tmsclient.errors import (
    CertificateUnfitError,
    ConfigError,
    PasswordError,
    UsageError,
    VerificationFailedError,
)
from tmsclient.output import to_jsonable
from tmsclient.settings import SecretResolver, TargetSettings, resolve_target
from tmsclient.tms.driver import Driver, match_site
from tmsclient.tms.pageprofile import certificate_details, display_label, load_profile, yes_no
from tmsclient.tms.session import TmsSession
from tmsclient.tms.upload import UploadJob, judge_pfx, upload_to_target
from tmsclient.tms.verifier import FIELDS_ONLY, parse_expiry

UTC = dt.timezone.utc
#: The file name the browser would send for a .pfx built here from PEM files.
BUILT_PFX_NAME = "tms-cert.pfx"


@dataclass(frozen=True)
class Target:
    """One TMS as the caller names it; every value explicit (the environment and config files are not read)."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    auth: str = "auto"
    ca_bundle: str | None = None
    validate_certs: bool = True
    allow_http: bool = False
    timeout: float | None = None
    upload_timeout: float | None = None
    page_profile: str | None = None
    page_url: str | None = None
    target_os: str | None = None


@dataclass(frozen=True)
class CertificateSource:
    """The certificate to put on TMS: a .pfx and its password, or PEM files (certificate, key, chain)."""

    pfx: str | None = None
    pfx_password: str | None = field(default=None, repr=False)
    cert: str | None = None
    key: str | None = None
    chain: tuple[str, ...] = ()
    key_passphrase: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Change:
    """One field the Save changes (or would), redacted: a password or file shows as a placeholder."""

    field: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class EnsureResult:
    """What :func:`ensure_certificate` did: ``action`` is ``uploaded``, ``unchanged`` or ``dry-run``."""

    changed: bool
    action: str
    host_name: str
    site_name: str
    subject: str
    thumbprint_sha1: str
    serial: str
    not_after: str
    verification: str | None
    changes: tuple[Change, ...]
    warnings: tuple[str, ...]
    tms_message: str | None
    requests: int

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = to_jsonable(self)
        return result


@dataclass(frozen=True)
class SiteInfo:
    """One site as TMS shows it: its fields (never a password's value) and its certificate's details."""

    host_name: str
    site_name: str
    default: str | None
    fields: tuple[Mapping[str, Any], ...]
    subject: str | None
    thumbprint: str | None
    expires_shown: str | None
    expires: str | None  # ISO 8601 UTC, None when not shown or not a date tmsclient reads
    days_left: int | None
    certificate_installed: bool | None
    verification_possible: str


@dataclass(frozen=True)
class TmsInfo:
    """What :func:`read_info` read: the WebEx Configuration settings and every (or the chosen) site."""

    url: str
    settings_page: str
    global_settings: tuple[Mapping[str, Any], ...]
    sites: tuple[SiteInfo, ...]
    checked_at: str
    requests: int

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = to_jsonable(self)
        return result


_NO_CONFIG = Config(path=Path("(none)"), profiles={}, defaults={}, default_profile=None)


class _Ctx:
    """What resolve_target needs: no environment, no prompt, no stdin (a library call has none of them)."""

    def __init__(self) -> None:
        self.environ: Mapping[str, str] = {}
        self.interactive = False
        self.stdin: IO[str] = io.StringIO()
        self.secrets = SecretResolver(environ={}, stdin=StdinGate(self.stdin), interactive=False)


def resolve(target: Target, *, site: str | None = None) -> TargetSettings:
    """The target's settings, checked exactly as the command line checks its flags, with its password."""
    args = argparse.Namespace(
        url=target.url,
        username=target.username,
        auth=target.auth,
        ca_bundle=target.ca_bundle,
        insecure=not target.validate_certs,
        allow_http=target.allow_http,
        timeout=target.timeout,
        upload_timeout=target.upload_timeout,
        site=site,
        page_profile=target.page_profile,
        page_url=target.page_url,
        target_os=target.target_os,
        pfx=None,
        config=None,
        profile=None,
    )
    # An empty config: a library call never reads the user's config file.
    settings = resolve_target(args, _Ctx(), need_password=False, config=_NO_CONFIG)
    if settings.auth == "negotiate":
        return settings
    if settings.username is None:
        raise ConfigError("no TMS user name given", hint="give username (DOMAIN\\user, user@domain or user)")
    if target.password is None:
        raise PasswordError(f"no TMS password given for {settings.username}", hint="give password")
    password = checked_secret(target.password, "parameter password", TMS_PASSWORD.what)
    if not password:
        raise PasswordError("the TMS password given is empty")
    return replace(settings, password=password, sources={**settings.sources, "password": "parameter password"})


def open_certificate(source: CertificateSource) -> tuple[PfxBundle, Secret, str]:
    """The .pfx to upload, opened, with its password and the file name to send: the given .pfx, or one built in
    memory from PEM files in the Windows-compatible form with a generated password."""
    if bool(source.pfx) == bool(source.cert):
        raise UsageError("give either a .pfx or PEM files (cert, key, chain), not both or neither")
    if source.pfx:
        if source.pfx_password is None:
            raise PasswordError(f"no {PFX_PASSWORD.what} given for {source.pfx}", hint="give pfx_password")
        password = checked_secret(source.pfx_password, "parameter pfx_password", PFX_PASSWORD.what)
        return load_pfx_file(source.pfx, password), password, Path(source.pfx).name
    assert source.cert is not None
    key_path = source.key or source.cert

    def passphrase() -> Secret:
        if source.key_passphrase is None:
            raise PasswordError(f"the private key in {key_path} is encrypted and no key_passphrase was given")
        return checked_secret(source.key_passphrase, "parameter key_passphrase", "private key passphrase")

    pem = RenewalSource(
        PEM,
        f"PEM files {source.cert}",
        cert=Path(source.cert),
        key=Path(source.key) if source.key else None,
        chain=tuple(Path(c) for c in source.chain),
    )
    pair = read_pem_source(pem, passphrase)
    key, ordered = pair.key, pair.ordered
    errors = [f for f in check_contents(key, ordered.leaf, ordered, warn_days=0) if f.severity == "error"]
    if errors:
        raise CertificateUnfitError(
            f"the certificate is not fit for TMS: {errors[0].message}",
            hint="fix the input (see `tmsclient check`); nothing was sent to TMS",
            details=[f.line() for f in errors],
        )
    password = generate_password()
    data = serialize_pfx(
        key=key, cert=ordered.leaf, cas=ordered.chain, password=password, encryption=PfxEncryption.COMPATIBLE
    )
    return load_pfx_bytes(data, password, source=f"the .pfx built from {source.cert}"), password, BUILT_PFX_NAME


def ensure_certificate(
    target: Target,
    certificate: CertificateSource,
    site: str,
    *,
    dry_run: bool = False,
    require_certificate: bool = False,
    reupload: bool = False,
    preflight: bool = True,
    enable_sso: bool = False,
    partner_name: str | None = None,
    account_name: str | None = None,
    authn_context: str | None = None,
) -> EnsureResult:
    """Make ``site``'s SSO certificate the given one, as `tmsclient upload` does: nothing is saved when TMS
    already shows it, and nothing at all with ``dry_run`` (the result then holds the plan). With
    ``require_certificate`` a check that can only compare fields (TMS shows no certificate details) fails with
    exit 23. Raises the TmsClientError of the first failure."""
    settings = resolve(target, site=site)
    bundle, password, name = open_certificate(certificate)
    warnings = judge_pfx(bundle, settings.target_os, skip=not preflight)
    job = UploadJob(
        pfx_name=name,
        pfx_source=certificate.pfx or f"built from {certificate.cert}",
        bundle=bundle,
        password=password,
        enable_sso=enable_sso,
        partner_name=partner_name,
        account_name=account_name,
        authn_context=authn_context,
        dry_run=dry_run,
        force=reupload,
        no_preflight=not preflight,
    )
    p = upload_to_target(settings, job).payload
    where = f"{p['site']['host_name']}/{p['site']['site_name']}"
    if require_certificate and p["verification"] == FIELDS_ONLY:
        done = "TMS accepted the Save, but " if p["action"] == "uploaded" else ""
        raise VerificationFailedError(
            f"site {where}: {done}TMS shows no certificate thumbprint or expiry, so the certificate cannot be "
            "verified (require_certificate); got fields-only, expected certificate",
            hint="set require_certificate to false to accept a fields-only check",
        )
    return EnsureResult(
        changed=p["action"] in ("uploaded", "dry-run"),
        action=p["action"],
        host_name=p["site"]["host_name"],
        site_name=p["site"]["site_name"],
        subject=p["subject"],
        thumbprint_sha1=p["thumbprint_sha1"],
        serial=str(p["serial"]),
        not_after=to_jsonable(p["not_after"]),
        verification=p["verification"],
        changes=tuple(Change(c["field"], c["label"], str(c["before"]), str(c["after"])) for c in p["changes"]),
        warnings=tuple([*warnings, *p["warnings"]]),
        tms_message=p["tms_message"],
        requests=p["requests"],
    )


def read_info(target: Target, *, site: str | None = None, now: dt.datetime | None = None) -> TmsInfo:
    """Read-only, one login: what `show` and `status` report for every site (or ``site``)."""
    settings = resolve(target, site=site)
    now = now or dt.datetime.now(UTC)
    profile = load_profile(settings.page_profile)
    sites: list[SiteInfo] = []
    with TmsSession(settings) as session:
        driver = Driver(session, profile, page_url=settings.page_url)
        page = driver.settings_page()
        globals_ = driver.global_values(page)
        rows = driver.sites(page)
        for i, row in enumerate([match_site(rows, site)] if site else list(rows)):
            # A postback opens one site per page view, so every site after the first is opened afresh.
            view = driver.open_site(page, row) if i == 0 else driver.reopen(row)
            details = certificate_details(view.page, view.profile)
            described = describe_site(view, details, skip=set(), label=display_label)
            sites.append(_site_info(described, details.installed, profile, now))
        requests = session.stats.requests
    return TmsInfo(
        url=settings.url,
        settings_page=driver.settings_url or settings.url,
        global_settings=tuple({"key": k, "label": label, "value": v} for k, (label, v) in globals_.items()),
        sites=tuple(sites),
        checked_at=to_jsonable(now),
        requests=requests,
    )


def _site_info(described: Mapping[str, Any], installed: str | None, profile: Any, now: dt.datetime) -> SiteInfo:
    cert = described["certificate"]
    when = shown_expiry(parse_expiry(cert["expires"])) if cert["expires"] else None
    return SiteInfo(
        host_name=described["host_name"],
        site_name=described["site_name"],
        default=described["default"],
        fields=tuple(described["fields"]),
        subject=cert["subject"],
        thumbprint=cert["thumbprint"],
        expires_shown=cert["expires"],
        expires=to_jsonable(when) if when else None,
        days_left=None if when is None else (when - now) // dt.timedelta(days=1),
        certificate_installed=yes_no(profile, installed) if installed else None,
        verification_possible=described["verification_possible"],
    )


def changes_text(changes: Sequence[Change]) -> tuple[str, str]:
    """The plan as Ansible's --diff shows it: ``field: before`` lines and ``field: after`` lines."""
    before = "".join(f"{c.label}: {c.before}\n" for c in changes)
    after = "".join(f"{c.label}: {c.after}\n" for c in changes)
    return before, after
