"""The TMS side of `prepare`, `cutover` and `rollback`: the read-only preflight, the checked Save, the targets."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tmsclient.certs.loading import PfxBundle, load_pfx_bytes
from tmsclient.certs.summary import ThumbprintError, normalize_thumbprint, summarize
from tmsclient.commands.pool import (
    Prepared,
    Selection,
    TargetOutcome,
    run_one,
    run_targets,
    selection,
    shared_context,
)
from tmsclient.commands.prepared import (
    PageChangedError,
    PreparedDir,
    PreparedDirError,
    compare_pages,
    find_target,
    iso,
    now_utc,
)
from tmsclient.credentials import Secret
from tmsclient.errors import (
    AmbiguousMatchError,
    CertificateUnfitError,
    PageNotUnderstoodError,
    SiteNotFoundError,
    UsageError,
)
from tmsclient.settings import TargetSettings, resolve_target
from tmsclient.tms.pageprofile.matching import certificate_details, display_label
from tmsclient.tms.upload import UploadJob, UploadResult, judge_pfx, upload_to_target

if TYPE_CHECKING:
    from tmsclient.commands.context import Context
    from tmsclient.tms.driver import Plan, SiteView


def certificate_record(bundle: PfxBundle) -> dict[str, Any]:
    s = summarize(bundle.cert)
    return {
        "subject": s.subject,
        "issuer": s.issuer,
        "thumbprint_sha1": s.thumbprint_sha1,
        "serial": s.serial,
        "not_before": iso(s.not_before),
        "not_after": iso(s.not_after),
    }


def page_reading(view: SiteView, plan: Plan) -> dict[str, Any]:
    """What the site's page shows and what its Save would send (redacted): the preflight's record, and the
    reading `cutover` compares with it just before the Save."""
    details = certificate_details(view.page, view.profile)
    return {
        "read_at": iso(now_utc()),
        "site": view.row.name,
        "fields": {
            key: {
                "name": lf.field.name,
                "kind": lf.field.kind,
                "label": display_label(lf.field.labels[0]) if lf.field.labels else key,
                "found_by": lf.how,
            }
            for key, lf in view.fields.items()
        },
        "save": view.save.name if view.save is not None else None,
        "plan": [{"field": r.key, "label": r.label, "before": r.before, "after": r.after} for r in plan.rows],
        "installed": {
            "subject": details.subject,
            "expires": details.expires,
            "thumbprint": details.thumbprint,
            "serial": details.serial,
            "installed": details.installed,
        },
    }


def same_thumbprint(shown: str | None, thumbprint: str) -> bool:
    if not shown:
        return False
    try:
        return normalize_thumbprint(shown) == thumbprint
    except ThumbprintError:
        return False


# ------------------------------------------------------------------------------------------------ jobs


def job_for(bundle: PfxBundle, password: Secret, pfx_name: str, source: str, sso: Mapping[str, Any]) -> UploadJob:
    return UploadJob(
        pfx_name=pfx_name,
        pfx_source=source,
        bundle=bundle,
        password=password,
        enable_sso=bool(sso.get("enable_sso")),
        partner_name=sso.get("partner_name"),
        account_name=sso.get("account_name"),
        authn_context=sso.get("authn_context"),
    )


@dataclass(frozen=True)
class Preflight:
    """One target's read-only preflight."""

    result: UploadResult = field(repr=False)
    reading: Mapping[str, Any]


def preflight(target: TargetSettings, job: UploadJob) -> Preflight:
    """Everything `upload --dry-run --reupload` does: log in, find the page and the site, locate every field,
    build the Save; nothing is saved. The page as read is kept for `cutover` to compare with."""
    captured: dict[str, Any] = {}

    def keep(view: SiteView, plan: Plan) -> None:
        captured["reading"] = page_reading(view, plan)

    result = upload_to_target(target, dataclasses.replace(job, dry_run=True, force=True, check_plan=keep))
    reading = captured["reading"]
    thumbprint = summarize(job.bundle.cert).thumbprint_sha1
    reading["already_installed"] = same_thumbprint(reading["installed"]["thumbprint"], thumbprint)
    return Preflight(result, reading)


