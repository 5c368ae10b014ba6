"""Upload one checked .pfx to one target and verify it: the steps `upload` and `renew` share, without printing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tmsclient.certs.checks import check_bundle, os_name
from tmsclient.certs.summary import ThumbprintError, normalize_thumbprint, summarize
from tmsclient.errors import (
    CertificateUnfitError,
    ConnectionFailedError,
    OutcomeUnknownError,
    PasswordError,
    RejectedByTmsError,
    ServerError,
    TmsClientError,
    UsageError,
    VerificationFailedError,
)
from tmsclient.tms.aspnet import request_validation_trigger
from tmsclient.tms.driver import (
    Driver,
    Plan,
    SaveErrorPageError,
    SaveOutcomeUnknownError,
    SiteRow,
    SiteView,
    UploadIntent,
    build_plan,
    match_site,
)
from tmsclient.tms.pageprofile.file import load_profile
from tmsclient.tms.pageprofile.matching import TmsIdentity, bool_state, certificate_details, page_info
from tmsclient.tms.session import HttpServerError, PostInterruptedError, TmsSession
from tmsclient.tms.verifier import CERTIFICATE, FIELDS_ONLY, Expectation, Verification, verify_site

if TYPE_CHECKING:
    from tmsclient.certs.loading import PfxBundle
    from tmsclient.credentials import Secret
    from tmsclient.settings import TargetSettings


@dataclass(frozen=True)
class UploadJob:
    """What goes to every target: the opened .pfx, its password, the SSO fields to set, and how to save."""

    pfx_name: str  # the file name the browser would send
    pfx_source: str  # how the report names the file (a path, or "in memory")
    bundle: PfxBundle = field(repr=False)
    password: Secret
    enable_sso: bool = False
    partner_name: str | None = None
    account_name: str | None = None
    authn_context: str | None = None
    dry_run: bool = False
    force: bool = False
    no_preflight: bool = False
    #: A fields-only verification is a failure (exit 23): for pipelines that need proof of the certificate.
    require_certificate: bool = False
    #: Called with the site as read and the plan of its Save, right before the Save (or a dry run's end);
    #: raising stops the upload there, before anything is sent. `cutover` compares the page with its preflight.
    check_plan: Callable[[SiteView, Plan], None] | None = field(default=None, repr=False, compare=False)

    def intent(self) -> UploadIntent:
        return UploadIntent(
            pfx_name=self.pfx_name,
            pfx_data=self.bundle.data,
            pfx_password=self.password,
            enable_sso=self.enable_sso,
            partner_name=self.partner_name,
            account_name=self.account_name,
            authn_context=self.authn_context,
        )


@dataclass
class Outcome:
    """What the run did, for the report."""

    action: str = ""
    verification: Verification | None = None
    warnings: list[str] = field(default_factory=list)
    tms_message: str | None = None
    retried_after_401: bool = False


@dataclass(frozen=True)
class UploadResult:
    """One target's report: ``payload`` is the ``--json`` object of `upload`; ``plan`` is for a dry run."""

    payload: dict[str, Any]
    plan: Plan | None = field(default=None, repr=False)

    def human(self) -> str:
        return describe_upload(self.payload, self.plan)


def summary_row(result: UploadResult) -> dict[str, Any]:
    """A successful target's row in a many-target report: headline fields, a summary, the full report."""
    p = result.payload
    site = f"{p['site']['host_name']}/{p['site']['site_name']}"
    return {
        "action": p["action"],
        "verification": p["verification"],
        "thumbprint_sha1": p["thumbprint_sha1"],
        "summary": f"site {site}, thumbprint {p['thumbprint_sha1']}",
        "result": p,
    }


def judge_pfx(bundle: PfxBundle, target_os: str, *, skip: bool) -> list[str]:
    """The `check` rules on an opened .pfx: its warnings, or a CertificateUnfitError before any login."""
    report = check_bundle(bundle, target_os=target_os)
    warnings = [f"{bundle.source}: {f.code}: {f.message}" for f in report.warnings]
    if report.errors:
        first = report.errors[0]
        if not skip:
            raise CertificateUnfitError(
                f"{bundle.source} is not fit for TMS on {os_name(target_os)}: {first.message}",
                hint="fix the file (see `tmsclient check`); nothing was sent to TMS",
                details=report.lines(),
            )
        warnings.append(
            f"{bundle.source} fails the preflight ({first.code}: {first.message}); uploading anyway (--no-preflight)"
        )
    return warnings


