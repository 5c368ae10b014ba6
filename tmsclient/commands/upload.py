"""`tmsclient upload`: preflight the .pfx, log in, fill the site's SSO fields, Save once, re-read, verify."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tmsclient.commands.pool import Prepared, report, run_targets, selection, shared_context
from tmsclient.commands.pool import add_arguments as add_targets_arguments
from tmsclient.config import TARGET_OS_CHOICES
from tmsclient.credentials import PFX_PASSWORD, add_secret_arguments
from tmsclient.settings import resolve_target

if TYPE_CHECKING:
    from tmsclient.certs.loading import PfxBundle
    from tmsclient.commands.context import Context
    from tmsclient.tms.upload import UploadJob

NAME = "upload"
HELP = "upload a .pfx to a WebEx site's SSO settings on TMS, then verify it"
DESCRIPTION = """\
Renew the WebEx SSO certificate of one site: check the .pfx (the `check` rules for --target-os), log in to
TMS, follow Administrative Tools > Configuration > WebEx Settings (or --page-url), open the site's form, set
the certificate file and its password (and, when given, Use Single Sign On and the other SSO fields), Save
once, then re-read the form and verify. Nothing else on the page changes.

Idempotent: when TMS already shows the .pfx's thumbprint (and the asked-for fields), no Save is posted and
the action is `unchanged` (use --reupload to upload anyway). --dry-run stops before the Save and prints the plan.
The .pfx password comes from --pfx-password-env/-file/-stdin, $TMSCLIENT_PFX_PASSWORD, the config profile
(pfx_password) or a prompt; the TMS password likewise (--tms-password-*, $TMSCLIENT_TMS_PASSWORD, `password`),
never on the command line.

Several targets: --profile A --profile B (or --all-profiles) uploads to each profile's TMS with its own session
and credentials, at most --max-parallel at once, and prints one row per target; exit 24 if any failed.
--stop-on-first-failure goes one at a time in the given order and leaves the rest untouched after a failure."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pfx", metavar="FILE", help="the PKCS#12 file (.pfx/.p12) to upload")
    add_secret_arguments(parser, PFX_PASSWORD)
    parser.add_argument(
        "--target-os",
        choices=TARGET_OS_CHOICES,
        default=None,
        help="Windows Server version of the TMS host, for the preflight (default 2016)",
    )
    parser.add_argument(
        "--no-preflight",
        action="store_true",
        help="upload even when the preflight finds errors (TMS then judges the file itself)",
    )
    sso = parser.add_argument_group("SSO fields (changed only when given)")
    sso.add_argument("--enable-sso", action="store_true", help="set Use Single Sign On to Yes")
    sso.add_argument("--partner-name", metavar="TEXT", help="set SSO Partner Name")
    sso.add_argument("--account-name", metavar="TEXT", help="set SSO Account Name")
    sso.add_argument("--authn-context", metavar="TEXT", help="set SSO AuthnContextClassRef")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="do everything up to the Save and print the plan (field: before -> after)",
    )
    parser.add_argument("--reupload", action="store_true", help="upload even when TMS already shows this certificate")
    parser.add_argument(
        "--require-certificate",
        action="store_true",
        help="fail (exit 23) unless TMS shows the stored certificate's thumbprint, serial or expiry and they match",
    )
    add_targets_arguments(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tmsclient.certs.loading import load_pfx_file
    from tmsclient.tms.upload import UploadJob, judge_pfx, summary_row, upload_to_target

    many = selection(args, ctx)
    rctx = ctx if many is None else shared_context(ctx)
    opened: dict[tuple[Path, Any], PfxBundle] = {}
    judged: set[tuple[int, str]] = set()

    def prepare(name: str | None) -> Prepared[UploadJob]:
        """A target resolved and its .pfx preflighted: opened and judged by the `check` rules (once per file
        and Windows version), so an unfit file stops here, before any login."""
        target = resolve_target(
            args,
            rctx,
            profile=name,
            several_targets=many is not None,
            need_password=True,
            need_pfx_password=True,
            config=many.config if many else None,
            required=("site", "pfx"),
        )
        pfx_path = Path(target.require("pfx"))
        password = target.pfx_password
        assert password is not None  # resolved, or a PasswordError was raised
        key = (pfx_path.resolve(), password)
        if key not in opened:
            opened[key] = load_pfx_file(pfx_path, password)
        bundle = opened[key]
        if (id(bundle), target.target_os) not in judged:
            for warning in judge_pfx(bundle, target.target_os, skip=args.no_preflight):
                ctx.out.warning(warning)
            judged.add((id(bundle), target.target_os))
        return Prepared(
            target,
            UploadJob(
                pfx_name=pfx_path.name,
                pfx_source=str(pfx_path),
                bundle=bundle,
                password=password,
                enable_sso=args.enable_sso,
                partner_name=args.partner_name,
                account_name=args.account_name,
                authn_context=args.authn_context,
                dry_run=args.dry_run,
                force=args.reupload,
                no_preflight=args.no_preflight,
                require_certificate=args.require_certificate,
            ),
        )

    if many is None:
        one = prepare(None)
        result = upload_to_target(one.target, one.job)
        ctx.out.result(result.payload, result.human())
        return 0
    outcomes = run_targets(many, prepare, upload_to_target)
    payload, human = report(outcomes, summary_row, [("action", "action"), ("verification", "verification")])
    ctx.out.result(payload, human)
    return int(payload["exit_code"])