@dataclass(frozen=True)
class Switched:
    """One target's cutover (or rollback): the upload's report, the certificate TMS showed just before the Save,
    and what changed on the page since the preflight without breaking the plan."""

    result: UploadResult = field(repr=False)
    replaced: Mapping[str, Any] | None
    notes: tuple[str, ...]


def switch(target: TargetSettings, job: UploadJob, before: Mapping[str, Any] | None) -> Switched:
    """Upload and verify; with ``before`` (the preflight of `prepare`), the page read right before the Save must
    still fit the plan, else a PageChangedError and nothing is sent. An error before that check (a field no
    longer found, the site gone) is a changed page too: the preflight found them."""
    seen: dict[str, Any] = {}

    def check(view: SiteView, plan: Plan) -> None:
        now = page_reading(view, plan)
        seen["now"] = now
        if before is None:
            return
        breaks, notes = compare_pages(before, now)
        seen["notes"] = notes
        if breaks:
            raise PageChangedError(
                f"the page of site {view.row.name} on {target.name} changed since the preflight of "
                f"{before['read_at']}: {breaks[0]}; nothing was saved",
                hint="look at the page (`tmsclient discover`), then run `prepare` again",
                details=breaks[1:] + notes,
            )

    try:
        result = upload_to_target(target, dataclasses.replace(job, check_plan=check))
    except (PageNotUnderstoodError, SiteNotFoundError, AmbiguousMatchError) as err:
        if before is None or "now" in seen:
            raise
        raise PageChangedError(
            f"the page of {target.name} no longer fits the preflight of {before['read_at']}: {err.message}; "
            "nothing was saved",
            hint="look at the page (`tmsclient discover`), adjust the page profile if TMS changed, then run "
            "`prepare` again",
            details=err.details,
        ) from err
    now = seen.get("now")
    return Switched(result, now["installed"] if now else None, tuple(seen.get("notes", ())))


# ------------------------------------------------------------------------------------------------ targets


def targets_of(args: argparse.Namespace, ctx: Context, *, staged: bool) -> Selection | None:
    """The targets of the run, as `upload` takes them; ``staged``: one at a time, stop at the first failure."""
    if staged:
        if args.max_parallel not in (None, 1):
            raise UsageError(
                f"several targets go one at a time here (the staged rollout); got --max-parallel {args.max_parallel}",
                hint="drop --max-parallel",
            )
        args.stop_on_first_failure = True
    return selection(args, ctx)


def resolve(args: argparse.Namespace, ctx: Context, many: Selection | None, name: str | None) -> TargetSettings:
    return resolve_target(
        args,
        ctx,
        profile=name,
        several_targets=many is not None,
        need_password=True,
        config=many.config if many else None,
        required=("site",),
    )


def run_all(
    many: Selection | None,
    prepare: Callable[[str | None], Prepared[Any]],
    work: Callable[[TargetSettings, Any], Any],
) -> list[TargetOutcome]:
    """Each target's work as a row. One target: a failure to resolve it is the run's error (raised here)."""
    if many is None:
        ready = prepare(None)
        return [run_one(ready.target.name, lambda _name: ready, work)]
    return run_targets(many, prepare, work)


def target_flags(args: argparse.Namespace, outcomes: list[TargetOutcome]) -> list[str]:
    """The flags that name the same targets again, for the commands the reports print."""
    flags: list[str] = []
    if getattr(args, "config", None):
        flags += ["--config", args.config]
    if getattr(args, "all_profiles", False):
        return [*flags, "--all-profiles"]
    profiles = args.profile if isinstance(args.profile, list) else ([args.profile] if args.profile else [])
    if profiles:
        for p in profiles:
            flags += ["--profile", p]
        return flags
    if outcomes and outcomes[0].url:
        flags += ["--url", outcomes[0].url]
    if getattr(args, "username", None):
        flags += ["--username", args.username]
    if getattr(args, "ca_bundle", None):
        flags += ["--ca-bundle", args.ca_bundle]
    if outcomes and outcomes[0].site:
        flags += ["--site", outcomes[0].site]
    return flags