def judge_form_values(job: UploadJob) -> list[str]:
    """Values ASP.NET's request validation would answer with HTTP 500 before TMS's page runs: refused before
    any login (the .pfx password as a PasswordError), or warnings with --no-preflight."""
    why = (
        "ASP.NET request validation answers HTTP 500 to a posted value holding '<' followed by a letter, "
        "'!', '/' or '?', or '&#'"
    )
    warnings: list[str] = []
    texts = {
        "--partner-name": job.partner_name,
        "--account-name": job.account_name,
        "--authn-context": job.authn_context,
    }
    for flag, text in texts.items():
        found = request_validation_trigger(text) if text else None
        if found and not job.no_preflight:
            raise UsageError(
                f"{flag} holds {found!r}, which TMS would refuse: {why}",
                hint=f"give {flag} without it; nothing was sent to TMS",
            )
        if found:
            warnings.append(f"{flag} holds {found!r}; TMS may answer the Save with HTTP 500 ({why})")
    found = request_validation_trigger(job.password.reveal())
    if found and not job.no_preflight:
        # Only the offending pair of characters is named, never the password.
        raise PasswordError(
            f"the .pfx password holds {found!r}, which TMS would refuse: {why}",
            hint="re-export the .pfx (`tmsclient convert --out-password-...`) with a password "
            "without it; nothing was sent to TMS",
        )
    if found:
        warnings.append(f"the .pfx password holds {found!r}; TMS may answer the Save with HTTP 500 ({why})")
    return warnings


def upload_to_target(target: TargetSettings, job: UploadJob) -> UploadResult:
    """Log in to one TMS with its own session, open the site, Save once (unless it already holds the
    certificate, or a dry run), re-read and verify. Raises the typed error of the first failure."""
    started = time.monotonic()
    site = target.require("site")
    cert = summarize(job.bundle.cert)
    profile = load_profile(target.page_profile)
    intent = job.intent()
    outcome = Outcome(warnings=judge_form_values(job))
    with TmsSession(target) as session:
        driver = Driver(session, profile, page_url=target.page_url)
        row, view = open_site(driver, site)
        plan = _upload(driver, row, view, intent, cert.thumbprint_sha1, cert.not_after, job, outcome, cert.serial)
        stats = session.stats
        identity = driver.identity()
    if driver.posts_refused_with_401:
        outcome.retried_after_401 = True
        outcome.warnings.append(
            "TMS answered a POST with 401 (the login did not carry over from the page read, or IIS logs in "
            "every request); IIS refused it before the page ran, so it was sent once more with its own login"
        )
    payload = {
        "ok": True,
        "action": outcome.action,
        "verification": outcome.verification.level if outcome.verification else None,
        "site": {"host_name": row.host_name, "site_name": row.site_name},
        "url": target.url,
        "tms": identity.to_json(),
        "settings_page": driver.settings_url,
        "pfx": job.pfx_source,
        "subject": cert.subject,
        "thumbprint_sha1": cert.thumbprint_sha1,
        "serial": cert.serial,
        "not_after": cert.not_after,
        "changes": [
            {"field": r.key, "label": r.label, "before": r.before, "after": r.after}
            for r in (plan.rows if plan else ())
        ],
        "checks": outcome.verification.to_json()["checks"] if outcome.verification else [],
        "notes": list(outcome.verification.notes) if outcome.verification else [],
        "tms_message": outcome.tms_message,
        "retried_after_401": outcome.retried_after_401,
        "warnings": outcome.warnings,
        "page_profile": f"{profile.name} ({profile.source})",
        "requests": stats.requests,
        "bytes_sent": stats.bytes_sent,
        "elapsed_s": round(time.monotonic() - started, 3),
    }
    return UploadResult(payload, plan)


def open_site(driver: Driver, site: str) -> tuple[SiteRow, SiteView]:
    """The site's row and its form; the row as the form completes it (a list may show only host names)."""
    page = driver.settings_page()
    row = match_site(driver.sites(page), site)
    view = driver.open_site(page, row)
    return view.row, view


def _expectation(
    view: SiteView,
    plan: Plan | None,
    intent: UploadIntent,
    thumbprint: str,
    not_after: Any,
    outcome: Outcome,
    serial: str | None = None,
) -> Expectation:
    sso = view.fields.get("use_sso")
    was_on = bool_state(view.form, sso.field, view.profile) if sso else None
    if not intent.enable_sso and was_on is False:
        outcome.warnings.append(
            f"Use Single Sign On is off for site {view.row.name}; the certificate is "
            "stored but not used until it is on (pass --enable-sso)"
        )
    return Expectation(
        thumbprint_sha1=thumbprint,
        not_after=not_after,
        serial=serial,
        sso_on=intent.enable_sso or was_on is True,
        fields=dict(plan.expected) if plan else {},
        unchanged=dict(plan.unchanged) if plan else {},
    )


