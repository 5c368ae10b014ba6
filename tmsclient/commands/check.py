"""`tmsclient check FILE`: the upload preflight; exit 0 only if the .pfx is fit for TMS."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from tmsclient.certs.compat import DEFAULT_TARGET_OS, WINDOWS_VERSIONS
from tmsclient.credentials import PFX_PASSWORD, add_secret_arguments, scrub
from tmsclient.errors import PasswordError, UsageError
from tmsclient.exitcodes import ExitCode
from tmsclient.files import read_input_file

if TYPE_CHECKING:
    from tmsclient.commands.context import Context

NAME = "check"
HELP = "is this .pfx fit for TMS? key matches, valid now, RSA 2048+, importable on the target Windows"
DESCRIPTION = """\
The preflight the upload runs. Exit 0 when the .pfx is fit for TMS (warnings allowed), 5 when it is not,
4 when the password is wrong or missing. Each finding is one line with a stable code (see the docs)."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the .pfx/.p12 to check")
    add_secret_arguments(parser, PFX_PASSWORD)
    parser.add_argument(
        "--target-os",
        default=DEFAULT_TARGET_OS,
        choices=WINDOWS_VERSIONS,
        help=f"the Windows Server version TMS runs on (default {DEFAULT_TARGET_OS})",
    )
    parser.add_argument(
        "--warn-days",
        type=int,
        default=30,
        metavar="N",
        help="warn when the certificate expires within N days (default 30)",
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tmsclient.certs.checks import bad_password_report, check_bundle, os_name
    from tmsclient.certs.loading import MAX_PFX_BYTES, load_pfx_bytes, read_algorithms
    from tmsclient.certs.summary import summarize

    if args.warn_days < 0:
        raise UsageError(f"--warn-days {args.warn_days} is negative, expected 0 or more")
    path = Path(args.file)
    source = str(path)
    data = read_input_file(path, "PKCS#12 file", limit=MAX_PFX_BYTES)
    algorithms = read_algorithms(data, source)
    password = ctx.secrets.resolve(PFX_PASSWORD, args)
    assert password is not None  # required: a missing password raised PasswordError
    payload: dict[str, object] = {"file": source}
    error: PasswordError | None = None
    try:
        bundle = load_pfx_bytes(data, password, source=source, path=path)
    except PasswordError as err:
        rep = bad_password_report(algorithms, err.message, target_os=args.target_os)
        code = ExitCode.BAD_PASSWORD
        error = err
    else:
        rep = check_bundle(bundle, target_os=args.target_os, warn_days=args.warn_days)
        code = ExitCode.OK if rep.ok else ExitCode.CERT_UNFIT
        s = summarize(bundle.cert)
        payload.update(
            {
                "subject": s.subject,
                "thumbprint_sha1": s.thumbprint_sha1,
                "serial": s.serial,
                "not_after": s.not_after,
            }
        )
    payload = {"ok": rep.ok, **payload, **{k: v for k, v in rep.to_json().items() if k != "ok"}}
    n_err, n_warn = len(rep.errors), len(rep.warnings)
    verdict = "FIT" if rep.ok else "NOT FIT"
    head = (
        f"{source}: {verdict} for TMS on {os_name(rep.target_os)} "
        f"({n_err} error{'s' if n_err != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''})"
    )
    ctx.out.result(payload, "\n".join([head, *rep.lines()]))
    if error is not None:
        ctx.out.stderr.write(f"tmsclient: error: {scrub(error.diagnostics())}\n")
    return int(code)
