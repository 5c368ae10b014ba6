"""`tmsclient verify`: read a site's form (read-only) and check it holds the given certificate, SSO on."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from tmsclient.credentials import PFX_PASSWORD, add_secret_arguments
from tmsclient.errors import VerificationFailedError
from tmsclient.settings import add_target_arguments, resolve_target

if TYPE_CHECKING:
    from tmsclient.commands.context import Context

NAME = "verify"
HELP = "check (read-only) that a WebEx site on TMS has this certificate and SSO on"
DESCRIPTION = """\
The verifier alone, for a pipeline step: log in, open the site's form and check that there is no error, Use
Single Sign On is Yes, the SSO fields given are as given, and, where TMS shows certificate details, that the
thumbprint and expiry are those of --pfx (or --cert, a .cer/.pem that needs no password). Nothing is posted
that changes anything. The verification level is `certificate` when TMS shows the details, else
`fields-only`; --require-certificate makes `fields-only` a failure. Exit 0 when everything matches, 23 with
"got X, expected Y" lines when not."""


def configure(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--pfx", metavar="FILE", help="the PKCS#12 file that should be on TMS")
    which.add_argument("--cert", metavar="FILE", help="or its certificate alone (.cer/.crt/.pem, no password needed)")
    add_secret_arguments(parser, PFX_PASSWORD)
    parser.add_argument("--partner-name", metavar="TEXT", help="SSO Partner Name must be TEXT")
    parser.add_argument("--account-name", metavar="TEXT", help="SSO Account Name must be TEXT")
    parser.add_argument("--authn-context", metavar="TEXT", help="SSO AuthnContextClassRef must be TEXT")
    parser.add_argument(
        "--require-certificate",
        action="store_true",
        help="fail unless TMS shows the certificate's thumbprint or expiry",
    )
    add_target_arguments(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tmsclient.certs.loading import load_cert_file, load_pfx_file
    from tmsclient.certs.summary import summarize
    from tmsclient.tms.driver import Driver
    from tmsclient.tms.pageprofile import load_profile
    from tmsclient.tms.session import TmsSession
    from tmsclient.tms.upload import open_site
    from tmsclient.tms.verifier import FIELDS_ONLY, Expectation, verify_site

    started = time.monotonic()
    with_pfx = not args.cert
    target = resolve_target(
        args, ctx, need_password=True, need_pfx_password=with_pfx, required=("site", "pfx") if with_pfx else ("site",)
    )
    site = target.require("site")
    if args.cert:
        cert = load_cert_file(args.cert).cert
        source = str(args.cert)
    else:
        pfx_path = target.require("pfx")
        assert target.pfx_password is not None  # resolved, or a PasswordError was raised
        cert = load_pfx_file(pfx_path, target.pfx_password).cert
        source = str(pfx_path)
    summary = summarize(cert)
    wanted = {
        k: v
        for k, v in (
            ("partner_name", args.partner_name),
            ("account_name", args.account_name),
            ("authn_context", args.authn_context),
        )
        if v is not None
    }
    expectation = Expectation(
        thumbprint_sha1=summary.thumbprint_sha1,
        not_after=summary.not_after,
        serial=summary.serial,
        sso_on=True,
        fields=wanted,
    )
    profile = load_profile(target.page_profile)
    with TmsSession(target) as session:
        driver = Driver(session, profile, page_url=target.page_url)
        row, view = open_site(driver, site)
        for key in wanted:
            view.require(key)
        result = verify_site(view, expectation)
        stats = session.stats
        identity = driver.identity()
    payload: dict[str, Any] = {
        "ok": result.ok,
        "verification": result.level,
        "tms": identity.to_json(),
        "site": {"host_name": row.host_name, "site_name": row.site_name},
        "url": target.url,
        "certificate_file": source,
        "subject": summary.subject,
        "thumbprint_sha1": summary.thumbprint_sha1,
        "not_after": summary.not_after,
        **{k: v for k, v in result.to_json().items() if k not in ("ok", "level")},
        "requests": stats.requests,
        "bytes_sent": stats.bytes_sent,
        "elapsed_s": round(time.monotonic() - started, 3),
    }
    if result.ok and args.require_certificate and result.level == FIELDS_ONLY:
        raise VerificationFailedError(
            f"site {row.name}: TMS shows no certificate thumbprint, serial number or expiry, so the certificate "
            "file itself could not be checked (--require-certificate); got fields-only, expected certificate",
            hint="make a test booking with WebEx to check the SSO login, or drop --require-certificate to "
            "accept a fields-only check",
        )
    result.raise_for_mismatch(row.name)
    lines = [f"site {row.name} verified ({result.level}) against {source}"]
    if identity.line():
        lines.append(f"  read {identity.line()}")
    lines += [f"  ok: {c.what}: {c.got}" for c in result.checks]
    lines += [f"  note: {n}" for n in result.notes]
    lines.append(f"  {stats.requests} requests, {payload['elapsed_s']:.2f} s")
    ctx.out.result(payload, "\n".join(lines))
    return 0
