"""`tmsclient prepare`: every step of a renewal up to the upload, into a directory, and a read-only preflight."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tmsclient.certs.compat import DEFAULT_TARGET_OS
from tmsclient.certs.pfxoptions import DEFAULT_FRIENDLY_NAME
from tmsclient.commands.bundle import KEY_PASSPHRASE
from tmsclient.commands.pool import Prepared, TargetOutcome, exit_code, render_table, rows, shared_context
from tmsclient.commands.pool import add_arguments as add_targets_arguments
from tmsclient.commands.prepared import (
    CER,
    CUTOVER_RECORD,
    FORMAT,
    HANDOFF_JSON,
    HANDOFF_TEXT,
    MANIFEST,
    PFX,
    PFX_PASSWORD_FILE,
    PREVIOUS_PASSWORD_FILE,
    PREVIOUS_PFX,
    ROLLBACK_RECORD,
    check_new_dir,
    command_line,
    create_dir,
    dump_json,
    handoff,
    handoff_text,
    iso,
    now_utc,
    secret_line,
    write_member,
)
from tmsclient.commands.sources import add_source_arguments, source_from_args
from tmsclient.config import TARGET_OS_CHOICES
from tmsclient.credentials import PFX_PASSWORD, SecretSpec, add_secret_arguments
from tmsclient.errors import CertificateUnfitError, TargetsFailedError, UsageError
from tmsclient.files import remove_quietly

if TYPE_CHECKING:
    from tmsclient.commands.context import Context

NAME = "prepare"
HELP = "the safe first half of a renewal: build the .pfx, .cer and hand-off note into a directory; preflight TMS"
DESCRIPTION = """\
The first side of the two-sided renewal (the WebEx team's step comes next, then `cutover`):

  1. prepare   (this command) from PEM files, a .pfx, or an ACME hook's inputs: check the certificate, build
               the Windows-compatible .pfx (its password generated, or the one given), the .cer for the WebEx
               team, a hand-off note (handoff.txt, handoff.json) and a manifest, into DIR (mode 0700, files
               0600); then a read-only preflight against each target: login, the site found, every field
               located, the certificate TMS shows today, the plan of the Save. Nothing is saved on TMS.
  2. hand off  send DIR/tms-cert.cer to the WebEx team as handoff.txt says (tmsclient sends no mail)
  3. cutover   when they confirm: `tmsclient cutover DIR` uploads exactly what was prepared, and verifies it
  4. rollback  if SSO fails: `tmsclient rollback DIR` puts back --previous-pfx (when it was kept)

DIR must be new or empty (--force replaces what an earlier prepare wrote there). If the preflight fails on any
target, nothing is written. --previous-pfx FILE keeps the .pfx TMS holds today (its password through
--previous-pfx-password-env/-file/-stdin) for a rollback. Passwords never go on the command line."""

PREVIOUS_PFX_PASSWORD = SecretSpec(
    "previous .pfx password", "previous-pfx-password", None, "Password of the previous .pfx (for a rollback)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="DIR", help="the directory to prepare into (new or empty)")
    add_source_arguments(parser)
    add_secret_arguments(parser, PFX_PASSWORD)
    add_secret_arguments(parser, KEY_PASSPHRASE)
    parser.add_argument("--force", action="store_true", help="replace DIR if it exists")
    parser.add_argument(
        "--previous-pfx", metavar="FILE", help="the .pfx TMS holds today, kept in DIR for `tmsclient rollback`"
    )
    add_secret_arguments(parser, PREVIOUS_PFX_PASSWORD, otherwise="a prompt on a terminal")
    parser.add_argument(
        "--handoff-to",
        metavar="TEXT",
        help="who gets the .cer, as the hand-off note names them (an address, a ticket queue); default: the WebEx "
        "Cloud Services team",
    )
    parser.add_argument(
        "--name", default=DEFAULT_FRIENDLY_NAME, help=f"friendly name in the new .pfx (default {DEFAULT_FRIENDLY_NAME})"
    )
    parser.add_argument(
        "--target-os", choices=TARGET_OS_CHOICES, default=None, help="Windows Server version of the TMS host"
    )
    parser.add_argument(
        "--warn-days", type=int, default=30, metavar="N", help="warn when the certificate expires within N days"
    )
    sso = parser.add_argument_group("SSO fields the cutover sets (changed only when given)")
    sso.add_argument("--enable-sso", action="store_true", help="set Use Single Sign On to Yes")
    sso.add_argument("--partner-name", metavar="TEXT", help="set SSO Partner Name")
    sso.add_argument("--account-name", metavar="TEXT", help="set SSO Account Name")
    sso.add_argument("--authn-context", metavar="TEXT", help="set SSO AuthnContextClassRef")
    add_targets_arguments(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from cryptography.hazmat.primitives import serialization

    from tmsclient import __version__
    from tmsclient.certs.loading import load_pfx_file
    from tmsclient.commands import renew_steps, staged_steps
    from tmsclient.commands.renew_steps import Outputs
    from tmsclient.tms.upload import judge_pfx

    started = now_utc()
    if args.warn_days < 0:
        raise UsageError(f"--warn-days {args.warn_days} is negative, expected 0 or more")
    directory = check_new_dir(args.dir, force=args.force)
    source = source_from_args(args, ctx.environ)
    many = staged_steps.targets_of(args, ctx, staged=False)
    rctx = shared_context(ctx)
    warnings: list[str] = []

    one = staged_steps.resolve(args, rctx, None, None) if many is None else None

    # The certificate side: the same steps as `renew`, all in memory until the preflight passed.
    material, _ = renew_steps.read_input(source, args, rctx)
    renew_steps.check(material, args.warn_days, warnings)
    memory = Outputs(pfx=None, cer=None, password_file=None, force=False)
    built, _ = renew_steps.build(material, args, rctx, memory)
    password_note = (
        f"generated, in {directory / PFX_PASSWORD_FILE} (mode 0600)"
        if built.password.source == "generated"
        else f"from {built.password.source}, copied to {directory / PFX_PASSWORD_FILE} (mode 0600)"
    )
    certificate = staged_steps.certificate_record(built.bundle)

    previous: dict[str, Any] | None = None
    previous_data = previous_password = None
    if args.previous_pfx:
        previous_password = rctx.secrets.resolve(PREVIOUS_PFX_PASSWORD, args)
        assert previous_password is not None
        old = load_pfx_file(args.previous_pfx, previous_password)
        previous_data = old.data
        previous = {
            "file": PREVIOUS_PFX,
            "password_file": PREVIOUS_PASSWORD_FILE,
            "from": str(args.previous_pfx),
            "certificate": staged_steps.certificate_record(old),
        }
        try:
            found = judge_pfx(
                old, one.target_os if one is not None else args.target_os or DEFAULT_TARGET_OS, skip=False
            )
        except CertificateUnfitError as unfit:  # a rollback refuses it; the renewal itself does not depend on it
            found = [f"{unfit.message}; `tmsclient rollback` will refuse it"]
        warnings += [f"the previous .pfx: {w}" for w in found]

    sso = {
        "enable_sso": args.enable_sso,
        "partner_name": args.partner_name,
        "account_name": args.account_name,
        "authn_context": args.authn_context,
    }
    job = staged_steps.job_for(built.bundle, built.password, PFX, str(directory / PFX), sso)
    judged: set[str] = set()

    def preflight_one(target: Any, _: None) -> Any:
        if target.target_os not in judged:
            for w in judge_pfx(built.bundle, target.target_os, skip=False):
                warnings.append(w)
            judged.add(target.target_os)
        return staged_steps.preflight(target, job)

    def prepare_target(name: str | None) -> Prepared[None]:
        return Prepared(one if one is not None else staged_steps.resolve(args, rctx, many, name), None)

    outcomes = staged_steps.run_all(many, prepare_target, preflight_one)
    flags = staged_steps.target_flags(args, outcomes)
    targets_json = [_target_json(o) for o in outcomes if o.status == "ok"]
    code = exit_code(outcomes)
    if code != 0:
        if many is None:
            failure = outcomes[0].error
            assert failure is not None
            raise failure
        table = rows(outcomes, lambda r: {"summary": _summary(r)})
        ctx.out.result(
            {"ok": False, "exit_code": code, "directory": str(directory), "written": False, "targets": table},
            render_table(table, [])
            + f"\nthe preflight failed: nothing was written to {directory}, nothing was saved on TMS",
        )
        ctx.out.stderr.write(
            "tmsclient: error: "
            + TargetsFailedError(
                f"the preflight failed on {sum(1 for o in outcomes if o.status != 'ok')} target(s)"
            ).diagnostics()
            + "\n"
        )
        return code
    for t in targets_json:
        installed = t["preflight"]["installed"]["thumbprint"]
        if (
            previous is not None
            and installed
            and not staged_steps.same_thumbprint(installed, previous["certificate"]["thumbprint_sha1"])
        ):
            warnings.append(
                f"target {t['name']}: TMS shows the certificate {installed}, but the previous .pfx holds "
                f"{previous['certificate']['thumbprint_sha1']}: a rollback would put back another certificate"
            )
        if t["preflight"]["already_installed"]:
            warnings.append(f"target {t['name']}: TMS already shows this certificate; the cutover will be unchanged")

    # Everything is known: write the directory. The manifest goes last, so a directory without one is never
    # taken for a prepared one.
    commands = {
        "cutover": command_line("cutover", directory, flags),
        "rollback": command_line("rollback", directory, flags) if previous is not None else None,
    }
    create_dir(directory)
    if args.force:  # what an earlier prepare (or its cutover) left must not pass for this one's
        for stale in (CUTOVER_RECORD, ROLLBACK_RECORD, PREVIOUS_PFX, PREVIOUS_PASSWORD_FILE, MANIFEST):
            remove_quietly(directory / stale)
    files: dict[str, Any] = {}
    files[PFX] = write_member(directory, PFX, built.bundle.data, force=args.force)
    files[PFX_PASSWORD_FILE] = write_member(directory, PFX_PASSWORD_FILE, secret_line(built.password), force=args.force)
    cer = material.ordered.leaf.public_bytes(serialization.Encoding.PEM)
    files[CER] = write_member(directory, CER, cer, force=args.force)
    if previous is not None:
        assert previous_data is not None and previous_password is not None
        files[PREVIOUS_PFX] = write_member(directory, PREVIOUS_PFX, previous_data, force=args.force)
        files[PREVIOUS_PASSWORD_FILE] = write_member(
            directory, PREVIOUS_PASSWORD_FILE, secret_line(previous_password), force=args.force
        )
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "tool": f"tmsclient {__version__}",
        "prepared_at": iso(started),
        "source": source.to_json(),
        "certificate": certificate,
        "pfx": {
            "file": PFX,
            "password_file": PFX_PASSWORD_FILE,
            "reencoded": built.reencoded,
            "password": password_note,
        },
        "cer": CER,
        "handoff_to": args.handoff_to,
        "upload": sso,
        "previous": previous,
        "targets": targets_json,
        "commands": commands,
        "files": files,
        "warnings": warnings,
    }
    note = handoff(manifest, directory)
    files[HANDOFF_JSON] = write_member(directory, HANDOFF_JSON, dump_json(note), force=args.force)
    files[HANDOFF_TEXT] = write_member(directory, HANDOFF_TEXT, handoff_text(note).encode("utf-8"), force=args.force)
    write_member(directory, MANIFEST, dump_json(manifest), force=args.force)
    payload = {
        "ok": True,
        "exit_code": 0,
        "directory": str(directory),
        "written": True,
        "certificate": certificate,
        "pfx": {"file": str(directory / PFX), "reencoded": built.reencoded, "password": password_note},
        "cer": str(directory / CER),
        "previous": previous,
        "targets": targets_json,
        "handoff": {"text": str(directory / HANDOFF_TEXT), "json": str(directory / HANDOFF_JSON), "note": note},
        "commands": commands,
        "warnings": warnings,
        "saves_sent": 0,
    }
    ctx.out.result(payload, _human(payload))
    return 0


def _target_json(o: TargetOutcome) -> dict[str, Any]:
    pre = o.result
    p = pre.result.payload
    reading = {
        **pre.reading,
        "settings_page": p["settings_page"],
        "page_profile": p["page_profile"],
        "requests": p["requests"],
        "warnings": p["warnings"],
    }
    return {"name": o.name, "url": o.url, "site": o.site, "preflight": reading}


def _summary(pre: Any) -> str:
    return f"site {pre.reading['site']}: preflight ok"


def _human(p: dict[str, Any]) -> str:
    c = p["certificate"]
    lines = [
        f"prepared {p['directory']} (nothing was saved on TMS)",
        f"  certificate  {c['subject']}, thumbprint {c['thumbprint_sha1']}, serial {c['serial']}, "
        f"valid until {c['not_after']}",
        f"  .pfx         {p['pfx']['file']} (mode 0600); password {p['pfx']['password']}",
        f"  .cer         {p['cer']}: send it to the WebEx team",
    ]
    prev = p["previous"]
    if prev:
        lines.append(
            f"  previous     kept for a rollback: thumbprint {prev['certificate']['thumbprint_sha1']}, "
            f"valid until {prev['certificate']['not_after']}"
        )
    else:
        lines.append("  previous     none kept (--previous-pfx): `tmsclient rollback` will refuse")
    lines.append("  preflight (read-only):")
    for t in p["targets"]:
        pre = t["preflight"]
        inst = pre["installed"]
        shown = (
            f"thumbprint {inst['thumbprint']}, expires {inst['expires'] or 'not shown'}"
            if inst["thumbprint"]
            else "no certificate details" + (f" (installed: {inst['installed']})" if inst["installed"] else "")
        )
        lines.append(
            f"    {t['name']}: {t['url']}, site {pre['site']}: login ok, site found, {len(pre['fields'])} fields "
            f"located, Save button {'found' if pre['save'] else 'missing'}; TMS shows {shown}"
        )
        lines.append("      the Save of the cutover will change:")
        lines += [f"        {r['label']}: {r['before']} -> {r['after']}" for r in pre["plan"]]
    lines += [
        f"  hand-off     {p['handoff']['text']} (and {Path(p['handoff']['json']).name}): what to send the WebEx team",
        f"  next         when the WebEx team confirms: {p['commands']['cutover']}",
    ]
    lines += [f"  warning: {w}" for w in p["warnings"]]
    return "\n".join(lines)
