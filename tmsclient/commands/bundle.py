"""`tmsclient bundle`: join a certificate, its key and chain into a .pfx every Windows Server imports."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from tmsclient.certs.pfxoptions import (
    DEFAULT_FRIENDLY_NAME,
    MODERN_WARNING,
    PfxEncryption,
    add_pfx_output_arguments,
    generate_password,
    output_options,
)
from tmsclient.credentials import OUT_PASSWORD, PFX_PASSWORD, SecretSpec, add_secret_arguments
from tmsclient.errors import CertificateUnfitError, InputFileError, UsageError
from tmsclient.files import read_input_file

if TYPE_CHECKING:
    from cryptography import x509

    from tmsclient.commands.context import Context

NAME = "bundle"
HELP = "join certificate + private key (+ chain) into a Windows-compatible .pfx (openssl pkcs12 -export, safely)"
DESCRIPTION = """\
Does what `openssl pkcs12 -export -inkey KEY -in CERT -certfile CHAIN -out OUT -name NAME` does, safely:
PEM or DER input (CRLF and byte-order marks are fine), a certificate file that also holds the chain (or the
key), an encrypted key (PKCS#8 or traditional; passphrase from --key-passphrase-env/-file/-stdin or a prompt),
the chain ordered leaf to root, a key that does not match refused. Writes 3DES + SHA-1 MAC with 2048
iterations by default, which every Windows Server imports; atomically, mode 0600, never over an existing file
without --force.
The new .pfx's password comes from --out-password-env/-file/-stdin, $TMSCLIENT_PFX_PASSWORD (which the commands
that read the .pfx take next), a prompt (asked twice), or --generate-password FILE."""

KEY_PASSPHRASE = SecretSpec(
    "private key passphrase", "key-passphrase", "TMSCLIENT_KEY_PASSPHRASE", "Passphrase of the private key"
)
#: The new .pfx's password falls back to $TMSCLIENT_PFX_PASSWORD: the variable `upload` then reads it from.
NEW_PFX_PASSWORD = replace(OUT_PASSWORD, default_env=PFX_PASSWORD.default_env)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cert",
        "-c",
        required=True,
        metavar="CERT",
        help="the certificate (PEM or DER); may also hold the chain and the key",
    )
    parser.add_argument(
        "--key",
        "-k",
        metavar="KEY",
        help="the private key (PEM or DER, PKCS#8 or traditional, encrypted or not); default: the key in CERT",
    )
    parser.add_argument(
        "--chain",
        action="append",
        default=[],
        metavar="CHAIN",
        help="intermediate/root certificates (PEM, DER or PKCS#7); repeatable",
    )
    parser.add_argument(
        "--name",
        default=DEFAULT_FRIENDLY_NAME,
        help=f"friendly name of the certificate in the .pfx (default {DEFAULT_FRIENDLY_NAME})",
    )
    add_pfx_output_arguments(parser)
    add_secret_arguments(parser, NEW_PFX_PASSWORD)
    add_secret_arguments(parser, KEY_PASSPHRASE)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from tmsclient.certs.chain import order_chain
    from tmsclient.certs.checks import check_contents
    from tmsclient.certs.loading import is_pkcs12
    from tmsclient.certs.parsing import find_private_key_blocks, load_certificates, load_private_key
    from tmsclient.certs.pfxout import build_and_write
    from tmsclient.certs.summary import key_fingerprint, key_matches

    options = output_options(args, NEW_PFX_PASSWORD)

    cert_path = Path(args.cert)
    cert_data = read_input_file(cert_path, "certificate file")
    if is_pkcs12(cert_data):
        raise InputFileError(
            f"{cert_path} is already a PKCS#12 file", hint="use `tmsclient convert` to re-encode a .pfx"
        )
    certs = load_certificates(cert_data, str(cert_path))
    chain_certs: list[x509.Certificate] = []
    for chain_file in args.chain:
        chain_certs += load_certificates(read_input_file(chain_file, "chain file"), str(chain_file))

    if args.key:
        key_path = Path(args.key)
        key_data = read_input_file(key_path, "private key file")
    else:
        if not find_private_key_blocks(cert_data):
            raise UsageError(f"no --key given and {cert_path} holds no private key", hint="add --key KEY")
        key_path, key_data = cert_path, cert_data

    passphrase = ctx.secrets.when_needed(
        KEY_PASSPHRASE, args, f"the private key in {key_path} is encrypted and no passphrase was given"
    )
    key = load_private_key(key_data, str(key_path), passphrase)
    matching = [c for c in certs if key_matches(key, c)]
    if not matching:
        in_chain = [c for c in chain_certs if key_matches(key, c)]
        where = f" (it belongs to {in_chain[0].subject.rfc4514_string()} from --chain)" if in_chain else ""
        raise CertificateUnfitError(
            f"the private key in {key_path} does not belong to the certificate in {cert_path}: got a key "
            f"with public-key fingerprint {key_fingerprint(key)}, "
            f"expected {key_fingerprint(certs[0].public_key())} "
            f"({certs[0].subject.rfc4514_string()}){where}",
            hint="give the key that made the certificate signing request for this certificate",
        )
    leaf = matching[0]
    ordered = order_chain(leaf, [c for c in certs if c is not leaf] + chain_certs)
    for cert in ordered.unrelated:
        ctx.out.warning(
            f"left out {cert.subject.rfc4514_string()}: it is not on the chain of {leaf.subject.rfc4514_string()}"
        )
    for link in ordered.broken_links:
        ctx.out.warning(
            f"chain link does not verify: {link.subject} is not signed by the key of the given {link.issuer} "
            "certificate (a wrong or re-keyed CA certificate?)"
        )
    if options.encryption is PfxEncryption.MODERN:
        ctx.out.warning(MODERN_WARNING)

    password = generate_password() if options.generate_password else ctx.secrets.new_password(NEW_PFX_PASSWORD, args)
    written = build_and_write(
        key=key,
        cert=leaf,
        chain=ordered.chain,
        name=args.name or None,
        chain_names=None,
        password=password,
        options=options,
    )
    findings = check_contents(key, leaf, ordered)
    payload = written.to_json()
    payload["findings"] = [f.to_json() for f in findings]
    ctx.out.result(payload, written.text([f.line() for f in findings]))
    return 0
