"""`tmsclient inspect FILE`: everything about a .pfx or certificate, and what Windows will make of it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from tmsclient.credentials import PFX_PASSWORD, add_secret_arguments, scrub, secret_flags_given
from tmsclient.errors import PasswordError, UsageError
from tmsclient.files import read_input_file

if TYPE_CHECKING:
    from tmsclient.certs.loading import CertFile
    from tmsclient.commands.context import Context
    from tmsclient.credentials import Secret

NAME = "inspect"
HELP = "show a .pfx/.p12 or PEM/DER certificate: subject, thumbprint, validity, key, chain, PKCS#12 algorithms"
DESCRIPTION = """\
Show a .pfx/.p12 or a PEM/DER certificate: subject, issuer, serial, SHA-1 thumbprint (as Windows shows it),
SHA-256 fingerprint, validity, key, signature hash, SANs, key usages, friendly name, whether the private key
matches, the chain; for a .pfx also its MAC and encryption algorithms and whether each Windows Server version
can import it.

A .pfx's algorithms and Windows verdicts are read without the password. The certificate, key and chain need
it: from --pfx-password-env/--pfx-password-file/--pfx-password-stdin, $TMSCLIENT_PFX_PASSWORD, or a prompt on
a terminal (Enter skips it). Without a password inspect shows what it can and says so (exit 0); a wrong password
exits 4. An empty password from the environment or a file is tried as such."""

_LOCKED_NOTE = (
    "the certificate, private key and chain need the .pfx password (give it with $TMSCLIENT_PFX_PASSWORD, "
    "--pfx-password-env VAR, --pfx-password-file FILE or --pfx-password-stdin)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a .pfx/.p12, or a PEM/DER certificate (chain) file")
    add_secret_arguments(parser, PFX_PASSWORD)
    parser.add_argument(
        "--no-password",
        action="store_true",
        help="do not use or ask for a password; show only what a .pfx reveals without it",
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tmsclient.certs.inspection import from_bundle, from_cert_file, from_locked_pfx, render_text
    from tmsclient.certs.loading import kind_of, load_cert_bytes, load_pfx_bytes, read_algorithms
    from tmsclient.certs.parsing import load_private_key
    from tmsclient.certs.summary import key_matches

    if args.no_password and secret_flags_given(args, PFX_PASSWORD):
        raise UsageError("--no-password conflicts with --pfx-password-env/--pfx-password-file/--pfx-password-stdin")
    path = Path(args.file)
    source = str(path)
    data = read_input_file(path, "file")
    error: PasswordError | None = None
    if kind_of(data, path) != "pkcs12":
        cert_file = load_cert_bytes(data, source=source, path=path)
        notes = _cert_notes(ctx, path, cert_file)
        can_match = bool(cert_file.key_blocks) and not cert_file.key_encrypted
        matches = key_matches(load_private_key(data, source), cert_file.cert) if can_match else None
        ins = from_cert_file(cert_file, key_matches=matches, has_key=bool(cert_file.key_blocks), notes=notes)
    else:
        algorithms = read_algorithms(data, source)  # before the password: a damaged file fails without a prompt
        password = _pfx_password(args, ctx)
        if password is None:
            ins = from_locked_pfx(source, algorithms, notes=(_LOCKED_NOTE,))
        else:
            try:
                bundle = load_pfx_bytes(data, password, source=source, path=path)
            except PasswordError as err:
                # Still worth showing: the algorithms may be why Windows calls a right password wrong.
                ins, error = from_locked_pfx(source, algorithms, notes=(err.message,)), err
            else:
                extra = len(bundle.extra_certs)
                note = f"{extra} certificate(s) in the file are not on the leaf's chain"
                ins = from_bundle(bundle, notes=(note,) if extra else ())
    payload = ins.to_json()
    if error is not None:
        payload["error"] = error.to_json()
    ctx.out.result(payload, render_text(ins))
    if error is None:
        return 0
    ctx.out.stderr.write(f"tmsclient: error: {scrub(error.diagnostics())}\n")
    return int(error.exit_code)


def _pfx_password(args: argparse.Namespace, ctx: Context) -> Secret | None:
    """The .pfx password, or None to show only what needs none (--no-password, or Enter at the prompt)."""
    if args.no_password:
        return None
    password = ctx.secrets.resolve(PFX_PASSWORD, args, required=False, allow_empty=True)
    if password is not None and not password and password.source == "prompt":
        return None
    return password


def _cert_notes(ctx: Context, path: Path, cert_file: CertFile) -> tuple[str, ...]:
    notes: list[str] = []
    if path.suffix.lower() in (".pfx", ".p12"):
        text = (
            f"{cert_file.source} is named like a .pfx but is a {cert_file.format.upper()} certificate file, "
            "not PKCS#12; TMS needs a .pfx with the private key"
        )
        ctx.out.warning(text)
        notes.append(text)
    if cert_file.key_blocks and cert_file.key_encrypted:
        notes.append(
            "the private key in the file is encrypted and was not checked against the certificate "
            "(`tmsclient bundle` checks it)"
        )
    if cert_file.extra_certs:
        notes.append(f"{len(cert_file.extra_certs)} certificate(s) in the file are not on the leaf's chain")
    return tuple(notes)
