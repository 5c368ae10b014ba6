"""`tmsclient convert IN.pfx --out OUT.p12`: re-encode a .pfx into the form every Windows Server imports."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from tmsclient.certs.compat import import_verdicts
from tmsclient.certs.pfxoptions import (
    MODERN_WARNING,
    PfxEncryption,
    add_pfx_output_arguments,
    generate_password,
    output_options,
)
from tmsclient.credentials import OUT_PASSWORD, PFX_PASSWORD, SecretSpec, add_secret_arguments, secret_flags_given
from tmsclient.errors import CertificateUnfitError, PasswordError

if TYPE_CHECKING:
    from tmsclient.commands.context import Context

NAME = "convert"
HELP = "re-encode a .pfx (e.g. an AES256-SHA256 export) as 3DES + SHA-1 MAC, keeping key, chain and names"
DESCRIPTION = """\
Re-encode an existing .pfx/.p12, for example one exported as AES256-SHA256 from Windows Server 2019/2022,
into the form Windows Server 2012 R2/2016 imports (3DES, SHA-1 MAC, 2048 iterations), keeping the key, the
certificate, the chain and the friendly names.

IN.pfx's password comes from --in-password-env/-file/-stdin, $TMSCLIENT_PFX_PASSWORD or a prompt. The new file
gets the same password unless --out-password-env/-file/-stdin gives another (or --generate-password FILE makes
one)."""

IN_PASSWORD = SecretSpec(".pfx password", "in-password", PFX_PASSWORD.default_env, "Password of IN.pfx")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="IN.pfx", help="the .pfx/.p12 to re-encode")
    add_pfx_output_arguments(parser)
    parser.add_argument("--name", help="a new friendly name for the certificate (default: keep the old one)")
    add_secret_arguments(parser, IN_PASSWORD)
    add_secret_arguments(parser, OUT_PASSWORD, otherwise="IN.pfx's password")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tmsclient.certs.checks import check_contents
    from tmsclient.certs.loading import load_pfx_file
    from tmsclient.certs.pfxout import build_and_write
    from tmsclient.certs.summary import key_fingerprint

    options = output_options(args, OUT_PASSWORD)
    in_password = ctx.secrets.resolve(IN_PASSWORD, args, allow_empty=True)
    assert in_password is not None
    bundle = load_pfx_file(Path(args.file), in_password)
    if bundle.key is None:
        raise CertificateUnfitError(
            f"{bundle.source} holds no private key, so the result could not sign for TMS",
            hint="export the certificate together with its private key",
        )
    if not bundle.key_matches:
        raise CertificateUnfitError(
            f"the private key in {bundle.source} does not belong to its certificate: got a key with "
            f"public-key fingerprint {key_fingerprint(bundle.key)}, "
            f"expected {key_fingerprint(bundle.cert.public_key())}",
            hint="export the certificate together with its own private key",
        )
    if options.generate_password is not None:
        out_password = generate_password()
    elif secret_flags_given(args, OUT_PASSWORD):
        out_password = ctx.secrets.new_password(OUT_PASSWORD, args)
    else:
        out_password = in_password
        if not out_password:
            raise PasswordError(
                f"{bundle.source} has an empty password, and a .pfx for Windows needs one",
                hint="give a new one with --out-password-env/-file/-stdin or --generate-password",
            )
    if options.encryption is PfxEncryption.MODERN:
        ctx.out.warning(MODERN_WARNING)

    written = build_and_write(
        key=bundle.key,
        cert=bundle.cert,
        chain=bundle.chain + bundle.extra_certs,
        name=args.name if args.name is not None else bundle.friendly_name,
        chain_names=bundle.chain_friendly_names + bundle.extra_friendly_names,
        password=out_password,
        options=options,
    )
    before = {os: v.importable for os, v in import_verdicts(bundle.algorithms).items()}
    findings = check_contents(written.bundle.key, written.bundle.cert, written.bundle.chain_order)
    payload = written.to_json()
    payload["input"] = {
        "file": bundle.source,
        "pkcs12": bundle.algorithms.to_json(),
        "windows_import": before,
    }
    payload["findings"] = [f.to_json() for f in findings]
    was = ", ".join(os for os, ok in before.items() if ok) or "none"
    text = written.text([f.line() for f in findings], verb=f"converted {bundle.source} (Windows import: {was}) ->")
    ctx.out.result(payload, text)
    return 0