# ------------------------------------------------------------------------------------------------ the directory


def open_prepared_pfx(
    prepared: PreparedDir,
    name: str,
    password_file: str,
    expected: Mapping[str, Any],
    verified: Mapping[str, bytes] | None = None,
) -> tuple[PfxBundle, Secret]:
    """A .pfx of the directory, checked against the manifest (checksum) and opened: its certificate must be
    the one the manifest names. ``verified``: files already checked this run (`verify_all`), not read again."""
    verified = verified or {}
    data = verified[name] if name in verified else prepared.verified_bytes(name)
    password = prepared.verified_secret(password_file, f".pfx password of {name}", verified.get(password_file))
    bundle = load_pfx_bytes(data, password, source=str(prepared.path / name), path=prepared.path / name)
    got = summarize(bundle.cert).thumbprint_sha1
    if got != expected["thumbprint_sha1"]:
        raise PreparedDirError(
            f"{prepared.path / name} holds the certificate {got}, the manifest names {expected['thumbprint_sha1']}",
            hint="nothing was sent to TMS; run `prepare` again",
        )
    return bundle, password


def refuse_expired(bundle: PfxBundle, what: str, prepared: PreparedDir) -> None:
    """A certificate that has expired (or is not yet valid) is refused before any login; its own dates decide."""
    s = summarize(bundle.cert)
    now = now_utc()
    if now >= s.not_after:
        raise CertificateUnfitError(
            f"{what} in {prepared.path} expired on {iso(s.not_after)} (prepared on {prepared.manifest['prepared_at']})",
            hint="nothing was sent to TMS; renew the certificate and run `prepare` again",
        )
    if now < s.not_before:
        raise CertificateUnfitError(
            f"{what} in {prepared.path} is not valid before {iso(s.not_before)}",
            hint="nothing was sent to TMS; wait until then, or check this machine's clock",
        )


def judge_for(bundle: PfxBundle, target: TargetSettings) -> list[str]:
    return judge_pfx(bundle, target.target_os, skip=False)


@dataclass(frozen=True)
class Staged:
    """What `cutover` or `rollback` did on its targets, one at a time."""

    many: Selection | None
    outcomes: list[TargetOutcome]
    started: dt.datetime


def switch_all(
    args: argparse.Namespace,
    ctx: Context,
    prepared: PreparedDir,
    *,
    pfx: str,
    password_file: str,
    expected: Mapping[str, Any],
    what: str,
    sso: Mapping[str, Any],
    compare: bool,
    verified: Mapping[str, bytes] | None = None,
) -> Staged:
    """Put a .pfx of the directory on each prepared target, one at a time (the steps `cutover` and `rollback`
    share); ``compare``: the page read before the Save must still fit the target's preflight."""
    bundle, password = open_prepared_pfx(prepared, pfx, password_file, expected, verified)
    refuse_expired(bundle, what, prepared)
    many = targets_of(args, ctx, staged=True)
    rctx = ctx if many is None else shared_context(ctx)
    job = job_for(bundle, password, pfx, str(prepared.path / pfx), sso)

    def prepare(name: str | None) -> Prepared[Any]:
        target = resolve(args, rctx, many, name)
        entry = find_target(prepared, target.url, target.require("site"))
        for w in judge_for(bundle, target):
            ctx.out.warning(w)
        return Prepared(target, entry["preflight"] if compare else None)

    def work(target: TargetSettings, before: Mapping[str, Any] | None) -> Switched:
        return switch(target, job, before)

    started = now_utc()
    return Staged(many, run_all(many, prepare, work), started)
