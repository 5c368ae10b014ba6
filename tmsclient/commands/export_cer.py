"""`tmsclient export-cer FILE --out tms-cert.cer`: the Base64 PEM certificate for the WebEx team."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from tmsclient.credentials import PFX_PASSWORD, add_secret_arguments
from tmsclient.errors import UsageError
from tmsclient.files import ensure_writable, read_input_file, write_file_atomic

if TYPE_CHECKING:
    from tmsclient.commands.context import Context

NAME = "export-cer"
HELP = "write the certificate (no key) as a Base64 PEM .cer for the WebEx team; print thumbprint, serial"
DESCRIPTION = """\
Write the leaf certificate of a .pfx/.p12 (password needed) or of a PEM/DER certificate file as a Base64 PEM
.cer for the WebEx Cloud Services team, and print the thumbprint, serial number and expiry to send with it.
The output must end in .cer or .crt (unless --any-extension) and is never overwritten, unless --force."""

ALLOWED_SUFFIXES = (".cer", ".crt")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a .pfx/.p12, or a PEM/DER certificate file")
    parser.add_argument("--out", "-o", required=True, metavar="OUT.cer", help="the .cer/.crt file to write")
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    parser.add_argument(
        "--any-extension", action="store_true", help="write OUT even if its name does not end in .cer/.crt"
    )
    add_secret_arguments(parser, PFX_PASSWORD)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from cryptography.hazmat.primitives import serialization

    from tmsclient.certs.loading import kind_of, load_cert_bytes, load_pfx_bytes
    from tmsclient.certs.summary import summarize

    out = Path(args.out)
    if out.suffix.lower() not in ALLOWED_SUFFIXES and not args.any_extension:
        raise UsageError(
            f"--out {out} has the extension {out.suffix or '(none)'!s}, expected .cer or .crt",
            hint="name it like tms-cert.cer, or add --any-extension to write it anyway",
        )
    ensure_writable(out, force=args.force, what="output certificate")
    path = Path(args.file)
    data = read_input_file(path, "file")
    if kind_of(data, path) == "pkcs12":
        password = ctx.secrets.resolve(PFX_PASSWORD, args, allow_empty=True)
        assert password is not None
        cert = load_pfx_bytes(data, password, source=str(path), path=path).cert
    else:
        cert = load_cert_bytes(data, source=str(path), path=path).cert
    pem = cert.public_bytes(serialization.Encoding.PEM)
    write_file_atomic(out, pem, mode=0o644, force=args.force, what="output certificate")
    s = summarize(cert)
    state = s.validity()
    if state != "valid":
        ctx.out.warning(f"the certificate is {state} ({s.not_before:%Y-%m-%d} to {s.not_after:%Y-%m-%d})")
    payload = {
        "ok": True,
        "out": str(out),
        "format": "PEM (Base64)",
        "subject": s.subject,
        "thumbprint_sha1": s.thumbprint_sha1,
        "serial": s.serial,
        "not_before": s.not_before,
        "not_after": s.not_after,
        "days_left": s.days_left(),
        "sha256_fingerprint": s.sha256_fingerprint,
    }
    text = "\n".join(
        [
            f"wrote {out} (Base64 PEM certificate, no private key)",
            f"  subject:            {s.subject}",
            f"  thumbprint (SHA-1): {s.thumbprint_sha1}",
            f"  serial number:      {s.serial}",
            f"  expires:            {s.not_after:%Y-%m-%d %H:%M} UTC ({s.days_left()} days left)",
            "Send the file with the thumbprint, serial number and expiry to the WebEx Cloud Services team.",
        ]
    )
    ctx.out.result(payload, text)
    return 0