def _already_there(view: SiteView, intent: UploadIntent, thumbprint: str) -> bool:
    shown = certificate_details(view.page, view.profile).thumbprint
    if not shown:
        return False
    try:
        if normalize_thumbprint(shown) != thumbprint:
            return False
    except ThumbprintError:
        return False
    if intent.enable_sso:
        sso = view.require("use_sso")
        if bool_state(view.form, sso.field, view.profile) is not True:
            return False
    return all(view.value(key) == value for key, value in intent.text_fields().items())


def _upload(
    driver: Driver,
    row: SiteRow,
    view: SiteView,
    intent: UploadIntent,
    thumbprint: str,
    not_after: Any,
    job: UploadJob,
    outcome: Outcome,
    serial: str | None = None,
) -> Plan | None:
    if not job.force and _already_there(view, intent, thumbprint):
        outcome.action = "unchanged"
        expectation = _expectation(view, None, intent, thumbprint, not_after, outcome, serial)
        outcome.verification = verify_site(view, expectation)
        outcome.verification.raise_for_mismatch(row.name)
        return None
    plan = build_plan(view, intent)
    if job.check_plan is not None:
        job.check_plan(view, plan)
    if job.dry_run:
        outcome.action = "dry-run"
        return plan
    expectation = _expectation(view, plan, intent, thumbprint, not_after, outcome, serial)
    outcome.tms_message = _save(driver, row, view, plan, expectation, outcome)
    if outcome.verification is None:
        outcome.verification = _verify_after_save(driver, row, expectation, outcome.tms_message)
    outcome.verification.raise_for_mismatch(row.name)
    outcome.action = "uploaded"
    if job.require_certificate and outcome.verification.level == FIELDS_ONLY:
        said = f" (it said {outcome.tms_message!r})" if outcome.tms_message else ""
        raise VerificationFailedError(
            f"TMS accepted the Save of site {row.name}{said} and the fields read back as intended, but TMS shows "
            "no certificate thumbprint, serial number or expiry, so the certificate file itself could not be "
            "checked (--require-certificate); got fields-only, expected certificate",
            hint="the certificate is most likely stored: make a test booking with WebEx to check the SSO login "
            "before relying on it; drop --require-certificate to accept a fields-only check",
        )
    return plan


def _save(
    driver: Driver, row: SiteRow, view: SiteView, plan: Plan, expectation: Expectation, outcome: Outcome
) -> str | None:
    """The Save, once. A 401 is re-sent once by the driver (IIS refused it before the page ran); a broken
    connection or a 500 is never re-sent: a re-read decides what happened."""
    try:
        answer = driver.save(plan)
    except PostInterruptedError as err:
        if not err.body_may_have_arrived:
            raise
        _after_drop(driver, row, view, err, expectation, outcome)
        return None
    except SaveErrorPageError as err:
        _after_error_page(driver, row, view, err, expectation, outcome)
        return None
    except SaveOutcomeUnknownError as err:
        _after_unclear_answer(driver, row, view, err, expectation, outcome)
        return None
    except HttpServerError as err:
        raise ServerError(
            f"TMS answered HTTP {err.status} to the Save of site {row.name}"
            + (f": {err.tms_text}" if err.tms_text else ""),
            hint="see the TMS event log; rerun the upload once TMS is healthy",
            details=[_describe_reread(driver, row, expectation)],
        ) from err
    info = page_info(answer, driver.profile)
    return info[0] if info else None


def _verify_after_save(driver: Driver, row: SiteRow, expectation: Expectation, tms_message: str | None) -> Verification:
    """Re-read after a Save TMS accepted. If the re-read itself fails, the error must still say that TMS
    accepted the Save: the change happened, only its check did not."""
    try:
        return verify_site(driver.reopen(row), expectation)
    except TmsClientError as exc:
        said = f" (it said {tms_message!r})" if tms_message else ""
        raise VerificationFailedError(
            f"TMS accepted the Save of site {row.name}{said}, but re-reading the site to verify it failed: "
            f"{exc.message}",
            hint="the certificate is most likely stored: run `tmsclient verify` (or look at the site in TMS) "
            "before uploading again",
        ) from exc


def _describe_reread(driver: Driver, row: SiteRow, expectation: Expectation) -> str:
    """After a failed Save: what a re-read shows, for the error's detail line (best effort)."""
    try:
        check = verify_site(driver.reopen(row), expectation)
    except TmsClientError as exc:
        return f"a re-read of the site failed too: {exc.message}"
    if check.level == CERTIFICATE:
        tp = check.certificate.thumbprint or "none"
        if check.ok:
            return f"a re-read shows the new certificate anyway (thumbprint {tp}): run `tmsclient verify`"
        return f"a re-read shows the site unchanged (certificate thumbprint {tp})"
    installed = check.certificate.installed
    if installed:
        return (
            f"a re-read shows 'Certificate Installed: {installed}' but no thumbprint or expiry, so it cannot "
            "tell which certificate TMS holds"
        )
    return "a re-read cannot show which certificate TMS holds (no certificate details on the page)"


def _after_drop(
    driver: Driver, row: SiteRow, view: SiteView, err: Exception, expectation: Expectation, outcome: Outcome
) -> None:
    """The connection broke after the Save went out: re-read, and say what actually happened."""
    try:
        reread = driver.reopen(row)
    except TmsClientError as exc:
        raise OutcomeUnknownError(
            f"the connection broke during the Save of site {row.name}, and re-reading the site failed "
            f"({exc.message}); TMS may or may not have stored the certificate",
            hint="run `tmsclient verify` (or look at the site in TMS) before uploading again",
        ) from err
    check = verify_site(reread, expectation)
    timed_out = getattr(err, "timed_out", False)
    if check.level == CERTIFICATE:
        tp_check = next((c for c in check.checks if c.what == "certificate thumbprint"), None)
        if tp_check is not None and not tp_check.ok:
            if timed_out:
                # TMS never answered: it may still be importing, so an old thumbprint now proves nothing.
                raise OutcomeUnknownError(
                    f"TMS did not answer the Save of site {row.name} in time, and a re-read still shows the old "
                    f"certificate (thumbprint {tp_check.got}, expected {tp_check.expected}); TMS may still "
                    "be applying the Save",
                    hint="run `tmsclient verify` in a few minutes; upload again only if it still shows the old "
                    "certificate (and raise --upload-timeout)",
                ) from err
            raise ConnectionFailedError(
                f"the connection broke during the Save of site {row.name}; a re-read right after shows TMS "
                f"did not store the new certificate (thumbprint {tp_check.got}, expected {tp_check.expected})",
                hint="rerun the upload: it uploads only while TMS shows the old certificate",
            ) from err
        outcome.warnings.append("the connection broke after the Save was sent; the re-read shows TMS stored it")
        outcome.verification = check
        return
    # fields-only: a field the Save changed that now shows its new value proves the Save ran, because TMS
    # stores all of a Save or nothing of it.
    proof = [key for key, want in expectation.fields.items() if view.value(key) != want and reread.value(key) == want]
    if proof and check.ok:
        outcome.warnings.append(
            "the connection broke after the Save was sent; the re-read shows the changed "
            f"fields ({', '.join(proof)}), so TMS applied it"
        )
        outcome.verification = check
        return
    raise OutcomeUnknownError(
        f"the connection broke during the Save of site {row.name}; TMS does not show which certificate it "
        "holds and no changed field tells, so whether the Save was applied is unknown",
        hint="check the site in TMS (or with the WebEx team); rerunning the upload is safe",
    ) from err


def _after_error_page(
    driver: Driver,
    row: SiteRow,
    view: SiteView,
    err: SaveErrorPageError,
    expectation: Expectation,
    outcome: Outcome,
) -> None:
    """TMS answered the Save with an ASP.NET error page naming an import failure: its words become the error
    (exit 20 when the file or password was refused, 21 when the server failed), after a re-read that says
    what TMS kept, since TMS may have stored the other fields before the import threw."""
    try:
        reread = driver.reopen(row)
        check = verify_site(reread, expectation)
    except TmsClientError as exc:
        kept = (
            f"re-reading the site failed ({exc.message}), so whether TMS stored the other fields of the Save "
            "anyway is unknown"
        )
    else:
        if check.level == CERTIFICATE and check.ok:
            outcome.warnings.append(
                f"TMS answered the Save with an ASP.NET error page ({err.words}), yet the re-read shows it stored "
                "the new certificate"
            )
            outcome.verification = check
            return
        proof = [k for k, want in expectation.fields.items() if view.value(k) != want and reread.value(k) == want]
        if proof:
            kept = f"TMS stored the other fields of the Save anyway ({', '.join(proof)}), but not the certificate"
        elif check.level == CERTIFICATE:
            kept = "a re-read shows TMS did not store the new certificate"
        else:
            kept = (
                "TMS shows no certificate details, so a re-read cannot tell what it kept: it may have stored the "
                "other fields of the Save anyway"
            )
    message = f"{err.message.rstrip('.')}. {kept[0].upper()}{kept[1:]}"
    if err.refused:
        raise RejectedByTmsError(message, hint=err.hint) from err
    raise ServerError(message, hint=err.hint) from err


def _after_unclear_answer(
    driver: Driver,
    row: SiteRow,
    view: SiteView,
    err: SaveOutcomeUnknownError,
    expectation: Expectation,
    outcome: Outcome,
) -> None:
    """TMS answered the Save in a way after which it may have applied it: a re-read that proves the outcome
    decides (the verifier's answer stands), else the outcome is unknown (``err``, which says how to check)."""
    try:
        reread = driver.reopen(row)
    except TmsClientError as exc:
        raise OutcomeUnknownError(
            f"{err.message}; re-reading the site to check failed too ({exc.message})", hint=err.hint
        ) from err
    check = verify_site(reread, expectation)
    if check.level == CERTIFICATE:
        if check.ok:
            outcome.warnings.append(f"TMS answered the Save with {err.answer}; the re-read shows it stored it")
            outcome.verification = check
            return
        tp_check = next((c for c in check.checks if c.what == "certificate thumbprint"), None)
        if tp_check is None or tp_check.ok:
            check.raise_for_mismatch(row.name)
        raise VerificationFailedError(
            f"TMS answered the Save of site {row.name} with {err.answer}, and a re-read shows it did not store "
            f"the certificate ({tp_check.line() if tp_check else 'no thumbprint'})",
            hint="look at the site in TMS (`tmsclient show`) for what went wrong, then rerun the upload",
            details=[c.line() for c in check.mismatches],
        ) from err
    # fields-only: a field the Save changed that now shows its new value proves the Save ran (TMS stores all
    # of a Save or nothing of it); nothing else on a page without certificate details can tell.
    proof = [key for key, want in expectation.fields.items() if view.value(key) != want and reread.value(key) == want]
    if proof and check.ok:
        outcome.warnings.append(
            f"TMS answered the Save with {err.answer}; the re-read shows the changed fields "
            f"({', '.join(proof)}), so TMS applied it"
        )
        outcome.verification = check
        return
    raise err


def describe_upload(p: dict[str, Any], plan: Plan | None) -> str:
    """The human report of one target's upload."""
    site = f"{p['site']['host_name']}/{p['site']['site_name']}"
    action = p["action"]
    head = {
        "uploaded": f"uploaded {Path(p['pfx']).name} to site {site}",
        "unchanged": f"site {site} already has this certificate: nothing uploaded (use --reupload to upload anyway)",
        "dry-run": f"dry run: the Save of site {site} would change",
    }[action]
    lines = [head]
    acted = TmsIdentity(**p["tms"]).line() if p.get("tms") else None
    if acted:
        lines.append(f"  acted {acted}")
    if action == "dry-run" and plan is not None:
        lines += [f"  {r.line()}" for r in plan.rows]
    lines.append(
        f"  certificate: {p['subject']}, thumbprint {p['thumbprint_sha1']}, expires "
        f"{p['not_after'].strftime('%Y-%m-%d %H:%M:%SZ')}"
    )
    if p["verification"]:
        what = (
            "TMS shows the certificate's details and they match"
            if p["verification"] == "certificate"
            else "TMS shows no certificate details, so the certificate file itself could not be checked, only "
            "the fields; make a test booking with WebEx to be sure the new certificate is in use"
        )
        lines.append(f"  verification: {p['verification']} ({what})")
    if action == "uploaded":
        lines += [f"  changed {c['label']}: {c['before']} -> {c['after']}" for c in p["changes"]]
    if p["tms_message"]:
        lines.append(f"  TMS says: {p['tms_message']}")
    lines += [f"  warning: {w}" for w in p["warnings"]]
    lines.append(f"  {p['requests']} requests, {p['bytes_sent']} bytes sent, {p['elapsed_s']:.2f} s")
    return "\n".join(lines)
